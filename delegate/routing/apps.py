from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "delegate.routing"
    label = "routing"
