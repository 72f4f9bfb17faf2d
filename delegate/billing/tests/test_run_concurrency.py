"""Invoice runs under concurrency: real threads, each with its own database connection,
run at once. A run reads and computes before it takes the lock and checks under it
that nothing it read changed: one draft per client and month, and each time entry
billed exactly once, whichever run wins."""

from __future__ import annotations

import datetime as dt
import threading
import zoneinfo
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connections

from delegate.billing import invoicing
from delegate.billing.models import Invoice, InvoicedTime
from delegate.billing.tests.helpers import billing_address, contract, entry, issuer
from delegate.testing import make_cast

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
THREADS = 8


def _race(jobs: list[Callable[[], Invoice]]) -> tuple[list[Invoice], list[str]]:
    barrier = threading.Barrier(len(jobs))
    done: list[Invoice] = []
    refused: list[str] = []
    errors: list[BaseException] = []

    def run(job: Callable[[], Invoice]) -> None:
        try:
            barrier.wait()
            done.append(job())
        except ValidationError as exc:
            refused.append(" ".join(exc.messages))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return done, refused


def test_concurrent_runs_of_one_month_make_one_draft(transactional_db: None) -> None:
    cast = make_cast()
    the_issuer = issuer(cast)
    billing_address(cast)
    contract(cast, rounding_increment=15)
    entries = [entry(cast, dt.datetime(2026, 10, day, 9, tzinfo=BERLIN), 20) for day in (5, 6)]
    october = dt.date(2026, 10, 1)

    def job() -> Invoice:
        return invoicing.draft_month(cast.alice, cast.acme, issuer=the_issuer, month=october)

    done, refused = _race([job] * THREADS)
    assert len(done) == 1 and len(refused) == THREADS - 1
    assert set(refused) == {"Dieser Monat wurde bereits abgerechnet."} or set(refused) == {
        "This month has already been invoiced."
    }
    assert Invoice.objects.count() == 1
    assert sorted(InvoicedTime.objects.values_list("time_entry_id", flat=True)) == sorted(
        e.pk for e in entries
    )
    assert done[0].net_total == Decimal("60.00")  # 2 × 20 min, each rounded up to 30


@pytest.mark.parametrize("one_writer", [True, False], ids=["compute-then-lock", "under-lock"])
def test_concurrent_runs_of_later_months_bill_older_time_once(
    transactional_db: None, one_writer: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """September's time was never invoiced; the October, November and December runs
    race, and each of them would bill it: exactly one does (either way of running,
    on either database)."""
    monkeypatch.setattr(invoicing, "_one_writer", lambda: one_writer)
    cast = make_cast()
    the_issuer = issuer(cast)
    billing_address(cast)
    contract(cast)  # 60.00 an hour, to the minute
    late = [entry(cast, dt.datetime(2026, 9, day, 9, tzinfo=BERLIN), 30) for day in (2, 3)]
    months = [dt.date(2026, 10, 1), dt.date(2026, 11, 1), dt.date(2026, 12, 1)]

    def job(month: dt.date) -> Callable[[], Invoice]:
        return lambda: invoicing.draft_month(cast.alice, cast.acme, issuer=the_issuer, month=month)

    done, refused = _race([job(month) for month in months])
    assert refused == [] and len(done) == 3
    billed = list(InvoicedTime.objects.values_list("time_entry_id", "invoice_id"))
    assert sorted(pk for pk, _invoice in billed) == sorted(e.pk for e in late)
    (winner,) = {invoice for _pk, invoice in billed}
    totals = {invoice.pk: invoice.net_total for invoice in Invoice.objects.all()}
    assert totals[winner] == Decimal("60.00")
    assert sorted(totals.values()) == [Decimal("0.00"), Decimal("0.00"), Decimal("60.00")]
