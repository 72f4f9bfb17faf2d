"""kill -9 of the SMTP intake server and of the worker in the middle of a burst: after
restarts, every mail the server accepted is stored exactly once, and every stored mail
becomes exactly one task or one quarantine entry."""

from __future__ import annotations

import os
import signal
import smtplib
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django_tasks_db.models import DBTaskResult

from delegate.intake import services
from delegate.intake.jobs import drain_inbound, process_inbound
from delegate.intake.models import InboundMessage
from delegate.intake.tests.mails import mail
from delegate.tasks.models import Task
from delegate.testing import make_cast

pytestmark = pytest.mark.django_db(transaction=True)

BURST = 30


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = f"{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"
    return f"postgres://{user}{password}@{host}/{db['NAME']}"


def _spawn(tmp: Path, *args: str, **extra_env: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "MEDIA_ROOT": str(tmp / "media"),
        "DELEGATE_DATA_DIR": str(tmp / "data"),
        "INTAKE_EMAIL_DOMAINS": "localhost",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "LOG_LEVEL": "WARNING",
        **extra_env,
    }
    manage = str(settings.BASE_DIR / "manage.py")
    return subprocess.Popen([sys.executable, manage, *args], env=env, stdout=subprocess.DEVNULL)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_listening(port: int) -> None:
    # A generous bound, not a speed check: a fresh Django process with every app takes
    # seconds to start on a loaded 2-core machine (CI runs SQLite and PostgreSQL suites).
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("smtp intake did not start")


def _wait_for(predicate: object, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.05)


def _kill(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(10)


def test_kill_9_of_server_and_worker_loses_and_doubles_nothing(tmp_path: Path) -> None:
    make_cast()
    # Two in three from Carol (tasks), one in three from strangers (quarantine).
    mails = [
        (f"Auftrag {n}", "carol@acme.test" if n % 3 else f"stranger{n}@example.org")
        for n in range(BURST)
    ]
    # Built once: a sending server retries with the very same bytes.
    raws = {subject: mail(sender=sender, subject=subject) for subject, sender in mails}
    port = _free_port()
    smtp = _spawn(tmp_path, "smtp_intake", "--bind", f"127.0.0.1:{port}")
    accepted: set[str] = set()

    def send_all() -> None:
        # Like a sending MTA: a mail not acknowledged with 250 is sent again.
        pending = list(mails)
        client = None
        deadline = time.monotonic() + 120
        while pending and time.monotonic() < deadline:
            subject, sender = pending[0]
            try:
                if client is None:
                    client = smtplib.SMTP("127.0.0.1", port, timeout=5)
                client.sendmail(sender, ["alpha@localhost"], raws[subject])
            except (OSError, smtplib.SMTPException):
                client = None
                time.sleep(0.05)
                continue
            accepted.add(subject)
            pending.pop(0)
        if client is not None:
            client.quit()

    try:
        _wait_listening(port)
        sender = threading.Thread(target=send_all)
        sender.start()
        _wait_for(lambda: InboundMessage.objects.count() >= 3)
        _kill(smtp)  # mid-burst
        assert InboundMessage.objects.count() < BURST
        smtp = _spawn(tmp_path, "smtp_intake", "--bind", f"127.0.0.1:{port}")
        sender.join(150)
        assert not sender.is_alive()
    finally:
        _kill(smtp)

    stored = set(InboundMessage.objects.values_list("pk", flat=True))
    assert len(accepted) == BURST
    assert InboundMessage.objects.count() == len(accepted)  # stored == accepted, no double

    # Small batches, so the kill lands in the middle of the burst.
    worker = _spawn(
        tmp_path, "db_worker", "--no-reload", "--no-startup-delay", "--interval", "0",
        INTAKE_BATCH_SIZE="3",
    )  # fmt: skip
    try:
        settled = InboundMessage.objects.exclude(state=InboundMessage.State.RECEIVED)
        _wait_for(lambda: settled.count() >= 1)
        _kill(worker)  # mid-processing
    finally:
        if worker.poll() is None:
            _kill(worker)
    assert settled.count() < BURST
    # What the scheduler's sweep does for work a dead worker held; then a new worker.
    unprocessed = InboundMessage.objects.filter(state=InboundMessage.State.RECEIVED)
    assert unprocessed.exists()
    services.enqueue_stale(older_than=timedelta(0))
    # The messages the dead worker had claimed have exactly one job each; the others
    # are left to a drain job, and one waits.
    waiting = DBTaskResult.objects.filter(status="READY")
    alone = Counter(
        args_kwargs["args"][0]
        for args_kwargs in waiting.filter(task_path=process_inbound.module_path).values_list(
            "args_kwargs", flat=True
        )
    )
    claimed = unprocessed.exclude(claimed_at=None).values_list("pk", flat=True)
    assert alone == Counter(str(pk) for pk in claimed)
    if unprocessed.filter(claimed_at=None).exists():
        assert waiting.filter(task_path=drain_inbound.module_path).count() == 1
    worker = _spawn(tmp_path, "db_worker", "--batch", "--no-startup-delay", "--interval", "0")
    assert worker.wait(120) == 0

    leftovers = InboundMessage.objects.exclude(state__in=["attached", "quarantined"])
    assert list(leftovers.values_list("state", "error")) == []
    states = dict(InboundMessage.objects.values_list("subject", "state"))
    assert set(InboundMessage.objects.values_list("pk", flat=True)) == stored
    assert sorted(states) == sorted(subject for subject, _ in mails)
    from_carol = {subject for subject, who in mails if who == "carol@acme.test"}
    assert {s for s, state in states.items() if state == "attached"} == from_carol
    assert {s for s, state in states.items() if state == "quarantined"} == set(states) - from_carol
    titles = list(Task.objects.filter(channel="email").values_list("title", flat=True))
    assert sorted(titles) == sorted(from_carol)  # exactly one task each


def test_sigterm_stops_the_server_even_with_an_idle_client_connected(tmp_path: Path) -> None:
    port = _free_port()
    smtp = _spawn(tmp_path, "smtp_intake", "--bind", f"127.0.0.1:{port}")
    try:
        _wait_listening(port)
        client = smtplib.SMTP("127.0.0.1", port, timeout=30)
        client.ehlo()  # connected and idle, as a sending server between two mails
        smtp.send_signal(signal.SIGTERM)
        # Bounded, not a speed check: before the fix the process waited for the client.
        assert smtp.wait(60) == 0
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        client.close()
    finally:
        if smtp.poll() is None:
            _kill(smtp)
