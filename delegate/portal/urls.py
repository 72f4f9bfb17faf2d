from django.urls import path

from delegate.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("tasks/<uuid:task_id>/", views.task, name="task"),
    path("tasks/<uuid:task_id>/reply/", views.reply, name="reply"),
    path("tasks/<uuid:task_id>/cancel/", views.cancel, name="cancel"),
    path(
        "tasks/<uuid:task_id>/attachments/<uuid:attachment_id>/",
        views.attachment,
        name="attachment",
    ),
]
