"""Background jobs for intake. Thin: they take ids and call services."""

from __future__ import annotations

from datetime import timedelta

from django.tasks import task

from delegate.core.scheduler import register
from delegate.intake import services

# Before everything else in the queue (triage, routing, notifications): a burst of
# mail becomes tasks first, and the follow-up work catches up behind it.
INTAKE_PRIORITY = 50


@task(priority=INTAKE_PRIORITY)
def drain_inbound() -> int:
    """Turn the stored inbound messages into tasks, replies, quarantine entries or
    ignored automatic mail, in batches, until none is left (see ``process_pending``).
    Queued with the messages (one waiting job serves a whole burst); safe to run on
    several workers at once."""
    return services.process_pending()


@task(priority=INTAKE_PRIORITY)
def process_inbound(inbound_id: str) -> str | None:
    """Process one stored message (retries, and the sweep's messages whose batch was
    lost with a killed worker). Safe to run twice."""
    return services.process_inbound(inbound_id)


@task()
def enqueue_stale_inbound() -> int:
    """Re-enqueue messages whose processing job was lost (see ``enqueue_stale``)."""
    return services.enqueue_stale()


@task()
def send_telegram_text(agency_slug: str, chat_id: str, text: str) -> None:
    """A service message to a chat (the confirmation of a linked chat)."""
    from delegate.intake.telegram import bot_for_agency, send_message

    bot = bot_for_agency(agency_slug)
    if bot is not None:
        send_message(bot, chat_id=chat_id, text=text)


register("intake.stale", every=timedelta(minutes=1), task=enqueue_stale_inbound)
