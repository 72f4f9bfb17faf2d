from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "delegate.portal"
    label = "portal"
