"""Numbers under concurrency: 50 real threads issue at once (each with its own database
connection). Every issued invoice gets a distinct number, the series has no gap, the
same draft is issued only once, and the hash chain holds."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from django.core.exceptions import ValidationError
from django.db import connections, transaction

from delegate.billing import invoicing
from delegate.billing.models import Invoice, InvoiceLine, Issuer
from delegate.billing.tests.helpers import draft, issuer
from delegate.tasks.models import history_rewrite
from delegate.testing import make_cast

THREADS = 50
DRAFTS = 40  # ten threads race for a draft another thread issues too


@pytest.fixture
def erase_invoices(transactional_db: None) -> Iterator[None]:
    """Issued invoices refuse deletion; the test database must still be emptied."""
    yield
    with transaction.atomic(), history_rewrite():
        InvoiceLine.objects.all().delete()
        Invoice.objects.all().delete()


def test_it_numbers_50_concurrent_issues_uniquely_and_without_gaps(
    erase_invoices: None,
) -> None:
    cast = make_cast()
    the_issuer = issuer(cast)
    drafts = [draft(cast, the_issuer) for _ in range(DRAFTS)]
    targets = drafts + drafts[: THREADS - DRAFTS]
    barrier = threading.Barrier(THREADS)
    issued: list[str] = []
    refused: list[str] = []
    errors: list[BaseException] = []

    def issue(invoice: Invoice) -> None:
        try:
            barrier.wait()
            issued.append(invoicing.issue_invoice(cast.alice, invoice).number)
        except ValidationError as exc:
            refused.append(str(exc))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=issue, args=(invoice,)) for invoice in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(issued) == DRAFTS and len(refused) == THREADS - DRAFTS
    assert sorted(issued) == [f"RE-{n:05d}" for n in range(1, DRAFTS + 1)]
    numbers = list(Invoice.objects.exclude(status="draft").values_list("number", flat=True))
    assert sorted(numbers) == sorted(issued)
    the_issuer = Issuer.objects.get(pk=the_issuer.pk)
    assert the_issuer.next_number == DRAFTS + 1
    assert invoicing.verify_chain(the_issuer) == []
