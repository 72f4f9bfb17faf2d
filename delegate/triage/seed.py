"""The shipped bilingual seed training set for the category classifier.

Generated from short hand-written phrases per category (German and English), combined
with openers, details and closings the way clients write: SMS fragments, chat questions,
email bodies. It is deliberately separate from ``eval/triage`` (nothing there is read
here), and deterministic (a fixed random seed), so every process trains the same seed
model. Agencies add their own examples through corrections (see ``services``).
"""

from __future__ import annotations

import random

from delegate.triage import seed_context, seed_messages
from delegate.triage.seed_requests import MESSAGES, REQUESTS
from delegate.triage.text import prepare

# category slug -> (German task phrases, English task phrases)
# fmt: off
PHRASES: dict[str, tuple[list[str], list[str]]] = {
    "calendar": (
        [
            "den Termin mit {person} verschieben", "einen Termin mit {person} vereinbaren",
            "das Meeting in meinen Kalender eintragen", "die Besprechung absagen",
            "einen Call mit {person} einplanen", "die Einladung für das Meeting verschicken",
            "einen gemeinsamen Termin für das Team finden", "meinen Kalender aufräumen",
            "die Telefonkonferenz auf nächste Woche legen", "einen Zeitslot für das Gespräch blocken",
            "die Terminanfrage von {person} annehmen", "eine Doodle-Umfrage für den Termin starten",
            "das Jour fixe wöchentlich einrichten", "den Arzttermin in den Kalender eintragen",
            "alle Termine am Vormittag verlegen", "eine Erinnerung im Kalender setzen",
        ],
        [
            "reschedule the meeting with {person}", "set up a call with {person}",
            "put the appointment in my calendar", "cancel the meeting",
            "find a time slot that works for everyone", "send the calendar invite",
            "block time in my calendar for focus work", "accept the meeting invite from {person}",
            "move my call to next week", "schedule a recurring one-on-one",
            "clean up my calendar", "book a meeting room and send the invite",
            "coordinate a date with {person}'s assistant", "decline the invitation politely",
            "set a reminder in my calendar", "arrange a kick-off meeting with the team",
        ],
    ),
    "email": (
        [
            "{person} auf die E-Mail antworten", "eine höfliche Absage schreiben",
            "mein Postfach sortieren", "die Mail an den Kunden formulieren",
            "ein Antwortschreiben an {person} aufsetzen", "die Newsletter im Posteingang archivieren",
            "eine Abwesenheitsnotiz einrichten", "den Brief an die Behörde schreiben",
            "die Korrespondenz mit der Versicherung übernehmen", "eine Dankesmail verschicken",
            "der Vermieterin zurückschreiben", "die Mails von gestern durchgehen",
            "ein Anschreiben an alle Mitglieder entwerfen", "eine Kündigung per Brief schicken",
            "die Anfrage von {person} beantworten", "eine Rundmail an die Kunden schicken",
        ],
        [
            "reply to {person}'s email", "draft a polite answer to the letter",
            "sort my inbox and flag what matters", "write a follow-up email to {person}",
            "archive the newsletters in my inbox", "set up an out-of-office reply",
            "send a thank-you note", "write a formal letter to the landlord",
            "answer the emails in my inbox", "draft a response to the complaint letter",
            "unsubscribe me from marketing emails", "send a short note to {person}",
            "proofread my email before it goes out", "write to the supplier about the delay",
            "take over the correspondence with {person}", "send a mail merge letter to members",
        ],
    ),
    "travel": (
        [
            "einen Flug nach {city} buchen", "ein Hotel in {city} reservieren",
            "Bahntickets nach {city} besorgen", "einen Mietwagen buchen",
            "den Flug umbuchen", "online einchecken", "die Reise nach {city} organisieren",
            "ein Zimmer nahe dem Bahnhof suchen", "einen Transfer vom Flughafen organisieren",
            "einen Parkplatz am Flughafen reservieren", "die Zugverbindung raussuchen",
            "das Visum für die Reise beantragen", "die Hotelbuchung stornieren",
            "eine Alternative für den ausgefallenen Zug finden", "die Dienstreise planen",
            "die BahnCard verlängern",
        ],
        [
            "book a flight to {city}", "book a hotel in {city}", "get train tickets to {city}",
            "rent a car for the trip", "rebook my flight", "check me in online",
            "organise the business trip to {city}", "find a hotel near the station",
            "arrange an airport transfer", "book a taxi to the airport",
            "apply for the travel visa", "cancel the hotel reservation",
            "find me the next flight home", "plan the itinerary for the trip",
            "book an airport parking space", "look for cheap flights to {city}",
        ],
    ),
    "invoicing": (
        [
            "eine Rechnung an {company} schreiben", "die Rechnung über {amount} stellen",
            "eine Zahlungserinnerung verschicken", "die Mahnung an {company} schicken",
            "prüfen, ob die Zahlung eingegangen ist", "die Rechnung von {company} bezahlen",
            "eine Gutschrift erstellen", "die Überweisung über {amount} ausführen",
            "die Anzahlungsrechnung schicken", "die offene Rechnung anmahnen",
            "die Rechnungen für den Monat schreiben", "die Lastschrift zurückholen",
            "den Zahlungslink an den Kunden schicken", "die Rechnung nochmal senden",
            "eine Erstattung über {amount} veranlassen", "die Rechnung reklamieren",
        ],
        [
            "send an invoice to {company}", "invoice {company} for {amount}",
            "chase the unpaid invoice", "send a payment reminder to {company}",
            "check whether the payment came in", "pay the invoice from {company}",
            "issue a credit note", "make a bank transfer of {amount}",
            "send the payment link for the deposit", "raise invoices for last month",
            "refund {amount} to the customer", "retry the failed card payments",
            "resend the invoice", "dispute the overcharged bill",
            "pay the supplier invoice of {amount}", "send the overdue notice",
        ],
    ),
    "bookkeeping": (
        [
            "die Belege in DATEV hochladen", "die Buchhaltung für den Monat machen",
            "die Kontoauszüge abgleichen", "die Reisekostenabrechnung erstellen",
            "die Quittungen verbuchen", "die Unterlagen für die Steuerberaterin zusammenstellen",
            "die Umsatzsteuervoranmeldung vorbereiten", "das Kassenbuch prüfen",
            "die Eingangsrechnungen buchen", "die offenen Posten auflisten",
            "die Lohnunterlagen ans Lohnbüro schicken", "die Kostenstellen einrichten",
            "die BWA prüfen", "die Belege den Buchungen zuordnen",
            "die Unterlagen für den Jahresabschluss sammeln", "die Ausgaben kategorisieren",
        ],
        [
            "reconcile the bank account", "upload the receipts to the accounting software",
            "categorise the expenses in QuickBooks", "do the bookkeeping for last month",
            "prepare the documents for the accountant", "post the payroll journal in Xero",
            "log the receipts as travel expenses", "match payments to the ledger",
            "prepare the VAT return documents", "send the bank statements to the tax advisor",
            "set up cost centres in the accounts", "check the profit and loss statement",
            "prepare the expense report", "record the petty cash entries",
            "pull the year-end figures for the accountant", "fix the double booking in the ledger",
        ],
    ),
    "social-media": (
        [
            "den Post auf LinkedIn veröffentlichen", "ein Foto auf Instagram posten",
            "die Kommentare auf Facebook beantworten", "einen Redaktionsplan für Instagram erstellen",
            "die Story online stellen", "den Beitrag auf Xing teilen",
            "einen TikTok-Account anlegen", "die Posts für nächste Woche einplanen",
            "den fiesen Kommentar löschen", "Hashtags für den Post raussuchen",
            "die Follower-Zahlen auswerten", "den Blogartikel auf Social Media teilen",
            "die Bewertungen auf Google beantworten", "das Gewinnspiel auf Instagram betreuen",
            "das Profilbild auf LinkedIn aktualisieren", "Captions für Instagram schreiben",
        ],
        [
            "post this on LinkedIn", "share the photo on Instagram",
            "reply to the comments on our Facebook post", "schedule the posts for next week",
            "write captions for Instagram", "create a content calendar for social media",
            "tweet the announcement", "update our LinkedIn company page",
            "respond to the Google reviews", "find hashtags for the campaign",
            "pull the follower growth numbers", "put the story up on Insta",
            "delete the spam comments and block the account", "set up a TikTok account",
            "run the giveaway on Instagram", "draft the LinkedIn newsletter",
        ],
    ),
    "support": (
        [
            "die Kundenanfragen im Support-Postfach beantworten", "den Kunden zurückrufen",
            "die Reklamation bearbeiten", "die Tickets abarbeiten",
            "der Kundin wegen der Retoure antworten", "die Beschwerde von {person} klären",
            "einen Ersatz für die beschädigte Lieferung schicken", "die Hotline übernehmen",
            "die Textbausteine für den Support pflegen", "den Kundenchat betreuen",
            "die Stornierung für den Kunden bearbeiten", "einen Nachforschungsauftrag bei DHL starten",
            "die häufigsten Kundenfragen für die FAQ sammeln", "dem Kunden eine Gutschrift anbieten",
            "die Umtauschanfrage bearbeiten", "den verärgerten Kunden beruhigen",
        ],
        [
            "answer the customer tickets in Zendesk", "call the customer back",
            "handle the customer complaint", "reply to the support inbox",
            "arrange a replacement for the damaged order", "process the return request",
            "write canned responses for the help desk", "reply to the customers about the delay",
            "look into the missing refund for the customer", "escalate the angry customer",
            "cover the support chat", "update the help centre FAQ",
            "answer customer questions on WhatsApp", "send the customer a return label",
            "follow up with the customer about their order", "reply to the 1-star reviews",
        ],
    ),
    "documents": (
        [
            "eine Vorlage für Angebote erstellen", "die Präsentation formatieren",
            "das Protokoll der Besprechung schreiben", "den Vertrag aus der Vorlage erstellen",
            "das Dokument ins Englische übersetzen", "die Unterlagen einscannen",
            "ein Handout aus der Tabelle machen", "den Serienbrief vorbereiten",
            "die AGB neu formatieren", "den Lebenslauf gestalten",
            "eine Vorlage für Arbeitszeugnisse anlegen", "das PDF zusammenfügen",
            "die Sprachnachricht abtippen und zusammenfassen", "den Text Korrektur lesen",
            "die Unterschriftenmappe vorbereiten", "einen Briefbogen als Vorlage bauen",
        ],
        [
            "create a template for our proposals", "format the presentation in our design",
            "write up the meeting minutes", "draft the contract from the template",
            "translate the document into German", "scan the documents and save them as PDF",
            "turn the spreadsheet into a handout", "proofread the brochure",
            "merge the documents into one PDF", "design a letterhead template",
            "transcribe the voice memo", "make a nicer version of the one-pager",
            "put together a checklist template", "prepare the tender documents",
            "fix the table of contents in the report", "format the CV",
        ],
    ),
    "research": (
        [
            "recherchieren, welche Anbieter es gibt", "drei Angebote vergleichen",
            "eine Location für die Feier finden", "herausfinden, was das kostet",
            "eine Liste möglicher Lieferanten zusammenstellen", "Förderprogramme recherchieren",
            "Hintergrundinfos zur Firma {company} sammeln", "einen Steuerberater in {city} suchen",
            "die Öffnungszeiten herausfinden", "Preise für Stromanbieter vergleichen",
            "Messen für unsere Branche recherchieren", "ein Dossier über {company} erstellen",
            "Coworking-Spaces in {city} suchen", "Optionen für ein Geschenk raussuchen",
            "den richtigen Ansprechpartner bei {company} finden", "eine Marktübersicht erstellen",
        ],
        [
            "research the options and send me a shortlist", "compare three providers",
            "find out what it costs", "look up the opening hours",
            "compile a list of potential suppliers", "find a venue for the offsite",
            "research competitors' pricing", "find the right contact at {company}",
            "dig up background on {company}", "look into grant programmes",
            "find coworking spaces in {city}", "check what we need to register a company",
            "summarise the new regulation for me", "find three gift ideas",
            "compare software tools for us", "find a notary who speaks English",
        ],
    ),
    "data-entry": (
        [
            "die Kontakte ins CRM eintragen", "die Adressliste in Excel übertragen",
            "die Visitenkarten in HubSpot anlegen", "die Daten in die Tabelle eingeben",
            "die Bestellungen ins Warenwirtschaftssystem übertragen", "die Inventarliste abtippen",
            "die Teilnehmerliste einpflegen", "die Stundenzettel in die Zeiterfassung eintragen",
            "die Kundendaten aktualisieren", "die Dubletten in der Datenbank bereinigen",
            "die Fragebögen ins Online-Formular übertragen", "die Artikeldaten in die Liste eintragen",
            "die Zählerstände in die Tabelle eintragen", "die Spendeneingänge erfassen",
            "die Adressen in die Etikettenvorlage übertragen", "die Preise im Shop-Backend ändern",
        ],
        [
            "enter the contacts into the CRM", "copy the data into the spreadsheet",
            "type up the handwritten forms", "add the new leads to Salesforce",
            "update the records in the database", "dedupe the contacts in Mailchimp",
            "digitise the paper forms into Airtable", "log the mileage in the spreadsheet",
            "import the customer list into the new system", "update the guest list with the RSVPs",
            "enter the survey results", "move the deals from Trello to Pipedrive",
            "fill in the product data", "key in the donations",
            "update the prices for all SKUs", "transfer the addresses into the template",
        ],
    ),
    "web-tech": (
        [
            "die Website aktualisieren", "das Impressum auf der Website ändern",
            "das Passwort zurücksetzen", "den Drucker wieder zum Laufen bringen",
            "ein Microsoft-365-Konto einrichten", "die Domain umziehen",
            "das Kontaktformular reparieren", "das SSL-Zertifikat verlängern",
            "die Bilder auf der Website komprimieren", "ein Newsletter-Formular einbauen",
            "das WLAN im Büro prüfen", "die Software auf dem Rechner updaten",
            "den Zugriff auf den Ordner freigeben", "das Backup vom Server prüfen",
            "die Versandkosten im Shop ändern", "den Hoster wegen der Störung anrufen",
        ],
        [
            "update the website", "fix the broken links on the site",
            "reset the password", "set up a new email account",
            "renew the SSL certificate", "transfer the domain",
            "fix the contact form", "install the software update",
            "set up a shared drive and give access", "sort out the login problem",
            "the website is down, contact the host", "add a signup form to the homepage",
            "clean up our Slack workspace", "fix my laptop issue",
            "integrate online booking into the website", "check the server backup",
        ],
    ),
    "errands": (
        [
            "Blumen bestellen und liefern lassen", "ein Geschenk für {person} besorgen",
            "den Handwerker organisieren", "beim Schlüsseldienst anrufen",
            "die Reinigung abholen lassen", "einen Tisch im Restaurant reservieren",
            "einen Termin in der Autowerkstatt machen", "Kaffee fürs Büro bestellen",
            "den Weihnachtsbaum liefern lassen", "eine Putzkraft für die Wohnung finden",
            "das Paket abholen lassen", "einen Geschenkgutschein kaufen",
            "den Tierarzttermin für den Hund ausmachen", "die Weihnachtskarten verschicken",
            "die Fitnessstudio-Mitgliedschaft verlängern", "jemanden zum Blumengießen organisieren",
        ],
        [
            "order flowers for {person}", "buy a present for {person}",
            "book a table for dinner", "organise a plumber", "pick up my dry cleaning",
            "get the car booked in at the garage", "order a birthday cake",
            "arrange a cleaner for the flat", "pick up the prescription",
            "order gifts for the team", "renew my gym membership",
            "get someone to water the plants", "order office supplies",
            "send the Christmas cards", "get the fridge repaired",
            "book a vet appointment for the dog",
        ],
    ),
    "other": (
        [
            "danke für alles", "wie viele Stunden haben wir verbraucht",
            "wer ist mein Ansprechpartner", "ich bin heute nicht erreichbar",
            "können wir kurz telefonieren", "frohe Weihnachten",
            "meine neue Telefonnummer", "habt ihr nächsten Monat mehr Kapazität",
            "Test", "alles gut gelaufen", "kurze Frage zur Zusammenarbeit",
            "schöne Feiertage euch", "ich melde mich später", "passt so, danke",
            "wie läuft es bei euch", "Frage zu unserem Paket",
        ],
        [
            "thanks for everything", "how many hours have we used",
            "who is my contact", "I am out of office today",
            "can we have a quick call", "merry Christmas", "my new phone number",
            "do you have more capacity next month", "testing the new channel", "all good, thanks",
            "quick question about how we work", "happy holidays", "I'll get back to you",
            "sounds good", "how are things", "question about our plan",
        ],
    ),
}
# fmt: on

