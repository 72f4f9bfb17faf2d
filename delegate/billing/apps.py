from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "delegate.billing"
    label = "billing"
