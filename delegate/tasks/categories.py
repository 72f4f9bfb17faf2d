"""The category list every agency starts with (editable per agency afterwards), and the
skills each category needs."""

from __future__ import annotations

from django.db import transaction

from delegate.agencies.models import Agency, Skill
from delegate.tasks.models import Category

# slug, English, German, skills (slug, English name)
DEFAULT_CATEGORIES: list[tuple[str, str, str, list[tuple[str, str]]]] = [
    ("calendar", "Calendar & appointments", "Kalender & Termine", [("calendar", "Calendar")]),
    (
        "email",
        "Email & correspondence",
        "E-Mail & Korrespondenz",
        [("correspondence", "Correspondence")],
    ),
    ("travel", "Travel", "Reisen", [("travel", "Travel booking")]),
    ("invoicing", "Invoicing & payments", "Rechnungen & Zahlungen", [("invoicing", "Invoicing")]),
    ("bookkeeping", "Bookkeeping", "Buchhaltung", [("bookkeeping", "Bookkeeping")]),
    ("social-media", "Social media", "Social Media", [("social-media", "Social media")]),
    ("support", "Customer support", "Kundenservice", [("support", "Customer support")]),
    ("documents", "Documents & templates", "Dokumente & Vorlagen", [("documents", "Documents")]),
    ("research", "Research", "Recherche", [("research", "Research")]),
    ("data-entry", "Data entry", "Datenerfassung", [("data-entry", "Data entry")]),
    ("web-tech", "Web & tech", "Web & Technik", [("web-tech", "Web & tech")]),
    ("errands", "Personal errands", "Persönliche Besorgungen", [("errands", "Errands")]),
    ("other", "Other", "Sonstiges", []),
]


def ensure_default_categories(agency: Agency) -> list[Category]:
    """Create the default categories and their skills where missing; idempotent."""
    categories = []
    with transaction.atomic():
        for slug, name_en, name_de, skills in DEFAULT_CATEGORIES:
            category, _created = Category.objects.get_or_create(
                agency=agency, slug=slug, defaults={"name_en": name_en, "name_de": name_de}
            )
            for skill_slug, skill_name in skills:
                skill, _ = Skill.objects.get_or_create(
                    agency=agency, slug=skill_slug, defaults={"name": skill_name}
                )
                category.skills.add(skill)
            categories.append(category)
    return categories
