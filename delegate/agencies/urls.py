from django.urls import path

from delegate.agencies import views

app_name = "agencies"

urlpatterns = [
    path("", views.team, name="team"),
    path("new/", views.member_add, name="member_add"),
    path("settings/", views.agency_settings, name="settings"),
    path("hours-row/", views.hours_row, name="hours_row"),
    path("me/absences/", views.my_absences, name="my_absences"),
    path(
        "me/absences/<uuid:absence_id>/delete/",
        views.my_absence_delete,
        name="my_absence_delete",
    ),
    path("absences/<uuid:absence_id>/delete/", views.absence_delete, name="absence_delete"),
    path("<uuid:member_id>/", views.member_detail, name="member"),
    path("<uuid:member_id>/role/", views.member_update, name="member_update"),
    path("<uuid:member_id>/profile/", views.profile_update, name="profile_update"),
    path("<uuid:member_id>/skills/", views.skills_update, name="skills_update"),
    path("<uuid:member_id>/hours/", views.hours_update, name="hours_update"),
    path("<uuid:member_id>/absences/", views.absence_add, name="absence_add"),
]
