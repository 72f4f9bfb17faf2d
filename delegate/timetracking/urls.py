from django.urls import path

from delegate.timetracking import views

app_name = "timetracking"

urlpatterns = [
    path("approvals/", views.approvals, name="approvals"),
    path("tasks/<uuid:task_id>/", views.task_time, name="task_time"),
    path("tasks/<uuid:task_id>/start/", views.start, name="start"),
    path("tasks/<uuid:task_id>/stop/", views.stop, name="stop"),
    path("tasks/<uuid:task_id>/log/", views.log, name="log"),
    path("entries/<uuid:entry_id>/edit/", views.edit_entry, name="edit_entry"),
    path("entries/<uuid:entry_id>/delete/", views.delete_entry, name="delete_entry"),
]
