from django.contrib import admin

from delegate.agencies.models import Agency, Member


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "slug", "country", "currency", "created_at")
    search_fields = ("name", "slug")


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("user", "agency", "role", "is_active")
    list_filter = ("role", "is_active")
    raw_id_fields = ("user", "agency")
