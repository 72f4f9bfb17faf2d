from django.contrib.auth import views as auth_views
from django.urls import path

from delegate.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("agency/", views.switch_agency, name="switch_agency"),
    path("no-access/", views.no_access, name="no_access"),
]
