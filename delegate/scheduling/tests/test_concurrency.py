"""100 visitors race for one time: exactly one booking, whatever the database."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from delegate.scheduling import services
from delegate.scheduling.models import Booking, Event
from delegate.scheduling.tests.conftest import make_booking_page
from delegate.testing import make_cast

VISITORS = 100


@pytest.mark.django_db(transaction=True)
def test_a_hundred_visitors_racing_for_one_slot_make_exactly_one_booking() -> None:
    page = make_booking_page(make_cast())
    slot = services.available_slots(page)[0]
    # Half of them want the slot itself, half a start 15 minutes later that overlaps it:
    # the unique constraint alone would let one of each through; the row lock must not.
    wanted = [slot if i % 2 else slot + dt.timedelta(minutes=15) for i in range(VISITORS)]
    # PostgreSQL here allows 100 connections for everyone on the machine: 100 visitors
    # share 40 connections there. SQLite takes all 100 threads at once.
    threads = 40 if connection.vendor == "postgresql" else VISITORS
    barrier = threading.Barrier(threads)
    started = threading.local()

    def visit(i: int) -> str:
        if not getattr(started, "done", False):
            barrier.wait()
            started.done = True
        try:
            visitor = services.Visitor(name=f"Visitor {i}", email=f"v{i}@example.test", answers={})
            services.book(page, starts_at=wanted[i], visitor=visitor)
            return "booked"
        except services.SlotUnavailable:
            return "taken"
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        outcomes = list(pool.map(visit, range(VISITORS)))

    assert outcomes.count("booked") == 1
    assert outcomes.count("taken") == VISITORS - 1
    assert Booking.objects.count() == 1
    assert Event.objects.filter(calendar=page.target_calendar).count() == 1
    # the others see fresh slots without the booked time
    booking = Booking.objects.get()
    assert booking.starts_at not in services.available_slots(page)
