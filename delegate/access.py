"""The only way to fetch an object named in user input.

Each ``access_*`` function takes the acting member (or, for the portal, the client
contact) first and the id from the request, and returns the object or raises:

* ``Http404`` when the object does not exist, belongs to another agency, or lies outside
  what the actor may see (an assistant sees only clients they are assigned to as primary,
  backup or team member, plus tasks assigned to them; a contact sees only their own
  client's tasks and never internal notes). Malformed ids are a 404 too.
* ``PermissionDenied`` when the actor may see the object but ``write=True`` asks for a
  change their role does not allow.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import Exists, Model, OuterRef, Q, QuerySet
from django.http import Http404

from delegate.agencies.models import Absence, Member, Skill
from delegate.billing.models import Contract, Invoice, InvoiceLine, Issuer
from delegate.clients.models import Client, ClientTeamMember, Contact
from delegate.intake.models import InboundMessage
from delegate.routing.models import RebalanceProposal
from delegate.scheduling.models import Booking, Calendar, Event, EventType
from delegate.tasks.models import Attachment, Category, Message, Task, TaskEvent
from delegate.timetracking.models import TimeEntry

Actor = Member | Contact


def _uuid(value: Any) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        raise Http404("No such object") from None


def _managers_only[M: Model](
    member: Member, objects: QuerySet[M], object_id: Any, missing: str
) -> M:
    """An object of the member's agency that only owners and dispatchers handle: 404
    outside the agency, 403 for other roles of it (checked after the lookup, so the id
    is never confirmed to them)."""
    try:
        found = objects.get(pk=_uuid(object_id), agency_id=member.agency_id)
    except ObjectDoesNotExist:
        raise Http404(missing) from None
    member.require_manager()
    return found


# --- visibility ------------------------------------------------------------------------


def clients_visible_to(member: Member) -> QuerySet[Client]:
    clients = Client.objects.filter(agency_id=member.agency_id)
    if member.is_manager:
        return clients
    on_team = ClientTeamMember.objects.filter(client=OuterRef("pk"), member=member)
    return clients.filter(
        Q(primary_assistant=member) | Q(backup_assistant=member) | Exists(on_team)
    )


def tasks_visible_to(member: Member) -> QuerySet[Task]:
    tasks = Task.objects.filter(agency_id=member.agency_id)
    if member.is_manager:
        return tasks
    on_team = ClientTeamMember.objects.filter(client=OuterRef("client_id"), member=member)
    return tasks.filter(
        Q(assignee=member)
        | Q(client__primary_assistant=member)
        | Q(client__backup_assistant=member)
        | Exists(on_team)
    )


def portal_tasks(contact: Contact) -> QuerySet[Task]:
    """Tasks a client contact sees in the portal: all of their own client's tasks."""
    return Task.objects.filter(agency_id=contact.agency_id, client_id=contact.client_id)


def messages_visible_to(actor: Actor, task: Task) -> QuerySet[Message]:
    messages = Message.objects.filter(agency_id=task.agency_id, task=task)
    if isinstance(actor, Contact):
        messages = messages.filter(is_internal=False)
    return messages


# What a client contact may see of a task's activity: no notes, messages or files (the
# conversation shows those, filtered), nothing about internal work.
CLIENT_EVENT_KINDS = (
    TaskEvent.Kind.CREATED,
    TaskEvent.Kind.STATUS_CHANGED,
    TaskEvent.Kind.ASSIGNED,
    TaskEvent.Kind.UPDATED,
)


def events_visible_to(actor: Actor, task: Task) -> QuerySet[TaskEvent]:
    events = TaskEvent.objects.filter(agency_id=task.agency_id, task=task)
    if isinstance(actor, Contact):
        events = events.filter(kind__in=CLIENT_EVENT_KINDS)
    return events


# --- single objects ------------------------------------------------------------------------


def access_client(member: Member, client_id: Any, *, write: bool = False) -> Client:
    try:
        client = clients_visible_to(member).get(pk=_uuid(client_id))
    except Client.DoesNotExist:
        raise Http404("No such client") from None
    if write:
        member.require_manager()
    return client


def access_contact(member: Member, contact_id: Any, *, write: bool = False) -> Contact:
    visible_clients = clients_visible_to(member)
    try:
        contact = Contact.objects.select_related("client").get(
            pk=_uuid(contact_id), agency_id=member.agency_id, client__in=visible_clients
        )
    except Contact.DoesNotExist:
        raise Http404("No such contact") from None
    if write:
        member.require_manager()
    return contact


