"""A believable German demo agency: five assistants across time zones (one absent with
a stand-in), twelve clients with contacts, 200 tasks in every state with conversations.

Created through the same services the product uses, with notifications muted, and only
once: a second run finds the agency and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from delegate.accounts.models import User
from delegate.agencies import services as agency_services
from delegate.agencies.models import Agency, Member, Skill
from delegate.clients import services as client_services
from delegate.clients.models import Address, Client, Contact
from delegate.tasks import services as task_services
from delegate.tasks.categories import ensure_default_categories
from delegate.tasks.models import Category, Message, Task, TaskEvent, history_rewrite

DEMO_SLUG = "demo"
DEMO_PASSWORD = "demo-delegate"
DOMAIN = "demo.delegate.test"


@dataclass(frozen=True)
class Login:
    email: str
    role: str


ASSISTANTS = [
    # email local part, name, time zone, holiday region, languages, skills
    (
        "anna",
        "Anna Albers",
        "Europe/Berlin",
        "DE-BE",
        ["de", "en"],
        {"calendar": 5, "correspondence": 4, "travel": 3, "documents": 4},
    ),
    (
        "ben",
        "Ben Brandt",
        "Europe/Lisbon",
        "PT",
        ["de", "en", "pt"],
        {"travel": 5, "research": 4, "calendar": 3},
    ),
    (
        "chiara",
        "Chiara Conti",
        "America/New_York",
        "US-NY",
        ["en", "it", "de"],
        {"support": 5, "social-media": 4, "correspondence": 3},
    ),
    (
        "deniz",
        "Deniz Demir",
        "Europe/Istanbul",
        "TR",
        ["de", "tr", "en"],
        {"bookkeeping": 5, "invoicing": 5, "data-entry": 4},
    ),
    (
        "emil",
        "Emil Engel",
        "Asia/Bangkok",
        "TH",
        ["de", "en"],
        {"web-tech": 5, "data-entry": 3, "research": 3, "errands": 2},
    ),
]

CLIENTS = [
    # name, kind, service level, language, city, contacts [(name, email, phone)]
    (
        "Kanzlei Lorenz & Partner",
        "organisation",
        "vip",
        "de",
        "Berlin",
        [
            ("Lena Lorenz", "lena@kanzlei-lorenz.example", "+49 30 1234567"),
            ("Jonas Weber", "jonas.weber@kanzlei-lorenz.example", "+49 151 11122233"),
        ],
    ),
    (
        "Bäckerei Sonnenschein",
        "organisation",
        "standard",
        "de",
        "Potsdam",
        [("Heike Sonnenschein", "heike@baeckerei-sonnenschein.example", "+49 331 765432")],
    ),
    (
        "Dr. Miriam Vogt",
        "person",
        "priority",
        "de",
        "Hamburg",
        [("Miriam Vogt", "praxis@dr-vogt.example", "+49 40 5556677")],
    ),
    (
        "Nordlicht Immobilien GmbH",
        "organisation",
        "priority",
        "de",
        "Kiel",
        [
            ("Sven Nordmann", "sven@nordlicht-immo.example", "+49 431 998877"),
            ("Katrin Feld", "k.feld@nordlicht-immo.example", "+49 170 4445566"),
        ],
    ),
    (
        "Startup Fabrik Berlin UG",
        "organisation",
        "standard",
        "en",
        "Berlin",
        [("Maya Patel", "maya@startupfabrik.example", "+49 176 22233344")],
    ),
    (
        "Weingut Hofmann",
        "organisation",
        "standard",
        "de",
        "Bad Dürkheim",
        [("Georg Hofmann", "georg@weingut-hofmann.example", "+49 6322 12345")],
    ),
    (
        "Studio Kranich Architektur",
        "organisation",
        "standard",
        "de",
        "München",
        [("Paula Kranich", "paula@studio-kranich.example", "+49 89 3344556")],
    ),
    (
        "Tanja Richter Coaching",
        "person",
        "standard",
        "de",
        "Leipzig",
        [("Tanja Richter", "hallo@tanja-richter.example", "+49 341 2223344")],
    ),
    (
        "Elbe Logistik AG",
        "organisation",
        "vip",
        "de",
        "Dresden",
        [
            ("Frank Elbmann", "f.elbmann@elbe-logistik.example", "+49 351 7778899"),
            ("Ines Krause", "i.krause@elbe-logistik.example", "+49 160 9990001"),
        ],
    ),
    (
        "Café Kleinod",
        "organisation",
        "standard",
        "de",
        "Köln",
        [("Ayşe Yıldız", "ayse@cafe-kleinod.example", "+49 221 5566778")],
    ),
    (
        "Physiotherapie Sommer",
        "organisation",
        "priority",
        "de",
        "Freiburg",
        [("Lukas Sommer", "praxis@physio-sommer.example", "+49 761 4455667")],
    ),
    (
        "Hansen Consulting",
        "person",
        "standard",
        "en",
        "Frankfurt am Main",
        [("Erik Hansen", "erik@hansen-consulting.example", "+49 69 1122334")],
    ),
]

REQUESTS = {
    "calendar": [
        (
            "Termin mit Steuerberater vereinbaren",
            "Bitte nächste Woche einen Termin mit Herrn Kraus finden, gern vormittags.",
        ),
        (
            "Meeting mit Investoren verschieben",
            "Das Meeting am Donnerstag muss leider auf nächste Woche. Bitte allen Bescheid geben.",
        ),
        (
            "Find a slot for the quarterly review",
            "Please find 90 minutes with the whole team before the end of the month.",
        ),
    ],
    "email": [
        (
            "Posteingang aufräumen",
            "Bitte alle Newsletter abbestellen und den Rest in Ordner sortieren.",
        ),
        (
            "Antwort an Vermieter entwerfen",
            "Der Vermieter will die Miete erhöhen – bitte eine höfliche, aber bestimmte Antwort vorbereiten.",
        ),
        (
            "Reply to conference organisers",
            "Please decline the speaking invitation politely and ask about next year.",
        ),
    ],
    "travel": [
        ("Flug nach München buchen", "Hin Dienstag früh, zurück Mittwoch Abend. Gangplatz bitte."),
        (
            "Hotel in Wien für die Messe",
            "3 Nächte ab dem 14., in Laufnähe zur Messe, max. 180 € pro Nacht.",
        ),
        (
            "Train tickets to Amsterdam",
            "Two first-class tickets for Friday morning, returning Sunday.",
        ),
    ],
    "invoicing": [
        (
            "Rechnungen für Oktober schreiben",
            "Bitte die Stunden aus dem Projektordner abrechnen und versenden.",
        ),
        ("Zahlungserinnerung an Müller GmbH", "Rechnung 2024-118 ist seit drei Wochen offen."),
        (
            "Chase unpaid invoice from Acme Ltd",
            "Invoice 77 is 30 days overdue, please send a friendly reminder.",
        ),
    ],
    "bookkeeping": [
        (
            "Belege für die Buchhaltung sortieren",
            "Die Belege liegen im geteilten Ordner, bitte nach Monat sortieren und benennen.",
        ),
        (
            "Kontoauszüge abgleichen",
            "Bitte September und Oktober mit den offenen Posten abgleichen.",
        ),
    ],
    "social-media": [
        (
            "LinkedIn-Beitrag zur Messe",
            "Bitte einen kurzen Beitrag mit den Fotos aus dem Ordner vorbereiten.",
        ),
        ("Instagram posts for next week", "Schedule three posts from the content calendar."),
    ],
    "support": [
        (
            "Kundenanfragen im Shop beantworten",
            "Im Postfach liegen ca. 20 Anfragen zu Lieferzeiten.",
        ),
        ("Handle refund requests", "Two customers asked for refunds, details in the helpdesk."),
    ],
    "documents": [
        (
            "Vorlage für Angebote erstellen",
            "Bitte eine Word-Vorlage mit unserem Logo und den Standardtexten.",
        ),
        (
            "Vertrag formatieren",
            "Der Entwurf ist da, bitte sauber formatieren und als PDF speichern.",
        ),
    ],
    "research": [
        ("Recherche: Coworking in Lissabon", "Drei Optionen mit Preisen für Januar, bitte."),
        (
            "Research CRM tools for a small team",
            "Compare three CRMs under 30 €/user with German support.",
        ),
    ],
    "data-entry": [
        (
            "Visitenkarten erfassen",
            "Die Fotos der Visitenkarten von der Messe bitte ins CRM übertragen.",
        ),
        ("Update the contact list", "Merge the two spreadsheets and remove duplicates."),
    ],
    "web-tech": [
        ("Öffnungszeiten auf der Website ändern", "Ab Dezember Mo–Fr 8–17 Uhr, Sa geschlossen."),
        ("Fix the contact form", "Messages from the website form are not arriving since Monday."),
    ],
    "errands": [
        (
            "Blumen zum Geburtstag bestellen",
            "Für Frau Schulz am Freitag, Budget 50 €, Lieferung ins Büro.",
        ),
        (
            "Restaurant für das Teamessen reservieren",
            "12 Personen, Donnerstag 19 Uhr, gern italienisch.",
        ),
    ],
}

REPLIES_IN = [
    "Danke! Passt so.",
    "Können Sie das bitte bis morgen erledigen?",
    "Anbei noch die fehlenden Unterlagen.",
    "Thanks, that works for me.",
    "Bitte lieber Variante B.",
]
REPLIES_OUT = [
    "Ist erledigt, die Bestätigung liegt im Anhang.",
    "Ich kümmere mich darum und melde mich bis heute Abend.",
    "Kurze Rückfrage: Welche Variante bevorzugen Sie?",
    "Done — confirmation sent to your inbox.",
    "Ich habe drei Optionen zusammengestellt, siehe unten.",
]
NOTES = [
    "Kunde bevorzugt Antworten per E-Mail.",
    "Handbuch: Rechnungen immer mit Leistungszeitraum.",
    "Budget vorher bestätigen lassen.",
]

STATUS_MIX = [
    (Task.Status.NEW, 14),
    (Task.Status.TRIAGED, 12),
    (Task.Status.ASSIGNED, 34),
    (Task.Status.IN_PROGRESS, 40),
    (Task.Status.WAITING_ON_CLIENT, 24),
    (Task.Status.DONE, 66),
    (Task.Status.CANCELLED, 10),
]


def demo_logins() -> list[Login]:
    return [
        Login(f"owner@{DOMAIN}", "owner"),
        Login(f"dispo@{DOMAIN}", "dispatcher"),
        *[Login(f"{local}@{DOMAIN}", "assistant") for local, *_rest in ASSISTANTS],
        Login(f"lena@{DOMAIN}", "client contact (Kanzlei Lorenz & Partner)"),
    ]


def demo_exists() -> bool:
    return Agency.objects.filter(slug=DEMO_SLUG).exists()


def create_demo(*, tasks: int = 200, seed: int = 7) -> Agency:
    """Create the demo agency unless it exists; returns it."""
    existing = Agency.objects.filter(slug=DEMO_SLUG).first()
    if existing is not None:
        return existing
    rng = random.Random(seed)
    with transaction.atomic(), task_services.notifications_muted():
        owner_user = User.objects.create_user(
            f"owner@{DOMAIN}", DEMO_PASSWORD, name="Olivia Ostermann"
        )
        owner = agency_services.create_agency(
            owner_user,
            name="Büro Blitz Assistenz",
            slug=DEMO_SLUG,
            legal_name="Büro Blitz Assistenz GmbH",
            street="Torstraße 140",
            postal_code="10119",
            city="Berlin",
            vat_id="DE136695976",
            register_entry="Amtsgericht Charlottenburg HRB 123456 B",
            managing_directors="Olivia Ostermann",
            email=f"hallo@{DOMAIN}",
        )
        agency = owner.agency
        categories = {c.slug: c for c in ensure_default_categories(agency)}
        skills = {s.slug: s for s in Skill.objects.filter(agency=agency)}
        dispatcher = agency_services.add_member(
            owner,
            email=f"dispo@{DOMAIN}",
            name="Dana Dittmann",
            role="dispatcher",
            password=DEMO_PASSWORD,
        )
        assistants = [_assistant(owner, spec, skills) for spec in ASSISTANTS]
        today = timezone.localdate()
        # Ben is away this week; Anna stands in.
        agency_services.add_absence(
            owner,
            assistants[1],
            starts_on=today - dt.timedelta(days=2),
            ends_on=today + dt.timedelta(days=5),
            stand_in=assistants[0],
            reason="Urlaub",
        )
        clients = [_client(owner, i, spec, assistants, rng) for i, spec in enumerate(CLIENTS)]
        statuses = [s for s, weight in STATUS_MIX for _ in range(weight)]
        rng.shuffle(statuses)
        for i in range(tasks):
            _task(owner, dispatcher, i, statuses[i % len(statuses)], clients, categories, rng)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # statistics for the planner, on SQLite and PostgreSQL
    return agency


def _assistant(owner: Member, spec: tuple[Any, ...], skills: dict[str, Skill]) -> Member:
    local, name, tz, region, languages, skill_levels = spec
    member = agency_services.add_member(
        owner, email=f"{local}@{DOMAIN}", name=name, role="assistant", password=DEMO_PASSWORD
    )
    agency_services.update_profile(
        owner,
        member,
        time_zone=tz,
        holiday_region=region,
        languages=languages,
        level="senior" if local in ("anna", "deniz") else "regular",
        capacity_hours_per_week=30 if local == "emil" else 40,
        max_open_tasks=30,
    )
    agency_services.set_skills(
        owner, member, levels={skills[slug]: level for slug, level in skill_levels.items()}
    )
    agency_services.set_working_hours(
        owner,
        member,
        blocks=[(day, dt.time(9), dt.time(13)) for day in range(5)]
        + [(day, dt.time(14), dt.time(18 if local != "emil" else 16)) for day in range(5)],
    )
    return member


def _client(
    owner: Member, index: int, spec: tuple[Any, ...], assistants: list[Member], rng: random.Random
) -> Client:
    name, kind, level, language, city, contacts = spec
    primary = assistants[index % len(assistants)]
    backup = assistants[(index + 2) % len(assistants)]
    client = client_services.create_client(
        owner,
        name=name,
        kind=kind,
        service_level=level,
        language=language,
        primary_assistant=primary,
        backup_assistant=backup,
        email=contacts[0][1],
        team=[assistants[(index + 3) % len(assistants)]],
    )
    Address.objects.create(
        agency_id=owner.agency_id,
        client=client,
        kind="billing",
        line1=f"{rng.choice(['Hauptstraße', 'Lindenallee', 'Marktplatz', 'Bahnhofstraße'])} {rng.randint(1, 120)}",
        postal_code=f"{rng.randint(10000, 99999)}",
        city=city,
    )
    for c_index, (contact_name, email, phone) in enumerate(contacts):
        contact = client_services.create_contact(
            owner, client, name=contact_name, emails=[email], phones=[phone]
        )
        if index == 0 and c_index == 0:
            contact.user = User.objects.create_user(
                f"lena@{DOMAIN}", DEMO_PASSWORD, name=contact_name
            )
            contact.save(update_fields=["user"])
    return client


def _task(
    owner: Member,
    dispatcher: Member,
    index: int,
    target: str,
    clients: list[Client],
    categories: dict[str, Category],
    rng: random.Random,
) -> Task:
    client = rng.choice(clients)
    contact: Contact = rng.choice(list(client.contacts.all()))
    slug = rng.choice(list(REQUESTS))
    title, text = rng.choice(REQUESTS[slug])
    channel = rng.choice(["email", "email", "portal", "sms", "telegram", "api"])
    now = timezone.now()
    created = now - dt.timedelta(days=rng.uniform(0, 30), minutes=rng.randint(0, 600))
    due = created + dt.timedelta(days=rng.choice([1, 2, 3, 5, 7, 14]), hours=rng.randint(0, 8))
    is_open = target not in (Task.Status.DONE, Task.Status.CANCELLED)
    # Open work is mostly still ahead of its deadline; a few tasks are overdue.
    if is_open and due < now and (target == Task.Status.NEW or rng.random() < 0.85):
        due = now + dt.timedelta(days=rng.randint(0, 6), hours=rng.randint(1, 20))
    task = task_services.create_task(
        contact,
        client=client,
        title=title,
        description=text,
        channel=channel,
        due_at=due if rng.random() < 0.8 else None,
        priority=rng.choices([1, 2, 3, 4], weights=[2, 6, 3, 1])[0],
        category=categories[slug] if target != Task.Status.NEW else None,
        required_skills=list(categories[slug].skills.all()) if target != Task.Status.NEW else [],
        estimate_minutes=rng.choice([15, 30, 45, 60, 90, 120, 240]),
    )
    if target != Task.Status.NEW:
        task = task_services.change_status(dispatcher, task, to=Task.Status.TRIAGED)
    if target not in (Task.Status.NEW, Task.Status.TRIAGED):
        assignee = client.primary_assistant if rng.random() < 0.75 else client.backup_assistant
        task = task_services.assign_task(
            dispatcher, task, assistant=assignee, reason="primary assistant"
        )
    worker = task.assignee
    if target in (Task.Status.IN_PROGRESS, Task.Status.WAITING_ON_CLIENT, Task.Status.DONE):
        assert worker is not None
        task = task_services.change_status(worker, task, to=Task.Status.IN_PROGRESS)
        if rng.random() < 0.4:
            task_services.post_message(worker, task, text=rng.choice(NOTES), is_internal=True)
        task_services.post_message(worker, task, text=rng.choice(REPLIES_OUT), channel=channel)
        if target != Task.Status.WAITING_ON_CLIENT and rng.random() < 0.6:
            task_services.post_message(contact, task, text=rng.choice(REPLIES_IN), channel=channel)
        if target == Task.Status.WAITING_ON_CLIENT:
            task = task_services.change_status(worker, task, to=target)
        if target == Task.Status.DONE:
            task = task_services.change_status(worker, task, to=target)
    if target == Task.Status.CANCELLED:
        task = task_services.change_status(dispatcher, task, to=target, note="nicht mehr nötig")
    _backdate(task, created)
    return task


def _backdate(task: Task, created: dt.datetime) -> None:
    """Spread the history over the past weeks instead of the seconds of seeding.
    Queryset updates are used on purpose: this rewrites demo history once."""
    Task.objects.filter(pk=task.pk).update(created_at=created)
    step = dt.timedelta(minutes=37)
    with history_rewrite():
        for offset, event_id in enumerate(
            TaskEvent.objects.filter(task=task).order_by("id").values_list("id", flat=True)
        ):
            TaskEvent.objects.filter(pk=event_id).update(created_at=created + step * offset)
    for offset, message_id in enumerate(
        Message.objects.filter(task=task).order_by("created_at").values_list("id", flat=True)
    ):
        Message.objects.filter(pk=message_id).update(created_at=created + step * (offset + 2))
    if task.status == Task.Status.DONE:
        Task.objects.filter(pk=task.pk).update(done_at=created + step * 8)
