from django.urls import path

from delegate.scheduling import public_views, views

app_name = "scheduling"

urlpatterns = [
    path("calendars/", views.calendar_list, name="calendars"),
    path("calendars/new/", views.calendar_create, name="calendar_create"),
    path("calendars/<uuid:calendar_id>/", views.calendar_detail, name="calendar"),
    path("calendars/<uuid:calendar_id>/sync/", views.calendar_sync, name="calendar_sync"),
    path("events/<uuid:event_id>/delete/", views.event_delete, name="event_delete"),
    path("events/<uuid:event_id>/skip/", views.occurrence_skip, name="occurrence_skip"),
    path("events/<uuid:event_id>/edit/", views.event_edit, name="event_edit"),
    path("events/<uuid:event_id>/move/", views.occurrence_move, name="occurrence_move"),
    path(
        "clients/<uuid:client_id>/booking-pages/new/",
        views.event_type_create,
        name="event_type_create",
    ),
    path("booking-pages/<uuid:event_type_id>/", views.event_type_edit, name="event_type"),
    path("tasks/<uuid:task_id>/appointment/", views.task_appointment, name="task_appointment"),
]

public_urlpatterns = [
    path("<slug:slug>/", public_views.booking_page, name="page"),
    path("<slug:slug>/confirm/", public_views.booking_form, name="form"),
    path("manage/<str:token>/", public_views.manage_booking, name="manage"),
    path("feed/<str:token>.ics", public_views.calendar_feed, name="feed"),
]