def access_member(member: Member, member_id: Any, *, write: bool = False) -> Member:
    """Any member sees their colleagues; only managers change them."""
    try:
        other = Member.objects.select_related("user").get(
            pk=_uuid(member_id), agency_id=member.agency_id
        )
    except Member.DoesNotExist:
        raise Http404("No such member") from None
    if write:
        member.require_manager()
    return other


def access_category(member: Member, category_id: Any) -> Category:
    """Categories are agency-wide: every member may use them."""
    try:
        return Category.objects.get(pk=_uuid(category_id), agency_id=member.agency_id)
    except Category.DoesNotExist:
        raise Http404("No such category") from None


def access_skills(member: Member, skill_ids: Any) -> list[Skill]:
    """All the named skills of the member's agency, or 404 if any is unknown."""
    wanted = {_uuid(skill_id) for skill_id in skill_ids}
    if not wanted:
        return []
    skills = list(Skill.objects.filter(pk__in=wanted, agency_id=member.agency_id))
    if len(skills) != len(wanted):
        raise Http404("No such skill")
    return skills


def access_absence(member: Member, absence_id: Any, *, write: bool = False) -> Absence:
    try:
        absence = Absence.objects.get(pk=_uuid(absence_id), agency_id=member.agency_id)
    except Absence.DoesNotExist:
        raise Http404("No such absence") from None
    if write:
        member.require_manager()
    return absence


def access_task(member: Member, task_id: Any, *, write: bool = False) -> Task:
    """``write`` is granted to every member who sees the task: what exactly they may
    change (status, assignment) is decided by the status machine in the service."""
    try:
        return (
            tasks_visible_to(member)
            .select_related("client", "assignee__user", "requester", "category")
            .get(pk=_uuid(task_id))
        )
    except Task.DoesNotExist:
        raise Http404("No such task") from None


def access_portal_task(contact: Contact, task_id: Any, *, write: bool = False) -> Task:
    try:
        return (
            portal_tasks(contact)
            .select_related("client", "assignee__user", "requester")
            .get(pk=_uuid(task_id))
        )
    except Task.DoesNotExist:
        raise Http404("No such task") from None


def access_message(actor: Actor, message_id: Any) -> Message:
    tasks = portal_tasks(actor) if isinstance(actor, Contact) else tasks_visible_to(actor)
    messages = Message.objects.filter(agency_id=actor.agency_id, task__in=tasks)
    if isinstance(actor, Contact):
        messages = messages.filter(is_internal=False)
    try:
        return messages.select_related("task").get(pk=_uuid(message_id))
    except Message.DoesNotExist:
        raise Http404("No such message") from None


def access_attachment(actor: Actor, attachment_id: Any) -> Attachment:
    """Attachments on internal notes are invisible to client contacts."""
    tasks = portal_tasks(actor) if isinstance(actor, Contact) else tasks_visible_to(actor)
    attachments = Attachment.objects.filter(agency_id=actor.agency_id, task__in=tasks)
    if isinstance(actor, Contact):
        attachments = attachments.filter(Q(message__isnull=True) | Q(message__is_internal=False))
    try:
        return attachments.get(pk=_uuid(attachment_id))
    except Attachment.DoesNotExist:
        raise Http404("No such attachment") from None


def access_rebalance(member: Member, proposal_id: Any, *, write: bool = False) -> RebalanceProposal:
    """A rebalance proposal of the member's agency; only managers see them (403 for
    assistants of the agency, 404 for everyone outside it)."""
    return _managers_only(
        member,
        RebalanceProposal.objects.select_related("created_by__user"),
        proposal_id,
        "No such proposal",
    )


def access_inbound(member: Member, inbound_id: Any, *, write: bool = False) -> InboundMessage:
    """Inbound messages are for owners and dispatchers: 404 outside the agency, 403 for
    other roles of it (checked after the lookup, so the id is never confirmed to them)."""
    # The raw bytes (up to the size limit) load only where they are used.
    return _managers_only(
        member,
        InboundMessage.objects.select_related("task", "contact__client").defer("raw"),
        inbound_id,
        "No such inbound message",
    )


def calendars_visible_to(member: Member) -> QuerySet[Calendar]:
    """Managers see every calendar of the agency; an assistant sees their own and those
    of the clients they are assigned to."""
    calendars = Calendar.objects.filter(agency_id=member.agency_id)
    if member.is_manager:
        return calendars
    return calendars.filter(Q(member=member) | Q(client__in=clients_visible_to(member)))


