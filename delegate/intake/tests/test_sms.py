"""SMS through the Twilio-compatible webhook and REST adapter, against a local server
that implements Twilio's documented shapes."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from delegate.intake import services
from delegate.intake.models import InboundMessage, OutboundDelivery
from delegate.intake.sms import compute_signature
from delegate.intake.tests import providers
from delegate.intake.tests.providers import FakeProvider
from delegate.tasks import services as task_services
from delegate.tasks.models import Attachment, Task, TaskEvent
from delegate.tasks.notifications import send_event_notifications
from delegate.testing import Cast, db_state

OUR_NUMBER = "+4930901820"
SITE = "https://delegate.example.com"


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        ("+12349013030", "0/KCTR6DLpKmkAf8muzZqo1nDgQ="),
        ("+14158675310", "GvWf1cFY/Q7PnoempGyD5oXAezc="),
    ],
)
def test_it_signs_like_twilios_documented_examples(caller: str, expected: str) -> None:
    params = [
        ("CallSid", "CA1234567890ABCDE"), ("Caller", caller), ("Digits", "1234"),
        ("From", caller), ("To", "+18005551212"),
    ]  # fmt: skip
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert compute_signature("12345", url, params) == expected


@pytest.fixture
def twilio(settings: pytest.FixtureRequest) -> Iterator[FakeProvider]:
    with providers.twilio() as fake:
        settings.TWILIO_API_BASE = fake.url  # type: ignore[attr-defined]
        settings.TWILIO_ACCOUNT_SID = providers.TWILIO_SID  # type: ignore[attr-defined]
        settings.TWILIO_AUTH_TOKEN = providers.TWILIO_TOKEN  # type: ignore[attr-defined]
        settings.INTAKE_SMS_NUMBERS = [f"{OUR_NUMBER}=alpha"]  # type: ignore[attr-defined]
        settings.SITE_URL = SITE  # type: ignore[attr-defined]
        yield fake


def _post(params: dict[str, str], *, url: str = "", signature: str | None = None) -> int:
    path = reverse("hooks:twilio_sms")
    signed_url = url or SITE + path
    if signature is None:
        signature = compute_signature(providers.TWILIO_TOKEN, signed_url, list(params.items()))
    response = HttpClient().post(
        path,
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=signature,
    )
    return int(response.status_code)


def _sms(
    body: str = "Bitte Tisch für 4 reservieren", sid: str = "SM1", **extra: str
) -> dict[str, str]:
    return {
        "MessageSid": sid, "AccountSid": providers.TWILIO_SID, "From": "+4915123456789",
        "To": OUR_NUMBER, "Body": body, "NumMedia": "0", **extra,
    }  # fmt: skip


def test_an_sms_becomes_a_task_once(cast: Cast, twilio: FakeProvider) -> None:
    assert _post(_sms()) == 200
    assert _post(_sms()) == 200  # Twilio retried: same MessageSid
    inbound = InboundMessage.objects.get()
    assert (inbound.channel, inbound.dedupe_key) == ("sms", "SM1")
    services.process_inbound(inbound.pk)
    inbound.refresh_from_db()
    assert inbound.state == InboundMessage.State.ATTACHED and inbound.task is not None
    assert (inbound.task.requester, inbound.task.channel) == (cast.carol, "sms")
    assert inbound.task.description == "Bitte Tisch für 4 reservieren"


def test_mms_media_are_fetched_and_attached(cast: Cast, twilio: FakeProvider) -> None:
    twilio.media["ME1"] = b"\xff\xd8\xff\xe0 fake jpeg"
    media_url = f"{twilio.url}/2010-04-01/Accounts/{providers.TWILIO_SID}/Messages/MM1/Media/ME1"
    _post(_sms(sid="MM1", NumMedia="1", MediaUrl0=media_url, MediaContentType0="image/jpeg"))
    inbound = InboundMessage.objects.get()
    services.process_inbound(inbound.pk)
    attachment = Attachment.objects.get(task__inbound=inbound)
    assert attachment.filename == "mms-1.jpeg"
    assert attachment.file.read() == b"\xff\xd8\xff\xe0 fake jpeg"


def test_mms_media_over_the_limit_are_left_out_with_a_notice(
    cast: Cast, twilio: FakeProvider, settings: pytest.FixtureRequest
) -> None:
    settings.ATTACHMENT_MAX_BYTES = 1000  # type: ignore[attr-defined]
    twilio.media |= {"ME1": b"small", "ME2": b"v" * 5000}
    base = f"{twilio.url}/2010-04-01/Accounts/{providers.TWILIO_SID}/Messages/MM2/Media"
    media = {
        "NumMedia": "2",
        "MediaUrl0": f"{base}/ME1", "MediaContentType0": "image/png",
        "MediaUrl1": f"{base}/ME2", "MediaContentType1": "video/mp4",
    }  # fmt: skip
    _post(_sms(body="Video vom Schaden", sid="MM2", **media))
    inbound = InboundMessage.objects.get()
    assert services.process_inbound(inbound.pk) == InboundMessage.State.ATTACHED
    task = Task.objects.get(inbound=inbound)
    assert [a.filename for a in Attachment.objects.filter(task=task)] == ["mms-1.png"]
    assert "mms-2.mp4 was not fetched: files may be at most" in task.description


@pytest.mark.parametrize(
    "tamper",
    ["no signature", "other token", "other url", "changed body"],
)
def test_an_unsigned_or_forged_request_is_refused(
    cast: Cast, twilio: FakeProvider, tamper: str
) -> None:
    params = _sms()
    path = reverse("hooks:twilio_sms")
    signature = {
        "no signature": "",
        "other token": compute_signature("wrong", SITE + path, list(params.items())),
        "other url": compute_signature(
            providers.TWILIO_TOKEN, "https://evil.example" + path, list(params.items())
        ),
        "changed body": compute_signature(
            providers.TWILIO_TOKEN, SITE + path, list(params.items())
        ),
    }[tamper]
    if tamper == "changed body":
        params["Body"] = "Überweise 5000 EUR"
    before = db_state(InboundMessage, Task)
    assert _post(params, signature=signature) == 403
    assert db_state(InboundMessage, Task) == before


def test_the_signed_url_may_carry_or_omit_the_default_port(
    cast: Cast, twilio: FakeProvider, settings: pytest.FixtureRequest
) -> None:
    path = reverse("hooks:twilio_sms")
    assert _post(_sms(sid="SMa"), url=f"https://delegate.example.com:443{path}") == 200
    settings.SITE_URL = "https://delegate.example.com:443"  # type: ignore[attr-defined]
    assert _post(_sms(sid="SMb"), url=f"https://delegate.example.com{path}") == 200
    # A non-default port is part of the URL and must match.
    settings.SITE_URL = "https://delegate.example.com:8443"  # type: ignore[attr-defined]
    assert _post(_sms(sid="SMc"), url=f"https://delegate.example.com{path}") == 403
    assert _post(_sms(sid="SMd"), url=f"https://delegate.example.com:8443{path}") == 200
    assert InboundMessage.objects.count() == 3


def test_an_unknown_number_is_404(cast: Cast, twilio: FakeProvider) -> None:
    assert _post(_sms(To="+4930000000")) == 404
    assert not InboundMessage.objects.exists()


def test_a_desk_reply_goes_back_by_sms_once_and_records_status(
    cast: Cast, twilio: FakeProvider
) -> None:
    _post(_sms())
    inbound = InboundMessage.objects.get()
    services.process_inbound(inbound.pk)
    inbound.refresh_from_db()
    assert inbound.task is not None
    message = task_services.post_message(cast.bob, inbound.task, text="Erledigt, 19 Uhr.")
    event = TaskEvent.objects.get(data__message=str(message.pk))
    send_event_notifications(event.pk)
    send_event_notifications(event.pk)  # a retried job sends nothing twice
    sent = [r for r in twilio.requests if r.method == "POST"]
    assert len(sent) == 1
    form = sent[0].form
    assert (form["To"], form["From"]) == ("+4915123456789", OUR_NUMBER)
    assert form["Body"].startswith("Erledigt, 19 Uhr.")
    assert form["StatusCallback"] == SITE + reverse("hooks:twilio_status")
    delivery = OutboundDelivery.objects.get()
    assert delivery.status == "queued" and delivery.provider_id.startswith("SM")

    status = {"MessageSid": delivery.provider_id, "MessageStatus": "delivered"}
    path = reverse("hooks:twilio_status")
    signature = compute_signature(providers.TWILIO_TOKEN, SITE + path, list(status.items()))
    response = HttpClient().post(
        path, urlencode(status), content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=signature,
    )  # fmt: skip
    assert response.status_code == 204
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    forged = HttpClient().post(
        path, urlencode({**status, "MessageStatus": "failed"}),
        content_type="application/x-www-form-urlencoded", HTTP_X_TWILIO_SIGNATURE=signature,
    )  # fmt: skip
    assert forged.status_code == 403
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
