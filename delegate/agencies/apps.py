from django.apps import AppConfig


class AgenciesConfig(AppConfig):
    name = "delegate.agencies"
    label = "agencies"
