"""Word tables of the redactor (Italian first, then German, French, English): digit words,
separators, months, ordinal days, and the contexts that make a number an IBAN or a date a date
of birth."""

from __future__ import annotations

import re

# --------------------------------------------------------------------------------------------
# Language data (Italian first)
# --------------------------------------------------------------------------------------------

DIGIT_WORDS: dict[str, dict[str, str]] = {
    "it": {"zero": "0", "uno": "1", "una": "1", "un": "1", "due": "2", "tre": "3", "quattro": "4",
           "cinque": "5", "sei": "6", "sette": "7", "otto": "8", "nove": "9"},
    "de": {"null": "0", "eins": "1", "ein": "1", "eine": "1", "zwei": "2", "zwo": "2", "drei": "3",
           "vier": "4", "fünf": "5", "fuenf": "5", "sechs": "6", "sieben": "7", "acht": "8", "neun": "9"},
    "fr": {"zéro": "0", "zero": "0", "un": "1", "une": "1", "deux": "2", "trois": "3", "quatre": "4",
           "cinq": "5", "six": "6", "sept": "7", "huit": "8", "neuf": "9"},
    "en": {"zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
           "six": "6", "seven": "7", "eight": "8", "nine": "9"},
}
# Words that are a digit only next to other numbers ("un problema", "oh well", "eine Frage").
_WEAK = {"un", "una", "uno", "une", "ein", "eine", "oh", "one", "sei", "acht", "neuf"}
SEPARATOR_WORDS = {"punto": ".", "punkt": ".", "point": ".", "dot": ".", "virgola": " ", "komma": " ",
                   "virgule": " ", "trattino": "-", "bindestrich": "-", "strich": "-", "tiret": "-", "dash": "-",
                   "barra": "/", "slash": "/"}
JOINER_WORDS = {"et", "und", "and"}  # "vingt et un", "one hundred and five"
PLUS_WORDS = {"più", "piu", "plus"}
DOUBLE_WORDS = {"doppio": 2, "doppia": 2, "doppel": 2, "doppelt": 2, "double": 2, "triplo": 3, "triple": 3}
EMAIL_AT_WORDS = ("chiocciola", "chiocciolina", "at", "arobase", "arobas", "arrobase", "klammeraffe", "at-zeichen")
EMAIL_DOT_WORDS = ("punto", "punkt", "point", "dot")
# English words that come before "at" in speech and are no mailbox name ("available at shop dot ch")
_NOT_A_MAILBOX = {"look", "looked", "looking", "is", "are", "was", "were", "be", "been", "me", "him", "her", "us",
                  "them", "it", "stay", "stayed", "work", "works", "worked", "live", "lives", "lived", "call",
                  "called", "here", "there", "that", "this", "one", "home", "shop", "buy", "bought", "available",
                  "sold", "find", "found", "check", "checked", "go", "went", "online", "order", "ordered", "me",
                  "you", "we", "they", "arrive", "arrived", "visit", "visited", "book", "booked", "pay", "paid"}
EMAIL_TLDS = ("ch", "com", "it", "de", "fr", "net", "org", "eu", "info", "li", "at", "swiss", "uk", "biz", "io")

MONTHS: dict[str, dict[str, int]] = {
    "it": {"gennaio": 1, "febbraio": 2, "marzo": 3, "aprile": 4, "maggio": 5, "giugno": 6, "luglio": 7,
           "agosto": 8, "settembre": 9, "ottobre": 10, "novembre": 11, "dicembre": 12,
           "gen": 1, "feb": 2, "mar": 3, "apr": 4, "mag": 5, "giu": 6, "lug": 7, "ago": 8, "set": 9, "ott": 10,
           "nov": 11, "dic": 12},
    "de": {"januar": 1, "jänner": 1, "februar": 2, "märz": 3, "maerz": 3, "april": 4, "mai": 5, "juni": 6,
           "juli": 7, "august": 8, "september": 9, "oktober": 10, "november": 11, "dezember": 12,
           "jan": 1, "feb": 2, "mär": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9, "okt": 10,
           "nov": 11, "dez": 12},
    "fr": {"janvier": 1, "février": 2, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6,
           "juillet": 7, "août": 8, "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11, "décembre": 12,
           "decembre": 12, "janv": 1, "févr": 2, "avr": 4, "juil": 7, "sept": 9, "oct": 10, "déc": 12},
    "en": {"january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
           "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
           "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9,
           "oct": 10, "nov": 11, "dec": 12},
}
_MONTH_NAMES = {m for table in MONTHS.values() for m in table}
# Ordinal days that text2num leaves as words.
DAY_WORDS = {"primo": 1, "premier": 1, "1er": 1, "first": 1, "erster": 1, "ersten": 1, "erste": 1,
             "second": 2, "zweiter": 2, "zweiten": 2, "zweite": 2}
# Context that makes a country code + number an IBAN even when its check digits fail (ASR errors)
IBAN_CONTEXT = re.compile(r"(?<!\w)(?:iban|bankkonto|konto|conto|compte|account)(?!\w)", re.IGNORECASE)

# Birth context: a date is a date of birth only with one of these near it.
DOB_CONTEXT = {
    "it": [r"nat[oaie]", r"data di nascita", r"nascita", r"compleanno", r"classe"],
    "de": [r"geboren", r"geburtsdatum", r"geburtstag", r"jahrgang", r"geb\."],
    "fr": [r"n[ée]e?s?", r"date de naissance", r"naissance", r"anniversaire"],
    "en": [r"born", r"date of birth", r"birth ?date", r"birthday", r"d\.?o\.?b\.?"],
}
DOB_CONTEXT_CHARS = 400  # how far back in the previous turns a birth question still counts
_DOB_RE = re.compile(r"(?<!\w)(?:" + "|".join(p for ps in DOB_CONTEXT.values() for p in ps) + r")(?!\w)",
                     re.IGNORECASE)
