from typing import Any

from django.contrib import admin

from delegate.accounts.models import User


@admin.register(User)
class UserAdmin(admin.ModelAdmin[Any]):
    list_display = ("email", "name", "is_active", "is_staff", "date_joined")
    search_fields = ("email", "name")
    exclude = ("password",)
