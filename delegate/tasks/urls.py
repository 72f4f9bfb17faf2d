from django.urls import path

from delegate.tasks import views

app_name = "tasks"

urlpatterns = [
    path("desk/", views.queue, name="queue"),
    path("dispatch/", views.dispatch, name="dispatch"),
    path("dispatch/<uuid:task_id>/assign/", views.quick_assign, name="quick_assign"),
    path("tasks/new/", views.new, name="new"),
    path("tasks/<uuid:task_id>/", views.detail, name="detail"),
    path("tasks/<uuid:task_id>/reply/", views.reply, name="reply"),
    path("tasks/<uuid:task_id>/note/", views.note, name="note"),
    path("tasks/<uuid:task_id>/status/", views.change_task_status, name="status"),
    path("tasks/<uuid:task_id>/assign/", views.assign, name="assign"),
    path("tasks/<uuid:task_id>/edit/", views.edit, name="edit"),
    path(
        "tasks/<uuid:task_id>/attachments/<uuid:attachment_id>/",
        views.attachment,
        name="attachment",
    ),
]