_FILL = {
    "person": ["Herrn Weber", "Frau Schulz", "Anna", "Jonas", "Dr. Kraus", "Priya", "Mike",
               "Mr Smith", "Sarah", "Tom", "Frau Öztürk", "Lukas"],
    "city": ["Berlin", "München", "Hamburg", "Wien", "London", "Paris", "Madrid", "Zürich",
             "Köln", "Amsterdam", "Mailand", "New York"],
    "company": ["Müller GmbH", "Acme Ltd", "Schneider AG", "Nordwind", "Bluebird Inc",
                "Keller & Co", "Stadtwerke", "Greenfield"],
    "amount": ["250 €", "1.200 €", "€ 89,90", "£450", "$1,300", "3.500 EUR", "CHF 800"],
}  # fmt: skip

_OPEN = {
    "de": ["", "", "Hallo, ", "Hi, ", "Moin, ", "Kannst du bitte ", "Könnten Sie bitte ",
           "Bitte ", "Kurze Bitte: ", "Guten Morgen, bitte ", "Hey, kannst du "],
    "en": ["", "", "Hi, ", "Hello, ", "Can you ", "Could you please ", "Please ",
           "Quick one: ", "Hey, could you ", "Morning, please ", "Would you "],
}  # fmt: skip
_CLOSE = {
    "de": ["", "", "?", ", danke!", ". Danke dir", ", bis Freitag bitte", " – eilt!",
           ". Viele Grüße", ", wäre super", " morgen früh bitte", ". Details im Anhang."],
    "en": ["", "", "?", ", thanks!", ". Cheers", " by Friday please", " asap", ". Best",
           ", would be great", " tomorrow morning pls", ". Details attached."],
}  # fmt: skip


