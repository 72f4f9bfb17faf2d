"""The category list every agency starts with (editable per agency afterwards), and the
skills each category needs."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from delegate.agencies.models import Agency, Member, Skill
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


def save_category(
    member: Member,
    category: Category | None = None,
    *,
    name_en: str,
    name_de: str,
    skills: Iterable[Skill] = (),
    slug: str = "",
    is_active: bool | None = None,
) -> Category:
    """Create a category (``category`` None) or rename it and set its skills; with
    ``is_active`` also (de)activate it (None: new ones are active, edits leave it).
    Owners and dispatchers of the category's agency only; the slug (what triage
    predicts) is made from the English name when not given and stays unchanged on edits."""
    member.require_manager()
    member.require_same_agency(category)
    skills = list(skills)
    member.require_same_agency(*skills)
    name_en, name_de = name_en.strip(), name_de.strip()
    if not name_en or not name_de:
        raise ValidationError({"name_en": _("Give the category a German and an English name.")})
    with transaction.atomic():
        if category is None:
            slug = slugify(slug or name_en)[:60]
            if not slug or Category.objects.filter(agency_id=member.agency_id, slug=slug).exists():
                raise ValidationError({"name_en": _("A category with this name exists already.")})
            category = Category(agency_id=member.agency_id, slug=slug)
        category.name_en, category.name_de = name_en[:100], name_de[:100]
        if is_active is not None:
            category.is_active = is_active
        category.save()
        category.skills.set(skills)
    return category


def delete_category(member: Member, category: Category) -> bool:
    """Remove a category from the agency's list. One that anything refers to — tasks,
    triage results, routing rules, contract prices (of past contract versions too) — is
    deactivated instead, so history, routing and invoices keep it; triage no longer
    chooses it. Returns whether it was deleted. Owners and dispatchers only."""
    member.require_manager()
    member.require_same_agency(category)
    with transaction.atomic():
        category = Category.objects.select_for_update().get(pk=category.pk)
        if _in_use(category):
            if category.is_active:
                category.is_active = False
                category.save(update_fields=["is_active"])
            return False
        category.delete()
    return True


def _in_use(category: Category) -> bool:
    """Whether a row refers to the category (every relation that points at it)."""
    for relation in category._meta.related_objects:
        if relation.many_to_many:
            continue  # the category's own skills, not a use of it
        model = relation.related_model
        if model._default_manager.filter(**{relation.field.name: category}).exists():
            return True
    return False
