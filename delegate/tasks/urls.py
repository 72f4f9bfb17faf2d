from django.urls import path

from delegate.tasks import views

app_name = "tasks"

urlpatterns = [
    path("desk/", views.queue, name="queue"),
    path("dispatch/", views.dispatch, name="dispatch"),
    path("tasks/<uuid:task_id>/", views.detail, name="detail"),
]
