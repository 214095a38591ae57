"""Validators of the identifiers the redactor masks: Swiss AHV numbers, payment cards (issuer
prefix, length, Luhn), phone numbers (numbering plans), IBANs (mod 97) and calendar dates of birth."""

from __future__ import annotations

import datetime as _dt
import re

from .words import DAY_WORDS


def is_ahv(d: str) -> bool:
    """A Swiss AHV/AVS number: 13 digits starting 756, with a valid EAN-13 check digit."""
    from stdnum.ch import ssn

    return len(d) == 13 and d.startswith("756") and ssn.is_valid(d)


# Issuer prefixes (IIN ranges) and the lengths each scheme issues.
_CARD_SCHEMES = (
    ("visa", ("4",), (13, 16, 19)),
    ("mastercard", tuple(str(p) for p in range(51, 56)) + tuple(str(p) for p in range(2221, 2721)), (16,)),
    ("amex", ("34", "37"), (15,)),
    ("diners", ("300", "301", "302", "303", "304", "305", "36", "38", "39"), (14, 16)),
    ("discover", ("6011", "644", "645", "646", "647", "648", "649", "65"), (16, 17, 18, 19)),
    ("jcb", tuple(str(p) for p in range(3528, 3590)), (16, 17, 18, 19)),
    ("unionpay", ("62",), (16, 17, 18, 19)),
    ("maestro", ("50", "56", "57", "58", "6"), (16, 17, 18, 19)),
)


def is_card(d: str) -> bool:
    """A payment card: a scheme's issuer prefix, one of its lengths, and the Luhn check."""
    from stdnum import luhn

    if not 13 <= len(d) <= 19:
        return False
    if not any(len(d) in lengths and d.startswith(prefixes) for _, prefixes, lengths in _CARD_SCHEMES):
        return False
    return luhn.is_valid(d)


_PHONE_REGIONS = {"it": "IT", "de": "DE", "fr": "FR", "en": "GB"}


def is_phone(d: str, plus: bool, lang: str | None) -> bool:
    """A valid phone number: international after "+" or "00", else national (Swiss, or the region
    of ``lang``) starting with 0."""
    import phonenumbers

    if plus or d.startswith("00"):
        if not plus:
            d = d[2:]
        if not 8 <= len(d) <= 15:
            return False
        candidates = [("+" + d, None)]
    else:
        if not d.startswith("0") or not 9 <= len(d) <= 12:
            return False
        candidates = [(d, "CH")]
        region = _PHONE_REGIONS.get((lang or "")[:2])
        if region:
            candidates.append((d, region))
    for num, region in candidates:
        try:
            p = phonenumbers.parse(num, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(p):
            return True
    return False


def is_iban(s: str) -> bool:
    """A valid IBAN (compact form): 15 to 34 characters passing the country length and mod-97 check."""
    from stdnum import iban

    return 15 <= len(s) <= 34 and iban.is_valid(s)


def valid_date(d: str, mo: str, y: str) -> bool:
    """Day, month and year (digits, a day word, two-digit years) form a real date between 1900 and
    today: a possible date of birth."""
    d = str(DAY_WORDS.get(d.lower(), d))
    y = re.sub(r"\D", "", y)
    try:
        day, month, year = int(d), int(mo), int(y)
    except ValueError:
        return False
    if year < 100:
        year += 1900 if year > (_dt.date.today().year % 100) else 2000
    if not 1900 <= year <= _dt.date.today().year:
        return False
    try:
        return _dt.date(year, month, day) <= _dt.date.today()  # nobody is born in the future
    except ValueError:
        return False

