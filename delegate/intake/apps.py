from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "delegate.intake"
    label = "intake"
