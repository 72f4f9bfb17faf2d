from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from delegate.intake import services
from delegate.intake.jobs import drain_inbound, process_inbound
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


def test_the_sweep_queues_a_drain_for_unclaimed_messages_whose_job_was_lost(cast: Cast) -> None:
    inbound, _new = services.receive(cast.agency_a, channel="email", raw=mail())
    InboundMessage.objects.filter(pk=inbound.pk).update(
        received_at=timezone.now() - timedelta(minutes=10)
    )
    DBTaskResult.objects.all().delete()
    assert services.enqueue_stale() == 1
    job = DBTaskResult.objects.get()
    assert (job.task_path, job.args_kwargs["args"]) == (drain_inbound.module_path, [])
    assert services.enqueue_stale() == 0  # the next sweep, with the drain still waiting


def test_the_sweep_queues_messages_a_dead_worker_claimed_one_by_one(cast: Cast) -> None:
    lost, _new = services.receive(cast.agency_a, channel="email", raw=mail())
    busy, _new = services.receive(cast.agency_a, channel="email", raw=mail(subject="Neu"))
    InboundMessage.objects.update(received_at=timezone.now() - timedelta(minutes=10))
    assert sorted(services.claim_pending()) == sorted([lost.pk, busy.pk])
    # The claim of `lost` is as old as the sweep's limit, `busy` was claimed just now
    # (a worker working through a backlog).
    InboundMessage.objects.filter(pk=lost.pk).update(
        claimed_at=timezone.now() - timedelta(minutes=10)
    )
    DBTaskResult.objects.all().delete()
    assert services.enqueue_stale() == 1
    assert services.enqueue_stale() == 0  # the next sweep, with the job still waiting
    job = DBTaskResult.objects.get()
    assert (job.task_path, job.args_kwargs["args"]) == (process_inbound.module_path, [str(lost.pk)])
