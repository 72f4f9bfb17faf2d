from django.urls import path

from delegate.agencies import views

app_name = "agencies"

urlpatterns = [
    path("", views.team, name="team"),
]
