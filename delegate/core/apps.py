from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "delegate.core"
    label = "core"
