from django.apps import AppConfig


class TimetrackingConfig(AppConfig):
    name = "delegate.timetracking"
    label = "timetracking"
