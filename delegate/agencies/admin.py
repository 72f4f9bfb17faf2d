from typing import Any

from django.contrib import admin

from delegate.agencies.models import Agency, Member


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin[Any]):
    list_display = ("name", "slug", "country", "currency", "created_at")
    search_fields = ("name", "slug")


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin[Any]):
    list_display = ("user", "agency", "role", "is_active")
    list_filter = ("role", "is_active")
    raw_id_fields = ("user", "agency")
