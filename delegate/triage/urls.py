from django.urls import path

from delegate.triage import views

app_name = "triage"

urlpatterns = [
    path("tasks/<uuid:task_id>/triage/", views.correct, name="correct"),
]
