"""Webhooks of the SMS and Telegram providers. They authenticate by signature or
secret (403 otherwise), store the request body raw through ``services.receive`` and
answer at once; processing happens in the worker."""

from __future__ import annotations

import json

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from delegate.agencies.models import Agency
from delegate.intake import services
from delegate.intake.models import InboundMessage
from delegate.intake.sms import agency_slug_for_number, signature_is_valid
from delegate.intake.telegram import bot_for_secret

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _twilio_signed(request: HttpRequest) -> bool:
    # The URL Twilio requested, as the public sees it (SITE_URL is the https address
    # in front of any TLS-terminating proxy), path and query string included.
    url = settings.SITE_URL + request.get_full_path()
    params = [(key, value) for key, values in request.POST.lists() for value in values]
    signature = request.headers.get("X-Twilio-Signature", "")
    return signature_is_valid(settings.TWILIO_AUTH_TOKEN, url, params, signature)


@csrf_exempt
@require_POST
def twilio_sms(request: HttpRequest) -> HttpResponse:
    if not _twilio_signed(request):
        return HttpResponseForbidden("invalid signature")
    sid = request.POST.get("MessageSid") or request.POST.get("SmsSid") or ""
    to = request.POST.get("To", "")
    slug = agency_slug_for_number(to)
    agency = Agency.objects.filter(slug=slug).first() if slug else None
    if agency is None or not sid:
        return HttpResponse("unknown number", status=404)
    services.receive(
        agency,
        channel=InboundMessage.Channel.SMS,
        raw=request.body,
        dedupe_key=sid,
        recipient=to,
        envelope_sender=request.POST.get("From", ""),
    )
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest) -> HttpResponse:
    if not _twilio_signed(request):
        return HttpResponseForbidden("invalid signature")
    services.record_delivery_status(
        channel=InboundMessage.Channel.SMS,
        provider_id=request.POST.get("MessageSid", ""),
        status=request.POST.get("MessageStatus", ""),
        error=request.POST.get("ErrorCode", ""),
    )
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def telegram(request: HttpRequest) -> HttpResponse:
    bot = bot_for_secret(request.headers.get("X-Telegram-Bot-Api-Secret-Token", ""))
    if bot is None:
        return HttpResponseForbidden("invalid secret token")
    try:
        update_id = int(json.loads(request.body)["update_id"])
    except (ValueError, KeyError, TypeError):
        return HttpResponse("not a Telegram update", status=400)
    agency = Agency.objects.filter(slug=bot.agency_slug).first()
    if agency is None:
        return HttpResponse("unknown agency", status=404)
    services.receive(
        agency,
        channel=InboundMessage.Channel.TELEGRAM,
        raw=request.body,
        dedupe_key=str(update_id),
        recipient=bot.agency_slug,
    )
    return JsonResponse({"ok": True})
