from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "delegate.clients"
    label = "clients"
