"""Which language a message is written in: German and English first, a few others
recognised by their common words, other scripts by their letters. Deliberately small:
a stop-word count is enough for the question "which assistant can read this" and takes
microseconds."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_WORDS: dict[str, frozenset[str]] = {
    "de": _words(
        """und der die das ist nicht ich du sie wir ihr bitte danke mit für von bis auf
        den dem des ein eine einen einem einer noch auch schon mal kannst kannst können
        könnt könnten wäre sind hat habe haben wird werden mir mich dir dich uns euch
        ihnen bei nach vor zum zur im am um über heute morgen übermorgen woche termin
        gruß grüße hallo liebe lieber sehr geehrte geehrter wie was wer wo wann warum
        oder aber wenn dass weil ob soll sollte muss müssen brauche gern gerne anbei
        nächste nächsten diese dieser dieses unsere unser meine mein meinen"""
    ),
    "en": _words(
        """the and is are not you your we our they them please thanks thank with for
        from to of in on at by can could would should will need needs it this that
        these those my me i us be been have has had do does did what when where who
        why how hi hello dear regards best cheers tomorrow today next week there their
        an a as if so but or pls asap get let know some any"""
    ),
    "fr": _words(
        """le la les et est pas vous nous je tu il elle un une des du de pour avec sur
        dans merci bonjour cordialement votre vos notre avant après demain semaine
        pourriez pouvez être qui que"""
    ),
    "es": _words(
        """el la los las y es no usted nosotros yo tú un una de del para con por en
        gracias hola puedes puede mi mis su reunión mañana semana que qué"""
    ),
    "it": _words(
        """il lo la gli le e è non voi noi io tu un una di del della per con su in
        grazie ciao buongiorno favore manda mio mia domani settimana che"""
    ),
    "nl": _words(
        """de het een en is niet jij je wij we ik u van voor met op in aan kun kunt
        bedankt dank hoi groeten welke er zijn uitzoeken morgen week"""
    ),
    "pl": _words(
        """i w na z do nie się jest to proszę dziękuję dla mamy jutro tydzień czy
        jak że"""
    ),
    "tr": _words(
        """ve bir bu da de için ile mi mı misin musun lütfen teşekkürler yarın
        saat toplantı iptal edebilir"""
    ),
}

_TOKEN = re.compile(r"[^\W\d_]+", re.UNICODE)

_SCRIPTS = (
    ("CYRILLIC", "ru"),
    ("ARABIC", "ar"),
    ("GREEK", "el"),
    ("HEBREW", "he"),
    ("HIRAGANA", "ja"),
    ("KATAKANA", "ja"),
    ("HANGUL", "ko"),
    ("CJK", "zh"),
    ("THAI", "th"),
    ("DEVANAGARI", "hi"),
)


@dataclass(frozen=True)
class Language:
    code: str  # ISO 639-1, "" when there is nothing to go by
    confidence: float


def _script_language(text: str) -> tuple[Language | None, float]:
    """The language a non-Latin script names (if most letters are in it), and the share
    of letters outside the Latin script."""
    counts: dict[str, int] = {}
    letters = 0
    for char in text[:2000]:
        if not char.isalpha():
            continue
        letters += 1
        if char.isascii():
            continue
        name = unicodedata.name(char, "")
        for prefix, code in _SCRIPTS:
            if name.startswith(prefix):
                counts[code] = counts.get(code, 0) + 1
                break
    if not letters or not counts:
        return None, 0.0
    code, count = max(counts.items(), key=lambda item: item[1])
    share = count / letters
    foreign = sum(counts.values()) / letters
    return (Language(code, round(min(0.95, share), 2)) if share > 0.5 else None), foreign


# Letters of other scripts beyond this share make a Latin-script guess doubtful.
MIXED_SCRIPTS = 0.2


def detect_language(text: str) -> Language:
    """The language of ``text`` with a confidence between 0 and 1."""
    by_script, foreign = _script_language(text)
    if by_script is not None:
        return by_script
    scores = dict.fromkeys(_WORDS, 0.0)
    tokens = _TOKEN.findall(text[:2000].lower())
    for token in tokens:
        for code, words in _WORDS.items():
            if token in words:
                scores[code] += 1
    lowered = text[:2000].lower()
    scores["de"] += 0.5 * sum(lowered.count(c) for c in "äöüß")
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    (best, best_score), (_second, second_score) = ranked[0], ranked[1]
    if best_score == 0:
        return Language("", 0.0)
    # Share of the evidence, damped when there is little of it (a two-word SMS).
    share = best_score / (best_score + second_score)
    evidence = min(1.0, best_score / 4)
    confidence = share * (0.5 + 0.5 * evidence)
    if foreign > MIXED_SCRIPTS:
        confidence = min(confidence, 0.4)  # mixed scripts: a person should look
    return Language(best, round(confidence, 2))
