"""Verify the hash chain and the number series of every issuer (or one agency's)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from delegate.billing.invoicing import verify_chain
from delegate.billing.models import Issuer


class Command(BaseCommand):
    help = "Check that no issued invoice was changed, removed or skipped without a reason."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--agency", help="only this agency (slug)")

    def handle(self, *args: Any, **options: Any) -> None:
        issuers = Issuer.objects.select_related("agency").order_by("agency__slug", "number_prefix")
        if options["agency"]:
            issuers = issuers.filter(agency__slug=options["agency"])
        problems = []
        for issuer in issuers:
            found = verify_chain(issuer)
            count = issuer.invoices.exclude(status="draft").count()
            state = "ok" if not found else f"{len(found)} problem(s)"
            self.stdout.write(
                f"{issuer.agency.slug} {issuer.number_prefix}: {count} issued, {state}"
            )
            problems += [f"{issuer.agency.slug} {line}" for line in found]
        for line in problems:
            self.stderr.write(line)
        if problems:
            raise CommandError(f"{len(problems)} problem(s) in the invoice chain")
