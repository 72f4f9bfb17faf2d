"""Workers process stored messages in batches: one waiting drain job per burst, claims
that keep two workers apart, and a bad message that fails alone."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connections
from django_tasks_db.models import DBTaskResult

from delegate.intake import services
from delegate.intake.jobs import drain_inbound
from delegate.intake.models import InboundMessage
from delegate.intake.tests.mails import mail
from delegate.tasks import services as task_services
from delegate.tasks.models import Task
from delegate.testing import Cast, make_cast

State = InboundMessage.State


def _store(cast: Cast, subject: str, **fields: Any) -> InboundMessage:
    inbound, _new = services.receive(
        cast.agency_a, channel="email", raw=mail(subject=subject, **fields)
    )
    return inbound


def _drains() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=drain_inbound.module_path))


def test_a_burst_waits_on_one_drain_job_and_a_started_one_gets_a_successor(cast: Cast) -> None:
    DBTaskResult.objects.all().delete()
    for n in range(3):
        _store(cast, f"Anfrage {n}")
    (waiting,) = _drains()
    assert waiting.status == "READY"
    # A worker started it: a message stored now may come after its last claim, so it
    # gets a job of its own.
    DBTaskResult.objects.filter(pk=waiting.pk).update(status="RUNNING")
    _store(cast, "Spät")
    assert sorted(job.status for job in _drains()) == ["READY", "RUNNING"]


def test_one_job_turns_a_burst_into_tasks_triaged_together(
    cast: Cast, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    for n in range(4):
        _store(cast, f"Anfrage {n}")
    _store(cast, "Unbekannt", sender="stranger@example.org")
    _store(cast, "Mit Anhang", attachments=[("a.pdf", b"%PDF-1", "application/pdf")])
    DBTaskResult.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.process_pending() == 6
    states = {i.subject: i.state for i in InboundMessage.objects.all()}
    assert states == {
        **{f"Anfrage {n}": State.ATTACHED for n in range(4)},
        "Unbekannt": State.QUARANTINED,
        "Mit Anhang": State.ATTACHED,
    }
    titles = sorted(Task.objects.filter(channel="email").values_list("title", flat=True))
    assert titles == sorted([*(f"Anfrage {n}" for n in range(4)), "Mit Anhang"])
    assert set(InboundMessage.objects.values_list("attempts", flat=True)) == {1}
    # All five new tasks, the one with an attachment too, go to triage in one job.
    job = DBTaskResult.objects.get()
    assert job.task_path == "delegate.triage.jobs.triage_tasks"
    tasks = Task.objects.filter(channel="email").values_list("pk", flat=True)
    assert sorted(job.args_kwargs["args"][0]) == sorted(str(pk) for pk in tasks)
    assert services.process_pending() == 0  # nothing left to claim


def test_bad_messages_in_a_batch_fail_alone(cast: Cast, monkeypatch: pytest.MonkeyPatch) -> None:
    # One that cannot be parsed, one whose task cannot be written; the others go through.
    good = [_store(cast, f"Anfrage {n}") for n in range(3)]
    unparsable = _store(cast, "Unlesbar")
    unwritable = _store(cast, "Kaputt")
    parse = services.PARSERS["email"]

    def parse_or_fail(inbound: InboundMessage) -> Any:
        if inbound.pk == unparsable.pk:
            raise ValueError("broken MIME")
        return parse(inbound)

    validated = task_services._validated_task

    def validate_or_fail(actor: Any, spec: task_services.NewTask) -> Any:
        if spec.title == "Kaputt":
            raise ValidationError({"title": "refused"})
        return validated(actor, spec)

    monkeypatch.setitem(services.PARSERS, "email", parse_or_fail)
    monkeypatch.setattr(task_services, "_validated_task", validate_or_fail)
    assert services.process_pending() == 5
    for inbound in good:
        inbound.refresh_from_db()
        assert inbound.state == State.ATTACHED and inbound.task is not None
    unparsable.refresh_from_db()
    unwritable.refresh_from_db()
    assert (unparsable.state, unparsable.error) == (State.FAILED, "ValueError: broken MIME")
    assert unwritable.state == State.FAILED and "refused" in unwritable.error
    assert Task.objects.filter(channel="email").count() == 3
    # Failed messages stay visible and can be retried once the cause is gone.
    monkeypatch.undo()
    for inbound in (unparsable, unwritable):
        services.retry_inbound(None, inbound)
        assert services.process_inbound(inbound.pk) == State.ATTACHED
    assert Task.objects.filter(channel="email").count() == 5


def test_a_batch_holds_at_most_its_byte_budget(cast: Cast) -> None:
    first = _store(cast, "Eins", attachments=[("a.pdf", b"x" * 3000, "application/pdf")])
    _store(cast, "Zwei", attachments=[("b.pdf", b"y" * 3000, "application/pdf")])
    # Always at least one, even over the budget; then the next.
    assert services.claim_pending(max_bytes=100) == [first.pk]
    assert len(services.claim_pending(max_bytes=100)) == 1
    assert services.claim_pending(max_bytes=100) == []


@pytest.mark.django_db(transaction=True)
def test_two_workers_draining_at_once_process_every_message_once() -> None:
    cast = make_cast()
    for n in range(40):
        _store(cast, f"Anfrage {n}")
    barrier = threading.Barrier(2)
    handled: list[int] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait()
            # Small batches, so the two workers take turns claiming.
            claimed = 0
            while ids := services.claim_pending(limit=3):
                services.process_batch(ids)
                claimed += len(ids)
            handled.append(claimed)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert sum(handled) == 40  # each message claimed by exactly one worker
    assert set(InboundMessage.objects.values_list("state", flat=True)) == {State.ATTACHED}
    assert set(InboundMessage.objects.values_list("attempts", flat=True)) == {1}
    titles = list(Task.objects.filter(channel="email").values_list("title", flat=True))
    assert sorted(titles) == sorted(f"Anfrage {n}" for n in range(40))  # one task each


def test_a_big_raw_message_is_stored_byte_for_byte_and_lz4_on_postgresql(cast: Cast) -> None:
    from django.db import connection

    raw = mail(body="Bitte die Rechnungen prüfen.\n" * 5000)  # compressible, ~150 KB
    inbound, _new = services.receive(cast.agency_a, channel="email", raw=raw)
    assert bytes(InboundMessage.objects.get(pk=inbound.pk).raw) == raw
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_column_compression(raw) FROM intake_inboundmessage WHERE id = %s",
                [inbound.pk],
            )
            assert cursor.fetchone() == ("lz4",)


def test_a_long_drain_hands_over_to_a_fresh_job(cast: Cast, settings: Any) -> None:
    settings.INTAKE_BATCH_SIZE = 1
    for n in range(3):
        _store(cast, f"Anfrage {n}")
    DBTaskResult.objects.all().delete()
    # Out of time after the first batch: the rest is left to a new job in the queue.
    assert services.process_pending(max_seconds=0) == 1
    (job,) = _drains()
    assert job.status == "READY"
    assert InboundMessage.objects.filter(state=State.RECEIVED).count() == 2
    assert services.process_pending() == 2
