from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from delegate.agencies.models import Agency
from delegate.billing.demo import create_billing_demo
from delegate.tasks.demo import DEMO_SLUG


class Command(BaseCommand):
    help = "Add the billing demo (issuer, contracts, approved time) to the demo agency once."

    def handle(self, *args: Any, **options: Any) -> None:
        agency = Agency.objects.filter(slug=DEMO_SLUG).first()
        if agency is None:
            self.stdout.write("No demo agency; run seed_demo first.")
        elif create_billing_demo(agency):
            self.stdout.write(self.style.SUCCESS("Added the billing demo."))
        else:
            self.stdout.write("Billing demo exists; nothing added.")
