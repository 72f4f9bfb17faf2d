"""Bilingual keyword features for the category classifier: words of one kind of work, in
German and English, count as one feature ("Rechnung", "invoice" and "Mahnung" all become
``#invoicing``). A German seed example then teaches the model about an English request
with the same kind of word and back, which character n-grams alone cannot.

The lists hold the everyday vocabulary of each category, not phrases of any message; a
word stem matches any word that contains it (German compounds: "Zugticket" holds "ticket"),
short stems (under five letters) only the beginning of a word.
"""

from __future__ import annotations

import re
from functools import lru_cache

# fmt: off
KEYWORDS: dict[str, str] = {
    "calendar": """termin kalender calendar diary meeting besprechung einladung invite
        invitation appointment verschieb reschedule jour slot doodle verfügbar availab
        sitzung webinar videocall telefonkonferenz zeitfenster zeitslot""",
    "email": """mail postfach inbox posteingang antwort reply brief letter korrespondenz
        correspondence abwesenheit out-of-office anschreiben zurückschreib respond
        absage dankes thank-you schreib write""",
    "travel": """flug flight hotel zug train bahn reise trip travel mietwagen rental taxi
        flughafen airport einchecken check-in boarding visum visa umbuch rebook
        itinerary übernachtung zimmer sitzplatz seat abflug bahncard ice fähre ferry
        transfer""",
    "invoicing": """rechnung invoice mahnung zahlung payment überweis bezahl erstatt
        refund gutschrift credit lastschrift debit anzahlung deposit unpaid overdue
        überfällig zahlungsziel billing bill kaution zahlungs""",
    "bookkeeping": """buchhaltung bookkeeping beleg receipt quittung datev lexoffice
        sevdesk xero quickbooks bexio steuer tax umsatzsteuer vat kontoauszug statement
        abgleich reconcil kasse ledger journal spesen expense reisekosten abschreibung
        depreciation jahresabschluss year-end lohn payroll kostenstelle accountant
        verbuch kontier bwa""",
    "social-media": """instagram facebook linkedin tiktok twitter youtube pinterest xing
        threads post beitrag story stories reel hashtag follower kommentar comment
        social kanal channel caption influencer content redaktionsplan karussell
        carousel""",
    "support": """kunde kundin customer reklamation complaint beschwer rücksend retoure
        umtausch exchange ersatz replacement helpdesk zendesk support hotline
        bestellung order lieferung delivery garantie warranty faq abo subscription
        ticket""",
    "documents": """vorlage template dokument document pdf präsentation presentation
        folie slide layout format protokoll minutes bericht report handbuch handbook
        formular form flyer broschüre brochure lebenslauf deckblatt inhaltsverzeichnis
        contents korrektur proofread canva vertrag contract""",
    "research": """recherch research vergleich compar herausfind find out überblick
        übersicht overview anbieter provider markt market statistik statistic förder
        grant anforderung requirement genehmigung permit optionen options""",
    "data-entry": """eintrag eintrag enter eingeb abtipp type übertrag erfass datenbank
        database tabelle spreadsheet excel sheet crm hubspot airtable einpfleg pflege
        import migrat dublette duplicate daten data""",
    "web-tech": """website webseite homepage domain server hosting hoster plugin wordpress
        shopify ssl zertifikat certificate dns wlan wifi wi-fi drucker printer laptop
        computer passwort password login vpn backup update software app bug fehler
        error crash absturz cms outlook slack zugang access landingpage cookie""",
    "errands": """besorg kauf buy geschenk gift present blumen flowers handwerker plumber
        klempner schlüssel locksmith reinigung cleaning putz cleaner restaurant tisch
        table babysitter sitter tierarzt vet apotheke pharmacy werkstatt garage reifen
        paket parcel abhol pick lebensmittel groceries einkauf shopping umzug
        removal maler painter gärtner gardener friseur konzert theater ausweis passport
        führerschein licence bürgeramt schuster cobbler geburtstag birthday torte cake""",
    "other": """danke thanks thank krank sick test urlaub holiday erreichbar erledigt
        status stand stunden hours""",
}
# fmt: on

_STEMS: tuple[tuple[str, str], ...] = tuple(
    (stem, slug) for slug, words in KEYWORDS.items() for stem in words.split()
)
_TOKEN = re.compile(r"[^\W\d_][\w-]*")


@lru_cache(maxsize=65536)
def _concepts(token: str) -> tuple[str, ...]:
    found = []
    for stem, slug in _STEMS:
        if token.startswith(stem) if len(stem) < 5 else stem in token:
            found.append(f"#{slug}")
    return tuple(found)


def keyword_features(text: str) -> list[str]:
    """The ``#category`` features of ``text``: one per matching word (an analyzer for
    scikit-learn's vectorizers; module-level so that models pickle)."""
    features: list[str] = []
    for token in _TOKEN.findall(text.lower()):
        features.extend(_concepts(token))
    return features
