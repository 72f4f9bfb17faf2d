from __future__ import annotations

import getpass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from delegate.accounts.models import User
from delegate.agencies import services as agency_services
from delegate.tasks.categories import ensure_default_categories


class Command(BaseCommand):
    help = (
        "Open a new agency with its owner (creating the owner's login if needed) and the "
        "default task categories."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--name", required=True)
        parser.add_argument("--slug", default="")
        parser.add_argument("--owner-email", required=True)
        parser.add_argument("--owner-name", default="")
        parser.add_argument("--country", default="DE")
        parser.add_argument("--time-zone", default="Europe/Berlin")
        parser.add_argument("--language", default="de", choices=["de", "en"])
        parser.add_argument(
            "--password",
            default=None,
            help="for a new owner login; asked for interactively if left out",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        email = options["owner_email"].strip().lower()
        user = User.objects.filter(email=email).first()
        password = options["password"]
        if user is None and password is None:
            if not options.get("interactive", True) or not self.stdin_is_tty():
                raise CommandError("--password is needed for a new owner login")
            password = getpass.getpass(f"Password for {email}: ")
        try:
            with transaction.atomic():
                if user is None:
                    user = User.objects.create_user(
                        email, password, name=options["owner_name"] or email.split("@")[0]
                    )
                owner = agency_services.create_agency(
                    user,
                    name=options["name"],
                    slug=options["slug"],
                    country=options["country"],
                    time_zone=options["time_zone"],
                    default_language=options["language"],
                )
                ensure_default_categories(owner.agency)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(
            self.style.SUCCESS(f"Agency {owner.agency.name} ({owner.agency.slug}) opened; ")
            + f"owner {user.email}."
        )

    @staticmethod
    def stdin_is_tty() -> bool:
        import sys

        return sys.stdin.isatty()
