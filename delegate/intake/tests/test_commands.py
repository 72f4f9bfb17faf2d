from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from delegate.intake import services
from delegate.intake.models import InboundMessage
from delegate.intake.tests.conftest import Deliver
from delegate.intake.tests.mails import mail
from delegate.testing import Cast

State = InboundMessage.State


def test_the_command_retries_failed_messages(
    cast: Cast, deliver: Deliver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(services.PARSERS, "email", lambda i: 1 / 0)
    failed = deliver(mail())
    handled = deliver(mail(subject="Anderes"))
    assert (failed.state, handled.state) == (State.FAILED, State.FAILED)
    monkeypatch.undo()
    out = StringIO()
    call_command("intake_retry", "--all-failed", "--now", stdout=out)
    assert "retried 2 message(s)" in out.getvalue()
    failed.refresh_from_db()
    assert failed.state == State.ATTACHED and failed.attempts == 2


def test_the_sweep_enqueues_messages_whose_job_was_lost(cast: Cast) -> None:
    inbound, _new = services.receive(cast.agency_a, channel="email", raw=mail())
    services.receive(cast.agency_a, channel="email", raw=mail(subject="Neu"))  # recent
    InboundMessage.objects.filter(pk=inbound.pk).update(
        received_at=timezone.now() - timedelta(minutes=10)
    )
    DBTaskResult.objects.all().delete()
    assert services.enqueue_stale() == 1
    job = DBTaskResult.objects.get()
    assert job.args_kwargs["args"] == [str(inbound.pk)]


def test_the_sweep_does_not_enqueue_a_message_whose_job_still_waits(cast: Cast) -> None:
    waiting, _new = services.receive(cast.agency_a, channel="email", raw=mail())
    lost, _new = services.receive(cast.agency_a, channel="email", raw=mail(subject="Neu"))
    InboundMessage.objects.update(received_at=timezone.now() - timedelta(minutes=10))
    DBTaskResult.objects.filter(args_kwargs__args=[str(lost.pk)]).delete()
    assert services.enqueue_stale() == 1
    assert services.enqueue_stale() == 0  # the next sweep, with both jobs waiting
    queued = sorted(job.args_kwargs["args"][0] for job in DBTaskResult.objects.all())
    assert queued == sorted([str(waiting.pk), str(lost.pk)])
