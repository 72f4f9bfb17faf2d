from __future__ import annotations

from functools import cache
from io import StringIO

import pytest
from django.core.management import call_command

from delegate.core.scheduler import registry
from delegate.tasks import services as task_services
from delegate.tasks.models import Category, Task
from delegate.testing import Cast
from delegate.triage import services
from delegate.triage.jobs import retrain_classifiers
from delegate.triage.models import TriageModel
from delegate.triage.seed import seed_examples

WINE = [
    "Bitte 12 Flaschen Riesling beim Weingut Keller nachbestellen",
    "Order two cases of red wine from the wine merchant",
    "Weinlieferung für die Weinprobe organisieren, Rotwein und Weißwein",
    "Can you reorder the white wine for the wine tasting?",
    "Bitte beim Weinhändler 6 Kisten Rotwein bestellen",
    "Wine tasting next month: order the wine samples from the vineyard",
    "Den Weinkeller prüfen und fehlende Weine beim Weinhändler nachbestellen",
    "Get a quote for 50 bottles of wine from our wine supplier",
    "Weinprobe: bitte 20 Flaschen Wein beim Weingut bestellen",
    "Please order more wine bottles for the wine bar",
    "Wein für das Kundenevent beim Weinhändler bestellen",
    "Reorder the house wine, 10 cases, from the wine merchant",
]
TRAVEL = [
    "Bitte einen Flug nach Wien und ein Hotel für zwei Nächte buchen",
    "Book me a flight to Madrid and a hotel near the station",
    "Zugtickets nach Hamburg und zurück besorgen",
    "Please rent a car at the airport for my business trip",
    "Hotel in Paris für drei Nächte reservieren",
    "Rebook my flight to London to Friday",
]


@cache
def small_seed() -> list[tuple[str, str]]:
    # One frame per phrase: enough to learn from, quick to train in a test.
    return seed_examples(per_phrase=1)


def corrected_tasks(cast: Cast, texts: list[str], category: Category) -> None:
    other = Category.objects.get(agency=cast.agency_a, slug="other")
    for text in texts:
        task = task_services.create_task(
            cast.alice, client=cast.acme, title=text, channel=Task.Channel.API, category=other
        )
        services.correct_triage(cast.bob, task, category=category)


def test_it_waits_for_enough_corrections(triage_cast: Cast) -> None:
    travel = Category.objects.get(agency=triage_cast.agency_a, slug="travel")
    corrected_tasks(triage_cast, TRAVEL[:2], travel)
    outcome = services.retrain_agency(triage_cast.agency_a, base=small_seed())
    assert (outcome.status, outcome.corrections) == ("skipped", 2)
    assert not TriageModel.objects.exists()


def test_a_better_model_replaces_the_one_in_use(triage_cast: Cast) -> None:
    cast = triage_cast
    wine = Category.objects.create(
        agency=cast.agency_a, slug="wine", name_en="Wine", name_de="Wein"
    )
    corrected_tasks(cast, WINE, wine)
    outcome = services.retrain_agency(cast.agency_a, base=small_seed())
    assert outcome.status == "replaced"
    assert outcome.candidate_accuracy > outcome.current_accuracy
    model = TriageModel.objects.get(agency=cast.agency_a, is_active=True)
    assert "wine" in model.classes and model.corrections + model.holdout == len(WINE)
    classifier, label = services.classifier_for(cast.agency_a.pk)
    assert label == str(model.pk)
    assert classifier.predict("Bitte 24 Flaschen Wein beim Weingut bestellen").slug == ("wine")
    # The other agency keeps the seed model.
    assert services.classifier_for(cast.agency_b.pk)[1] == "seed"
    # Triage of a new task uses the agency's model.
    task = task_services.create_task(
        cast.carol, client=cast.acme, title="Wein", channel=Task.Channel.SMS,
        description="Kannst du beim Weinhändler 10 Flaschen Wein nachbestellen?",
    )  # fmt: skip
    result = services.triage_task(task.pk)
    assert result is not None and result.model_label == str(model.pk)
    assert result.category == wine


