from django.apps import AppConfig


class TasksConfig(AppConfig):
    name = "delegate.tasks"
    label = "tasks"
