"""Calendars, events, availability and bookings.

Member-facing services take the acting member first and check what they are handed
(``require_same_agency``); the public booking services take the event type or booking a
public slug or signed token resolved to, and nothing else.

Callers use this package (``from delegate.scheduling import services``); the modules
split it by subject: ``events`` (calendars, events, occurrences, busy time),
``availability`` (what a booking page offers), ``bookings`` (public bookings and their
links) and ``appointments`` (booked from a task, booking pages, assistants' free time).
"""

from delegate.scheduling.services.appointments import (
    TASK_DEFAULTS,
    assistant_free_slots,
    book_appointment,
    cancel_appointment,
    propose_times,
    reschedule_appointment,
    save_event_type,
    send_proposals,
)
from delegate.scheduling.services.availability import (
    DEFAULT_HOURS,
    available_slots,
    deciding_calendars,
    holiday_dates,
    parse_hours,
    rules_for,
)
from delegate.scheduling.services.bookings import (
    SlotUnavailable,
    Visitor,
    book,
    booking_from_token,
    booking_token,
    cancel_booking,
    reschedule_booking,
)
from delegate.scheduling.services.events import (
    EDITABLE_FIELDS,
    PASSWORD_MAX_LENGTH,
    busy_intervals,
    create_calendar,
    delete_event,
    events_touching,
    move_occurrence,
    occurrence_value,
    push_on_commit,
    save_event,
    set_range,
    skip_occurrence,
    touching,
    update_event,
)

__all__ = [
    "DEFAULT_HOURS",
    "EDITABLE_FIELDS",
    "PASSWORD_MAX_LENGTH",
    "TASK_DEFAULTS",
    "SlotUnavailable",
    "Visitor",
    "assistant_free_slots",
    "available_slots",
    "book",
    "book_appointment",
    "booking_from_token",
    "booking_token",
    "busy_intervals",
    "cancel_appointment",
    "cancel_booking",
    "create_calendar",
    "deciding_calendars",
    "delete_event",
    "events_touching",
    "holiday_dates",
    "move_occurrence",
    "occurrence_value",
    "parse_hours",
    "propose_times",
    "push_on_commit",
    "reschedule_appointment",
    "reschedule_booking",
    "rules_for",
    "save_event",
    "save_event_type",
    "send_proposals",
    "set_range",
    "skip_occurrence",
    "touching",
    "update_event",
]
