"""CPR numbers: format check, encryption at rest, masking.

The modulus-11 check is NOT applied: since 2007 CPR numbers without a valid check digit
are issued, and they must be accepted.
"""

from __future__ import annotations

import re
from datetime import date

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app

_CPR = re.compile(r"^(\d{2})(\d{2})(\d{2})-?(\d{4})$")


class CprError(ValueError):
    pass


def normalize(raw: str) -> str:
    """``DDMMYY-SSSS`` or ``DDMMYYSSSS`` → 10 digits; raises CprError on a bad format/date."""
    m = _CPR.match((raw or "").strip().replace(" ", ""))
    if not m:
        raise CprError("format")
    day, month, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
    try:
        date(2000 + year, month, day)  # any century: only the day/month must exist
    except ValueError:
        if not (day == 29 and month == 2):  # 29 Feb exists in the citizen's own century
            raise CprError("date") from None
    return "".join(m.groups())


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
