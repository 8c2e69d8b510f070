"""CPR numbers: format check, encryption at rest, a blind index, masking.

The blind index is an HMAC-SHA256 of the normalised number with ``JOBLOG_CPR_INDEX_KEY``
(its own key, not the Fernet key that encrypts the number): it finds the citizen whose CPR
number an identity provider vouched for without decrypting every profile, and says nothing
about the number to whoever reads the table without the key (CPR numbers are few enough
that a plain hash could be reversed by trying them all).

The modulus-11 check is NOT applied: since 2007 CPR numbers without a valid check digit
are issued, and they must be accepted.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from datetime import date

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app

# ASCII digits only: ``\d`` matches every script's digits, which the record's header refuses.
_CPR = re.compile(r"^([0-9]{2})([0-9]{2})([0-9]{2})-?([0-9]{4})$")


class CprError(ValueError):
    pass


class CprInUse(CprError):
    """The number is on file for another citizen (the blind index is unique)."""


def normalize(raw: str) -> str:
    """``DDMMYY-SSSS`` or ``DDMMYYSSSS`` → 10 digits; raises CprError on a bad format/date."""
    m = _CPR.match(_ascii_digits((raw or "").strip().replace(" ", "")))
    if not m:
        raise CprError("format")
    day, month, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
    try:
        date(2000 + year, month, day)  # any century: only the day/month must exist
    except ValueError:
        if not (day == 29 and month == 2):  # 29 Feb exists in the citizen's own century
            raise CprError("date") from None
    return "".join(m.groups())


def _ascii_digits(value: str) -> str:
    """Decimal digits of any script (Arabic-Indic ٠١٢, full-width ０１２) as ASCII 0-9;
    other characters, also "²" (a digit but no decimal), are left for the check to refuse."""
    return "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in value)


def mask(cpr: str) -> str:
    """Birth date only: ``DDMMYY-XXXX``."""
    return f"{cpr[:6]}-XXXX"


def _fernet() -> Fernet:
    return Fernet(current_app.config["CPR_KEY"])


def encrypt(cpr: str) -> str:
    return _fernet().encrypt(normalize(cpr).encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:  # never include the token or the number in the message
        raise CprError("cannot decrypt with the configured key") from exc


def blind_index(cpr: str, key: str | None = None) -> str:
    """The keyed hash stored beside the encrypted number (``citizen_profile.cpr_index``)."""
    secret = str(key if key is not None else current_app.config["CPR_INDEX_KEY"])
    return hmac.new(secret.encode(), f"cpr:{normalize(cpr)}".encode(), hashlib.sha256).hexdigest()
