from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "delegate.api"
    label = "api"
