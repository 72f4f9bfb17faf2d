from typing import Any

from django.contrib import admin

from delegate.scheduling.models import Booking, Calendar, EventType


@admin.register(Calendar)
class CalendarAdmin(admin.ModelAdmin[Any]):
    list_display = ("name", "agency", "client", "member", "source", "last_synced_at")
    list_filter = ("source",)
    raw_id_fields = ("agency", "client", "member")
    # Credentials and the feed secret are not shown.
    exclude = ("password", "feed_token", "sync_token")


@admin.register(EventType)
class EventTypeAdmin(admin.ModelAdmin[Any]):
    list_display = ("name", "agency", "client", "duration_minutes", "is_active")
    raw_id_fields = ("agency", "client", "target_calendar")


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin[Any]):
    list_display = ("starts_at", "name", "email", "event_type", "status")
    list_filter = ("status",)
    raw_id_fields = ("agency", "event_type", "event")
