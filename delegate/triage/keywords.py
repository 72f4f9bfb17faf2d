"""Bilingual keyword features for the category classifier: words of one kind of work, in
German and English, count as one feature ("Rechnung", "invoice" and "Mahnung" all become
``#invoicing``). A German seed example then teaches the model about an English request
with the same kind of word and back, which character n-grams alone cannot. The most
common words of French, Italian, Spanish and Dutch requests are in the lists too
("facture", "fattura", "factura", "factuur"): the seed set has few such requests.

The lists hold the everyday vocabulary of each category, not phrases of any message; a
word stem matches any word that contains it (German compounds: "Bahnticket" holds
"ticket"), short stems (under five letters) only the beginning of a word. Where that
reads the wrong kind of work into a word, a stem says how it matches: ``post.`` only the
word itself or its plural ("post", "posts", not "Postfach"), ``^format`` only the
beginning ("formatieren", not "Information"), ``*mail`` anywhere ("Rundmail").
"""

from __future__ import annotations

import re
from functools import lru_cache

# fmt: off
KEYWORDS: dict[str, str] = {
    "calendar": """termin kalender calendar diary meeting besprechung einladung invite
        invitation appointment verschieb reschedul verleg jour slot doodle verfügbar availab
        sitzung webinar videocall telefonkonferenz zeitfenster zeitslot call. calls. telko
        blocken block. fokus focus one-on-one catch-up stand-up standup
        réunion rendez-vous riunione appuntamento reunión cita. afspraak vergadering
        calendario calendrier""",
    "email": """*mail postfach inbox posteingang antwort reply brief. briefe.
        letter korrespondenz correspondence abwesenheit out-of-office anschreib
        zurückschreib respond absage dankes thank-you ^schreib write
        courriel répond rispond correo contestar""",
    "travel": """flug flight hotel zug train bahn reise trip travel mietwagen rental taxi
        flughafen airport einchecken check-in boarding visum visa umbuch rebook
        itinerary übernachtung zimmer sitzplatz seat abflug bahncard ice. fähre ferry
        transfer
        vol. volo. vuelo billet biglietto billete albergo hôtel treno. tren. trein voyage
        viaggio viaje""",
    "invoicing": """rechnung invoice ^mahn inkasso zahlung payment überweis überwies bezahl
        erstatt refund gutschrift credit lastschrift debit anzahlung deposit unpaid overdue
        outstanding paid. pay. überfällig zahlungsziel billing bill kaution zahlungs skonto
        proforma dauerauftrag
        facture fattura factura factuur paiement pagamento pago. betaling""",
    "bookkeeping": """buchhaltung bookkeeping beleg receipt quittung datev lexoffice
        sevdesk xero quickbooks bexio bmd. steuer tax umsatzsteuer vat mwst kontoauszug
        statement abgleich reconcil kasse ledger journal spesen expense reisekosten
        abschreibung depreciation jahresabschluss year-end month-end lohn payroll
        kostenstelle accountant accounting accrual verbuch kontier bwa transaction
        transaktion umsätze. verbindlichkeit bilanz eür einnahmenüberschuss audit
        comptab contabil boekhoud justificatif ricevut recibo bonnetje tva. iva.""",
    "social-media": """instagram insta facebook linkedin tiktok twitter youtube pinterest xing
        threads. post. posten. posting gepostet beitrag story. stories reel hashtag
        follower kommentar comment social kanal channel caption influencer content
        redaktionsplan karussell carousel""",
    "support": """kunde kundin customer reklamation reklamier complaint beschwer rücksend
        retoure umtausch exchange ersatz replacement helpdesk zendesk support hotline
        bestellung order. lieferung delivery garantie warranty faq abo
        subscription
        commande ordine. pedido bestelling réclamation reclamo reclamaci klacht devoluci""",
    "documents": """vorlage template dokument document pdf präsentation presentation
        folie slide deck. layout ^format protokoll minutes bericht report handbuch
        handbook form. formular flyer broschüre brochure lebenslauf deckblatt
        inhaltsverzeichnis contents korrektur proofread canva vertrag contract
        briefkopf letterhead serienbrief whitepaper handout memo. one-pager onepager
        plakat gestalt
        modèle modello plantilla sjabloon présentation presentazione presentación presentatie""",
    "research": """recherch research vergleich compar herausfind rausfind überblick
        übersicht overview anbieter provider markt. marktanalys market. statistik
        statistic förder grant anforderung requirement genehmigung permit optionen
        options benchmark wettbewerb competitor konkurrenz alternativ
        confront ricerca investig uitzoek subsid""",
    "data-entry": """eintrag ^enter eingeb abtipp type übertrag erfass datenbank
        database tabelle spreadsheet excel sheet crm hubspot airtable einpfleg pflege
        importier import. dublette duplicate daten data csv.
        inserire introducir invoer""",
    "web-tech": """website webseite homepage domain server hosting hoster plugin wordpress
        shopify ssl zertifikat certificate dns wlan wifi wi-fi drucker printer laptop
        computer passwort password login vpn backup update software app. bug fehler
        error crash absturz cms outlook slack zugang access landingpage cookie router
        install authenti zwei-faktor two-factor dkim dmarc voip browser
        hébergeur portatile wachtwoord""",
    "errands": """besorg kauf buy geschenk gift present. blumen flowers handwerker
        plumber klempner installateur elektriker electrician schlüssel locksmith reinigung
        cleaning putz cleaner restaurant tisch table. babysitter sitter tierarzt
        vet. apotheke pharmacy werkstatt garage reifen paket parcel abhol pick
        lebensmittel groceries einkauf shopping umzug removal maler painter gärtner
        gardener friseur hairdresser konzert theater ausweis passport führerschein
        licence bürgeramt schuster cobbler geburtstag birthday torte cake sperrmüll
        optiker möbel furniture ikea
        fleurs fiori flores idraulico fontanero loodgieter plombier cadeau regalo ristorante""",
    "other": """danke thanks thank krank sick test. urlaub holiday erreichbar erledigt
        status stand. stunden hours
        merci grazie gracias bedankt""",
}
# fmt: on

_STEMS: tuple[tuple[str, str], ...] = tuple(
    (stem, slug) for slug, words in KEYWORDS.items() for stem in words.split()
)
_TOKEN = re.compile(r"[^\W\d_][\w-]*")


def _matches(stem: str, token: str) -> bool:
    if stem.endswith("."):
        return token in (stem[:-1], stem[:-1] + "s")
    if stem.startswith("^"):
        return token.startswith(stem[1:])
    if stem.startswith("*"):
        return stem[1:] in token
    return token.startswith(stem) if len(stem) < 5 else stem in token


@lru_cache(maxsize=65536)
def _concepts(token: str) -> tuple[str, ...]:
    return tuple(f"#{slug}" for stem, slug in _STEMS if _matches(stem, token))


def keyword_features(text: str) -> list[str]:
    """The ``#category`` features of ``text``: one per matching word (an analyzer for
    scikit-learn's vectorizers; module-level so that models pickle)."""
    features: list[str] = []
    for token in _TOKEN.findall(text.lower()):
        features.extend(_concepts(token))
    return features
