from django.urls import path

from delegate.intake import views

app_name = "intake"

urlpatterns = [
    path("", views.inbound_list, name="list"),
    path("<uuid:inbound_id>/", views.inbound_detail, name="detail"),
    path("<uuid:inbound_id>/raw/", views.inbound_raw, name="raw"),
    path("<uuid:inbound_id>/retry/", views.retry, name="retry"),
    path("<uuid:inbound_id>/release/", views.release, name="release"),
    path("<uuid:inbound_id>/reject/", views.reject, name="reject"),
    path("telegram/link/", views.telegram_link, name="telegram_link"),
]