def access_calendar(member: Member, calendar_id: Any, *, write: bool = False) -> Calendar:
    """``write`` is granted to whoever sees the calendar: assistants keep their clients'
    calendars. Another member's own calendar is read-only even for managers."""
    try:
        calendar = calendars_visible_to(member).select_related("client").get(pk=_uuid(calendar_id))
    except Calendar.DoesNotExist:
        raise Http404("No such calendar") from None
    if write and calendar.member_id is not None and calendar.member_id != member.pk:
        raise PermissionDenied("Only the owner changes a personal calendar")
    return calendar


def access_event(member: Member, event_id: Any, *, write: bool = False) -> Event:
    try:
        event = Event.objects.select_related("calendar").get(
            pk=_uuid(event_id), calendar__in=calendars_visible_to(member)
        )
    except Event.DoesNotExist:
        raise Http404("No such event") from None
    if write:
        access_calendar(member, event.calendar_id, write=True)
    return event


def access_event_type(member: Member, event_type_id: Any, *, write: bool = False) -> EventType:
    """Booking pages of the clients the member sees; assistants may change them."""
    try:
        return EventType.objects.select_related("client", "target_calendar").get(
            pk=_uuid(event_type_id), client__in=clients_visible_to(member)
        )
    except EventType.DoesNotExist:
        raise Http404("No such booking page") from None


def access_booking(member: Member, booking_id: Any, *, write: bool = False) -> Booking:
    """Bookings on the booking pages of the clients the member sees; whoever sees one
    may cancel or move it."""
    try:
        return Booking.objects.select_related("event_type__client", "event_type__agency").get(
            pk=_uuid(booking_id),
            agency_id=member.agency_id,
            event_type__client__in=clients_visible_to(member),
        )
    except Booking.DoesNotExist:
        raise Http404("No such booking") from None


def access_time_entry(member: Member, entry_id: Any, *, write: bool = False) -> TimeEntry:
    """Managers see every entry of the agency; an assistant only their own entries on
    tasks they see. Whether a change is allowed (not yet approved) is the service's call."""
    entries = TimeEntry.objects.filter(agency_id=member.agency_id)
    if not member.is_manager:
        entries = entries.filter(member=member, task__in=tasks_visible_to(member))
    try:
        return entries.select_related("task").get(pk=_uuid(entry_id))
    except TimeEntry.DoesNotExist:
        raise Http404("No such time entry") from None


def access_portal_time_entries(contact: Contact, entry_ids: Any) -> list[TimeEntry]:
    """The named entries of the contact's own client, or 404 if any is not theirs."""
    wanted = {_uuid(entry_id) for entry_id in entry_ids}
    entries = list(
        TimeEntry.objects.filter(
            pk__in=wanted, agency_id=contact.agency_id, client_id=contact.client_id
        )
    )
    if len(entries) != len(wanted):
        raise Http404("No such time entry")
    return entries


def access_invoice(member: Member, invoice_id: Any, *, write: bool = False) -> Invoice:
    """Invoices are the managers' business: assistants get 403, other agencies 404."""
    return _managers_only(
        member, Invoice.objects.select_related("issuer", "client"), invoice_id, "No such invoice"
    )


def access_contract(member: Member, contract_id: Any) -> Contract:
    """A contract version: the managers' business like invoices (assistants get 403,
    other agencies 404)."""
    return _managers_only(
        member, Contract.objects.select_related("client"), contract_id, "No such contract"
    )


def access_invoice_line(member: Member, line_id: Any) -> InvoiceLine:
    return _managers_only(
        member, InvoiceLine.objects.select_related("invoice"), line_id, "No such line"
    )


def access_issuer(member: Member, issuer_id: Any) -> Issuer:
    return _managers_only(member, Issuer.objects.all(), issuer_id, "No such issuer")


def portal_invoices(contact: Contact) -> QuerySet[Invoice]:
    """A client's issued invoices from the agency (never drafts)."""
    return Invoice.objects.filter(
        agency_id=contact.agency_id, client_id=contact.client_id, issuer__kind="agency"
    ).exclude(status=Invoice.Status.DRAFT)


def access_portal_invoice(contact: Contact, invoice_id: Any) -> Invoice:
    try:
        return portal_invoices(contact).get(pk=_uuid(invoice_id))
    except Invoice.DoesNotExist:
        raise Http404("No such invoice") from None


def role_on_task(actor: Actor | None, task: Task) -> str:
    """The actor's role for the status machine (see ``delegate.tasks.status``)."""
    if actor is None:
        return "system"
    if isinstance(actor, Contact):
        return "client"
    if actor.role == Member.Role.OWNER:
        return "owner"
    if actor.role == Member.Role.DISPATCHER:
        return "dispatcher"
    return "assignee" if task.assignee_id == actor.pk else "assistant"
