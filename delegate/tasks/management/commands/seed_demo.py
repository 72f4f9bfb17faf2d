from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from delegate.tasks import demo


class Command(BaseCommand):
    help = "Create the demo agency (once) and print the demo logins."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--tasks", type=int, default=200)

    def handle(self, *args: Any, **options: Any) -> None:
        if demo.demo_exists():
            self.stdout.write("Demo agency exists; nothing created.")
        else:
            agency = demo.create_demo(tasks=options["tasks"])
            self.stdout.write(self.style.SUCCESS(f"Created demo agency {agency.name}."))
        self.stdout.write(f"Demo logins (password: {demo.DEMO_PASSWORD}):")
        for login in demo.demo_logins():
            self.stdout.write(f"  {login.email:38} {login.role}")
        self.stdout.write(f"Outgoing mail without EMAIL_HOST: {settings.DATA_DIR / 'outbox'}")