def test_a_model_that_is_not_better_is_not_used(triage_cast: Cast) -> None:
    # The seed model already gets these right: a candidate cannot be strictly better.
    travel = Category.objects.get(agency=triage_cast.agency_a, slug="travel")
    corrected_tasks(triage_cast, TRAVEL, travel)
    outcome = services.retrain_agency(triage_cast.agency_a, base=small_seed())
    assert outcome.status == "kept"
    assert outcome.current_accuracy == 1.0
    assert not TriageModel.objects.exists()
    assert services.classifier_for(triage_cast.agency_a.pk)[1] == "seed"


def test_the_command_and_the_daily_job_retrain_agencies_with_new_corrections(
    triage_cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "seed_examples", small_seed)
    wine = Category.objects.create(
        agency=triage_cast.agency_a, slug="wine", name_en="Wine", name_de="Wein"
    )
    corrected_tasks(triage_cast, WINE, wine)
    job = next(job for job in registry if job.name == "triage.retrain")
    assert job.every_seconds == 24 * 3600 and job.get_task() is retrain_classifiers
    outcomes = retrain_classifiers.call()
    assert [o["status"] for o in outcomes] == ["replaced"]
    # Nothing new since the model was trained: the next run has nothing to do.
    assert retrain_classifiers.call() == []
    out = StringIO()
    call_command("retrain_triage", stdout=out)
    assert "No agency has new corrections." in out.getvalue()
    call_command("retrain_triage", "--agency", "alpha", stdout=out)
    assert "alpha: kept" in out.getvalue()


def test_the_holdout_split_is_stable_and_keeps_repeated_requests_together() -> None:
    examples = [(text, "wine", f"task-{i}") for i, text in enumerate(WINE)]
    # The same request sent again (other task, other spacing and case) and a travel one.
    examples += [("bitte 12 flaschen  Riesling beim Weingut Keller nachbestellen", "wine", "x")]
    examples += [(text, "travel", f"trip-{i}") for i, text in enumerate(TRAVEL)]
    training, holdout = services._split(examples)
    assert sorted(training + holdout) == sorted((text, slug) for text, slug, _ in examples)
    assert 0 < len(holdout) < len(training)
    repeated = {"bitte 12 flaschen riesling beim weingut keller nachbestellen"}
    in_holdout = [t for t, _ in holdout if " ".join(t.lower().split()) in repeated]
    in_training = [t for t, _ in training if " ".join(t.lower().split()) in repeated]
    assert sorted([len(in_holdout), len(in_training)]) == [0, 2]
    # Order of arrival and task ids do not change the split.
    again = services._split(list(reversed(examples)))
    assert sorted(again[1]) == sorted(holdout)


def test_it_learns_from_the_clients_own_words_only(
    triage_cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Triage classifies a message without quoted history and signature; retraining
    # must learn from the same text, not from the words of a quoted mail.
    trained: list[tuple[str, str]] = []
    real_train = services.train

    def spy(examples: list[tuple[str, str]]) -> object:
        trained.extend(examples)
        return real_train(examples)

    monkeypatch.setattr(services, "train", spy)
    wine = Category.objects.create(
        agency=triage_cast.agency_a, slug="wine", name_en="Wine", name_de="Wein"
    )
    quoted = "\n\nViele Grüße\nCarol\nReisebüro Sonnenschein\n\n> Ihr Flug nach Rom ist gebucht"
    corrected_tasks(triage_cast, [text + quoted for text in WINE], wine)
    services.retrain_agency(triage_cast.agency_a, base=small_seed())
    corrections = [text for text, slug in trained if slug == "wine"]
    assert corrections and not any("Reisebüro" in t or "Rom" in t for t in corrections)
    assert any(t.startswith("Bitte 12 Flaschen Riesling") for t in corrections)
