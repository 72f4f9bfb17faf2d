"""Issued invoices are read-only in the admin too (and the database refuses changes);
contract versions in force are read-only as well."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils import timezone

from delegate.billing.models import Contract, Invoice, InvoiceLine, Issuer


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin[Any]):
    list_display = ("number", "agency", "issuer", "recipient_name", "status", "gross_total")
    list_filter = ("status", "kind")
    search_fields = ("number", "recipient_name")
    raw_id_fields = ("agency", "issuer", "client", "corrects", "issued_by")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None or obj.is_draft

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None or obj.is_draft

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        # Bulk deletion from the list: only drafts can go.
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        if any(not obj.is_draft for obj in objs):
            perms_needed = {*perms_needed, "issued invoice"}
        return deleted, model_count, perms_needed, protected


@admin.register(InvoiceLine)
class InvoiceLineAdmin(admin.ModelAdmin[Any]):
    list_display = ("invoice", "position", "description", "net_amount")
    raw_id_fields = ("agency", "invoice")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None or obj.invoice.is_draft

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None or obj.invoice.is_draft


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin[Any]):
    """Contract versions are read-only here: a change is a new version made through
    ``services.create_contract``, which checks the start month (not past, not invoiced,
    in the client's time zone) under the client's lock."""

    list_display = ("client", "starts_on", "hourly_rate", "package_hours")
    raw_id_fields = ("agency", "client")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None or obj.starts_on > timezone.localdate()


admin.site.register(Issuer)
