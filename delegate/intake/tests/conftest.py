from __future__ import annotations

from collections.abc import Callable

import pytest

from delegate.intake import services
from delegate.intake.mail.addresses import route_for
from delegate.intake.models import InboundMessage
from delegate.testing import Cast

Deliver = Callable[..., InboundMessage]


@pytest.fixture
def deliver(cast: Cast) -> Deliver:
    """Store a mail for agency A as the SMTP server would, and process it at once."""

    def deliver_(raw: bytes, *, to: str = "alpha@localhost", envelope: str = "") -> InboundMessage:
        route = route_for(to)
        assert route is not None
        inbound, _created = services.receive(
            route.agency,
            channel=InboundMessage.Channel.EMAIL,
            raw=raw,
            recipient=to,
            envelope_sender=envelope or "carol@acme.test",
            client_hint=route.client,
        )
        services.process_inbound(inbound.pk)
        inbound.refresh_from_db()
        return inbound

    return deliver_
