from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "delegate.intake"
    label = "intake"

    def ready(self) -> None:
        from delegate.intake.outbound import client_mail_headers, send_channel_reply
        from delegate.tasks.notifications import CLIENT_HEADER_HOOKS, EVENT_HOOKS

        if client_mail_headers not in CLIENT_HEADER_HOOKS:
            CLIENT_HEADER_HOOKS.append(client_mail_headers)
        if send_channel_reply not in EVENT_HOOKS:
            EVENT_HOOKS.append(send_channel_reply)
