from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "delegate.accounts"
    label = "accounts"
