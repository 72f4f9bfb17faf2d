from django.urls import path

from delegate.intake import hooks

app_name = "hooks"

urlpatterns = [
    path("twilio/sms/", hooks.twilio_sms, name="twilio_sms"),
    path("twilio/status/", hooks.twilio_status, name="twilio_status"),
    path("telegram/", hooks.telegram, name="telegram"),
]
