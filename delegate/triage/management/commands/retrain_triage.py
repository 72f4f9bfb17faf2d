"""Retrain the triage category classifier of one agency or of every agency with new
corrections. A candidate replaces the model in use only if it scores better on the
agency's held-out corrections."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from delegate.agencies.models import Agency
from delegate.triage import services


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--agency", help="slug of one agency (default: all with new corrections)"
        )

    def handle(self, *args: Any, agency: str | None = None, **options: Any) -> None:
        if agency:
            found = Agency.objects.filter(slug=agency).first()
            if found is None:
                raise CommandError(f"No agency with the slug {agency!r}")
            outcomes = [services.retrain_agency(found)]
        else:
            outcomes = services.retrain_all()
        if not outcomes:
            self.stdout.write("No agency has new corrections.")
        for outcome in outcomes:
            self.stdout.write(
                f"{outcome.agency}: {outcome.status} ({outcome.corrections} corrections, "
                f"{outcome.holdout} held out; candidate {outcome.candidate_accuracy:.0%} vs "
                f"in use {outcome.current_accuracy:.0%})"
            )
