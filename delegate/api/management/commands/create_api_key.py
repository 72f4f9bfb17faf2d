from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from delegate.agencies.models import Member
from delegate.api.models import ApiKey
from delegate.api.services import create_api_key


class Command(BaseCommand):
    help = (
        "Create an API key that acts as a member of an agency, with that member's role. "
        "Prints the token once: it is not stored and cannot be shown again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--agency", required=True, help="the agency's slug")
        parser.add_argument("--member", required=True, help="email of the acting member")
        parser.add_argument("--name", required=True, help="what the key is for")
        parser.add_argument("--scope", choices=ApiKey.Scope.values, default=ApiKey.Scope.READ_ONLY)
        parser.add_argument(
            "--quiet", action="store_true", help="print only the token (for scripts)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        member = (
            Member.objects.select_related("agency", "user")
            .filter(agency__slug=options["agency"], user__email=options["member"].lower())
            .first()
        )
        if member is None:
            raise CommandError(
                f"{options['member']} is not a member of agency {options['agency']!r}"
            )
        if not member.is_active:
            raise CommandError(f"{options['member']} is not an active member")
        try:
            key, token = create_api_key(member, name=options["name"], scope=options["scope"])
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        if options["quiet"]:
            self.stdout.write(token)
            return
        self.stdout.write(
            f"API key {key.name!r} ({key.scope}) for {member.agency.name}, "
            f"acting as {member.name} ({member.role}):"
        )
        self.stdout.write(token)
        self.stdout.write("Store it now: it will not be shown again.")
