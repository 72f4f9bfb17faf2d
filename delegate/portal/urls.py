from django.urls import path

from delegate.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("tasks/<uuid:task_id>/", views.task, name="task"),
]