def _fill(phrase: str, rng: random.Random) -> str:
    for key, values in _FILL.items():
        token = "{" + key + "}"
        while token in phrase:
            phrase = phrase.replace(token, rng.choice(values), 1)
    return phrase


def _sms(text: str) -> str:
    """A request as typed on a phone: lower case, no final punctuation."""
    return text.lower().rstrip(".!?")


def seed_groups(per_phrase: int = 3) -> list[tuple[str, str, str]]:
    """(group, text, category slug) triples: every phrase ``per_phrase`` times in varied
    frames, every whole request of ``seed_requests`` as written and SMS-style, and every
    whole message of ``seed_requests``, ``seed_messages`` and ``seed_context`` as triage
    reads it. The
    variants of one phrase or request share a group, so a dev split by group never
    scores a model on a variant of its own training text."""
    rng = random.Random(4711)
    examples: list[tuple[str, str, str]] = []
    for slug, (german, english) in PHRASES.items():
        for language, phrases in (("de", german), ("en", english)):
            for index, phrase in enumerate(phrases):
                group = f"{slug}/{language}/{index}"
                for _ in range(per_phrase):
                    text = _fill(phrase, rng)
                    opener = rng.choice(_OPEN[language])
                    if not opener:
                        text = text[:1].upper() + text[1:]
                    closing = rng.choice(_CLOSE[language])
                    examples.append((group, f"{opener}{text}{closing}", slug))
    for slug, requests in REQUESTS.items():
        for index, request in enumerate(requests):
            group = f"{slug}/request/{index}"
            examples.append((group, request, slug))
            examples.append((group, _sms(request), slug))
    for slug, messages in MESSAGES.items():
        for index, message in enumerate(messages):
            # Only the client's own words, as triage reads them: no quote, no signature.
            body = prepare(message).body
            examples.append((f"{slug}/request/m{index}", body, slug))
    for prefix, module in (("n", seed_messages), ("c", seed_context)):
        for slug, messages in module.MESSAGES.items():
            for index, message in enumerate(messages):
                body = prepare(message).body
                examples.append((f"{slug}/request/{prefix}{index}", body, slug))
    return examples


def seed_examples(per_phrase: int = 3) -> list[tuple[str, str]]:
    """(text, category slug) pairs: the seed training set (see ``seed_groups``)."""
    return [(text, slug) for _group, text, slug in seed_groups(per_phrase)]
