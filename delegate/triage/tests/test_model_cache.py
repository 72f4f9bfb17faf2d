"""The trained seed model is kept as a file, so a new worker does not train it again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from delegate.triage import classifier
from delegate.triage.seed import seed_examples

TEXTS = ["Bitte buche mir einen Flug nach Hamburg", "Please send the invoice to ACME"]


@pytest.fixture
def cache_dir(tmp_path: Path, settings: Any) -> Iterator[Path]:
    settings.TRIAGE_MODEL_CACHE_DIR = tmp_path
    classifier.seed_classifier.cache_clear()
    yield tmp_path
    classifier.seed_classifier.cache_clear()  # the next user loads the real one again


def test_a_new_process_loads_the_kept_model_instead_of_training(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trained = classifier.seed_classifier()
    (kept,) = cache_dir.glob("seed-*.pickle")
    assert kept == classifier.seed_model_path(seed_examples())
    classifier.seed_classifier.cache_clear()  # as in a new process

    def no_training(examples: Any) -> Any:
        raise AssertionError("trained again although the model was kept")

    monkeypatch.setattr(classifier, "train", no_training)
    loaded = classifier.seed_classifier()
    assert loaded is not trained
    assert [p.ranked for p in loaded.predict_many(TEXTS)] == [
        p.ranked for p in trained.predict_many(TEXTS)
    ]


def test_a_damaged_file_is_replaced_by_a_new_model(cache_dir: Path) -> None:
    path = classifier.seed_model_path(seed_examples())
    path.write_bytes(b"not a pickle")
    model = classifier.seed_classifier()
    assert model.predict(TEXTS[0]).slug == "travel"
    assert path.read_bytes() != b"not a pickle"
    assert classifier.Classifier.loads(path.read_bytes()).classes == model.classes


def test_other_seed_data_is_another_file() -> None:
    examples = seed_examples()
    assert classifier.seed_model_path(examples) == classifier.seed_model_path(list(examples))
    changed = [*examples[:-1], (examples[-1][0] + " bitte", examples[-1][1])]
    assert classifier.seed_model_path(changed) != classifier.seed_model_path(examples)


def test_scripts_without_django_settings_use_the_same_cache(tmp_path: Path) -> None:
    """bench/triage and eval/triage use the classifier without Django's settings."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["TRIAGE_MODEL_CACHE_DIR"] = str(tmp_path)
    code = (
        "from delegate.triage.classifier import seed_model_path\n"
        "from delegate.triage.seed import seed_examples\n"
        "print(seed_model_path(seed_examples()))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert Path(out.stdout.strip()).parent == tmp_path
