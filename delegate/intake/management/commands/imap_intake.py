"""``manage.py imap_intake``: fetch mail from the mailboxes in INTAKE_IMAP_MAILBOXES."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from delegate.intake.mail.imap import parse_mailbox_url, serve_mailboxes


class Command(BaseCommand):
    help = "Poll the IMAP mailboxes in INTAKE_IMAP_MAILBOXES (IDLE where supported)."

    def handle(self, *args: Any, **options: Any) -> None:
        configs = [parse_mailbox_url(url) for url in settings.INTAKE_IMAP_MAILBOXES]
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        threads = serve_mailboxes(configs, stop)
        self.stdout.write(f"imap intake: serving {len(threads)} mailbox(es)")
        self.stdout.flush()
        stop.wait()
        for thread in threads:
            thread.join(timeout=10)
        self.stdout.write("imap intake stopped")
