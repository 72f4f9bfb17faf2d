from django.apps import AppConfig


class TriageConfig(AppConfig):
    name = "delegate.triage"
    label = "triage"
    verbose_name = "Triage"
