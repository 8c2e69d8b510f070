"""Validation rules of the record contract, as the reference record service applies them.

Each check raises ``ContractError`` with the
field it is about, so the service can answer ``400 {"errorCode": "VALIDATION", "field",
"message"}``. Messages are short English codes-with-words for developers, never shown to
citizens, and never contain the rejected value (it could be a CPR number).
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

KINDS = ("JOB_APPLICATION", "PLANNED_JOB", "NETWORK_MEETING", "OTHER_ACTIVITY")
STATUSES = ("APPLIED", "INTERVIEW", "REJECTED", "GOT_JOB")
METHODS = ("ADVERTISED", "UNSOLICITED", "NETWORK", "PERSONAL_VISIT", "PHONE", "TEMP_AGENCY")
ENTERED_BY = ("CITIZEN", "STAFF")

# Every field of an entry, in the order they are checked (the first problem is reported).
FIELDS = ("kind", "date", "employer", "title", "status", "method", "adUrl", "deadline", "place",
          "contactPerson", "description", "municipalityCode", "enteredBy")
TEXT_LIMITS = {"employer": 250, "title": 250, "adUrl": 500, "place": 250, "contactPerson": 250,
               "description": 250}
DATE_FIELDS = ("date", "deadline")
CODE_FIELDS = {"kind": KINDS, "status": STATUSES, "method": METHODS, "enteredBy": ENTERED_BY}
REQUIRED_BY_KIND = {
    "JOB_APPLICATION": ("date", "employer", "title", "status"),
    "PLANNED_JOB": ("employer", "title"),
    "NETWORK_MEETING": ("date", "employer"),
    "OTHER_ACTIVITY": ("date", "description"),
}
ALWAYS_REQUIRED = ("kind", "municipalityCode", "enteredBy")

REQUEST_ID_HEADER = "x-requestId"
CPR_HEADER = "x-civilRegistrationIdentifier"
_REQUEST_ID = re.compile(r"[A-Za-z0-9-]{1,46}")
_CPR = re.compile(r"[0-9]{10}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MUNICIPALITY = re.compile(r"[0-9]{3}")

# "Not blank" as the contract's JSON Schema says it (``NonBlank``): at least one character
# that is not white space in ECMA-262's sense (WhiteSpace and LineTerminator). Spelled out
# because engines disagree on ``\S``: Python's counts U+001C-U+001F and U+0085 as space and
# U+FEFF as not; ECMA-262 the other way round. The spec carries this very pattern.
NOT_BLANK_PATTERN = r"[^\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]"
_NOT_BLANK = re.compile(NOT_BLANK_PATTERN)


class ContractError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message

    def body(self) -> dict[str, str]:
        return {"errorCode": "VALIDATION", "field": self.field, "message": self.message}


def request_id(value: str | None, field: str = REQUEST_ID_HEADER) -> str:
    """1–46 characters of ``[A-Za-z0-9-]``; compared exactly (case-sensitive)."""
    if value is None or value == "":
        raise ContractError(field, "required")
    if not _REQUEST_ID.fullmatch(value):
        raise ContractError(field, "must be 1-46 characters of A-Z, a-z, 0-9 and '-'")
    return value


def cpr(value: str | None) -> str:
    """Exactly 10 digits. The modulus-11 check is deliberately NOT applied: CPR numbers
    without a valid check digit have been issued since 2007 and must be accepted."""
    if value is None or value == "":
        raise ContractError(CPR_HEADER, "required")
    if not _CPR.fullmatch(value):
        raise ContractError(CPR_HEADER, "must be exactly 10 digits")
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"not JSON: {name}")


def parse_json_object(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError):
        raise ContractError("body", "not valid JSON (UTF-8)") from None
    if not isinstance(data, dict):
        raise ContractError("body", "must be a JSON object")
    return data


def entry(raw: bytes) -> dict[str, Any]:
    """The request body of POST/PUT as a complete entry (absent optional fields → null)."""
    data = parse_json_object(raw)
    for key in data:
        if key not in FIELDS:
            raise ContractError(key, "unknown field")
    result: dict[str, Any] = {name: data.get(name) for name in FIELDS}

    kind = result["kind"]
    if kind is None:
        raise ContractError("kind", "required")
    if not isinstance(kind, str):  # before it picks the rules (a dict or list is unhashable)
        raise ContractError("kind", "must be a string")
    required = set(ALWAYS_REQUIRED) | set(REQUIRED_BY_KIND.get(kind, ()))
    for name in FIELDS:
        value = result[name]
        if value is None:
            if name in required:
                raise ContractError(name, "required")
            continue
        if not isinstance(value, str):
            raise ContractError(name, "must be a string or null")
        if name in CODE_FIELDS:
            if value not in CODE_FIELDS[name]:
                raise ContractError(name, "unknown code; one of " + ", ".join(CODE_FIELDS[name]))
        elif name in DATE_FIELDS:
            if not _DATE.fullmatch(value):
                raise ContractError(name, "must be a date YYYY-MM-DD")
            try:
                date.fromisoformat(value)
            except ValueError:
                raise ContractError(name, "no such date") from None
        elif name == "municipalityCode":
            if not _MUNICIPALITY.fullmatch(value):
                raise ContractError(name, "must be 3 digits")
        else:
            limit = TEXT_LIMITS[name]
            if len(value) > limit:
                raise ContractError(name, f"too long: at most {limit} characters")
            if name in required and not _NOT_BLANK.search(value):
                raise ContractError(name, "required")
    return result
