"""The seed training set is kept apart from the eval set (eval/triage): no eval message,
and no run of its words long enough to be a copied sentence, is in the training data."""

import re

from delegate.triage.seed import seed_examples
from delegate.triage.text import prepare
from eval.triage.dataset import load

# Seven words in a row is a copied clause; shorter runs are shared turns of phrase
# ("could you set up a shared …" in two unrelated requests).
SHINGLE = 7


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = _words(text)
    return {tuple(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)}


def test_it_keeps_every_eval_message_out_of_the_seed_set() -> None:
    seed = {" ".join(_words(text)) for text, _slug in seed_examples()}
    for example in load():
        for text in (example.text, prepare(example.text).body):
            assert " ".join(_words(text)) not in seed, example.id


def test_it_shares_no_run_of_seven_words_with_an_eval_message() -> None:
    seed: set[tuple[str, ...]] = set()
    for text, _slug in seed_examples():
        seed |= _shingles(text)
    shared = {
        example.id: sorted(_shingles(example.text) & seed)[:3]
        for example in load()
        if _shingles(example.text) & seed
    }
    assert shared == {}


def test_it_would_notice_a_copied_message() -> None:
    example = load()[0]
    copied = f"Hallo, {example.text.lower()} danke"
    assert _shingles(example.text) & _shingles(copied)
