"""The bilingual keyword features: which kind of work a word stands for."""

import pytest

from delegate.triage.keywords import keyword_features


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A stem inside a longer word of another kind of work is not a match.
        ("Bitte mein Postfach aufräumen", ["#email"]),
        ("Please prepare the presentation", ["#documents"]),
        ("Add the appointment", ["#calendar"]),
        ("Bitte die Information weitergeben", []),
        ("Read the history", []),
        # … while the word itself, its plural and compounds still are.
        ("Please schedule two posts", ["#social-media"]),
        ("Get a present for her", ["#errands"]),
        ("The app is slow", ["#web-tech"]),
        ("Bitte das Dokument formatieren", ["#documents", "#documents"]),
        # German "E-Mail" and compounds of "Mail" are mail.
        ("Bitte eine E-Mail und eine Rundmail schreiben", ["#email", "#email", "#email"]),
        ("Mahnstufe 2, bitte ans Inkasso", ["#invoicing", "#invoicing"]),
    ],
)
def test_it_maps_words_to_their_kind_of_work(text: str, expected: list[str]) -> None:
    assert keyword_features(text) == expected
