"""``manage.py intake_retry``: process failed inbound messages again."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from delegate.intake import services
from delegate.intake.models import InboundMessage


class Command(BaseCommand):
    help = "Retry failed inbound messages: the ones named by id, or --all-failed."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("ids", nargs="*", help="inbound message ids")
        parser.add_argument("--all-failed", action="store_true", help="every failed message")
        parser.add_argument(
            "--now", action="store_true", help="process here instead of enqueueing for a worker"
        )

    def handle(self, *args: Any, ids: list[str], all_failed: bool, now: bool, **opts: Any) -> None:
        if not ids and not all_failed:
            raise CommandError("name inbound message ids or pass --all-failed")
        messages = InboundMessage.objects.filter(state=InboundMessage.State.FAILED)
        if ids:
            messages = InboundMessage.objects.filter(pk__in=ids)
        count = 0
        for inbound in messages.order_by("received_at"):
            try:
                services.retry_inbound(None, inbound)
            except services.InboundRefused as exc:
                self.stderr.write(f"{inbound.pk}: {exc}")
                continue
            if now:
                state = services.process_inbound(inbound.pk)
                self.stdout.write(f"{inbound.pk}: {state}")
            count += 1
        self.stdout.write(f"retried {count} message(s)")
