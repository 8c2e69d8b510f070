"""What each kind of entry asks for, and server-side validation with localized messages.

Each kind is a list of fields. ``essential`` fields are shown first; the rest sit under
"More details" so a new application is employer + title + Save.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from .models import ActivityKind, ApplicationMethod, ApplicationStatus, PlanTag

# Bidi embeddings/overrides/isolates can flip how other text on the page reads (CVE-2021-42574
# "Trojan Source" style); names never need them because we isolate with <bdi> ourselves.
_BIDI_CONTROLS = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str  # text, longtext, date, choice, url, checkbox
    label: LazyString
    required: bool = False
    max_length: int = 120
    choices: tuple[tuple[str, LazyString], ...] = ()
    default: Any = None
    essential: bool = False
    past_days: int | None = None  # how far back a date may be
    future_days: int | None = None  # how far ahead a date may be
    hint: LazyString | None = None
    autocomplete: str = "off"


@dataclass
class ValidationResult:
    data: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, LazyString] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


METHOD_LABELS = {
    ApplicationMethod.ADVERTISED: _l("Job ad"),
    ApplicationMethod.UNSOLICITED: _l("Unsolicited"),
    ApplicationMethod.NETWORK: _l("Through my network"),
    ApplicationMethod.PERSONAL_VISIT: _l("Personal visit"),
    ApplicationMethod.PHONE: _l("Phone call"),
    ApplicationMethod.TEMP_AGENCY: _l("Temp agency"),
}
STATUS_LABELS = {
    ApplicationStatus.APPLIED: _l("Applied"),
    ApplicationStatus.INTERVIEW: _l("Interview"),
    ApplicationStatus.REJECTED: _l("Rejected"),
    ApplicationStatus.GOT_JOB: _l("Got the job"),
}
PLAN_LABELS = {
    PlanTag.A: _l("A: dream job"),
    PlanTag.B: _l("B: good job"),
    PlanTag.C: _l("C: any job that pays"),
}
KIND_LABELS = {
    ActivityKind.APPLICATION: _l("Job application"),
    ActivityKind.PLANNED_JOB: _l("Job I want to apply for"),
    ActivityKind.COFFEE_MEETING: _l("Coffee meeting"),
    ActivityKind.NETWORK_LEAD: _l("Network contact"),
    ActivityKind.OTHER: _l("Other activity"),
}


def _choices(labels: Mapping[StrEnum, LazyString]) -> tuple[tuple[str, LazyString], ...]:
    return tuple((k.value, v) for k, v in labels.items())


YEAR = 365
_EMPLOYER = FieldSpec("organisation", "text", _l("Employer"), required=True, essential=True,
                      autocomplete="off")
_TITLE = FieldSpec("title", "text", _l("Job title"), required=True, essential=True,
                   autocomplete="off")
_AD_URL = FieldSpec("ad_url", "url", _l("Link to the job ad"), max_length=500)
_DEADLINE = FieldSpec("deadline", "date", _l("Application deadline"), past_days=YEAR,
                      future_days=YEAR)
_PLAN = FieldSpec("plan_tag", "choice", _l("How much do you want this job?"),
                  choices=_choices(PLAN_LABELS))
_NOTES = FieldSpec("notes", "longtext", _l("Notes"), max_length=2000)
_FOLLOW_UP = FieldSpec("follow_up_on", "date", _l("Follow up on"), past_days=YEAR,
                       future_days=YEAR, hint=_l("We show it on your front page that day."))

SCHEMAS: dict[ActivityKind, tuple[FieldSpec, ...]] = {
    ActivityKind.APPLICATION: (
        _EMPLOYER,
        _TITLE,
        FieldSpec("occurred_on", "date", _l("Date you applied"), required=True, default="today",
                  past_days=YEAR, future_days=0),
        FieldSpec("method", "choice", _l("How did you apply?"), required=True,
                  choices=_choices(METHOD_LABELS), default=ApplicationMethod.ADVERTISED.value),
        FieldSpec("status", "choice", _l("Status"), required=True,
                  choices=_choices(STATUS_LABELS), default=ApplicationStatus.APPLIED.value),
        _AD_URL,
        _DEADLINE,
        FieldSpec("place", "text", _l("Place of work")),
        _PLAN,
        _NOTES,
    ),
    ActivityKind.PLANNED_JOB: (_EMPLOYER, _TITLE, _DEADLINE, _AD_URL, _PLAN, _NOTES),
    ActivityKind.COFFEE_MEETING: (
        FieldSpec("organisation", "text", _l("Company"), required=True, essential=True,
                  autocomplete="off"),
        FieldSpec("person", "text", _l("Who did you meet?"), essential=True),
        FieldSpec("share_person", "checkbox",
                  _l("I agree that Joblog shows this person's name"), essential=True,
                  hint=_l("If you do not tick this, only the company is sent to Joblog.")),
        FieldSpec("occurred_on", "date", _l("Date of the meeting"), required=True,
                  default="today", past_days=YEAR, future_days=YEAR),
        FieldSpec("outcome", "longtext", _l("What came of it?"), max_length=1000,
                  essential=True),
        _FOLLOW_UP,
    ),
    ActivityKind.NETWORK_LEAD: (
        FieldSpec("person", "text", _l("Name of the person"), required=True, essential=True),
        FieldSpec("relation", "text", _l("How do you know them?"), max_length=200,
                  essential=True),
        FieldSpec("organisation", "text", _l("Company"), autocomplete="off"),
        FieldSpec("can_help_with", "longtext", _l("What can they help with?"), max_length=500),
        FieldSpec("next_step", "longtext", _l("Next step"), max_length=500),
        _FOLLOW_UP,
    ),
    ActivityKind.OTHER: (
        # The record takes 250 characters (docs/record-api.openapi.yaml): no more here,
        # so the record never gets less than the citizen wrote.
        FieldSpec("description", "longtext", _l("What did you do?"), required=True,
                  max_length=250, essential=True,
                  hint=_l("For example: job fair, course, new CV.")),
        FieldSpec("occurred_on", "date", _l("Date"), required=True, default="today",
                  past_days=YEAR, future_days=YEAR),
    ),
}


def clean_text(value: str, multiline: bool) -> str:
    """Trim, drop bidi controls and other control characters, normalise to NFC."""
    value = unicodedata.normalize("NFC", value.translate(_BIDI_CONTROLS))
    keep = "\n" if multiline else ""
    value = "".join(
        ch for ch in value
        if ch in keep or not unicodedata.category(ch).startswith("C") or ch in "\u200d\u200c"
    )
    if multiline:
        value = re.sub(r"\n{3,}", "\n\n", value.replace("\r", ""))
    return value.strip()


def defaults_for(kind: ActivityKind, today: date) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for spec in SCHEMAS[kind]:
        if spec.default == "today":
            data[spec.name] = today
        elif spec.default is not None:
            data[spec.name] = spec.default
    return data


def validate(kind: ActivityKind, form: Mapping[str, str], today: date) -> ValidationResult:
    """Check every field of ``kind``; fields not in the schema are ignored."""
    result = ValidationResult()
    for spec in SCHEMAS[kind]:
        raw = form.get(spec.name, "") or ""
        if not isinstance(raw, str):
            raw = str(raw)
        value, error = _validate_field(spec, raw, today)
        if error is not None:
            result.errors[spec.name] = error
        result.data[spec.name] = value
    return result


def _validate_field(spec: FieldSpec, raw: str, today: date) -> tuple[Any, LazyString | None]:
    if spec.type == "checkbox":
        return raw in ("1", "on", "true", "yes"), None
    text = clean_text(raw, multiline=spec.type == "longtext")
    if not text:
        if spec.required and spec.type == "choice":
            return None, _l("Choose one of the options.")
        if spec.required:
            return None, _l("Write something here.")
        return None, None
    if spec.type in ("text", "longtext", "url"):
        if len(text) > spec.max_length:
            return text, _l("This is too long. Use at most %(max)s characters.", max=spec.max_length)
        if spec.type == "url":
            parts = urlsplit(text)
            if parts.scheme not in ("http", "https") or not parts.netloc or " " in text:
                return text, _l("Write a web address that starts with https://")
        return text, None
    if spec.type == "choice":
        if text not in {value for value, _label in spec.choices}:
            return None, _l("Choose one of the options.")
        return text, None
    if spec.type == "date":
        try:
            day = date.fromisoformat(text)
        except ValueError:
            return text, _l("Write the date like this: 2026-01-31.")
        if spec.past_days is not None and day < today - timedelta(days=spec.past_days):
            return day, _l("The date is more than a year ago. Check the year.")
        if spec.future_days is not None and day > today + timedelta(days=spec.future_days):
            if spec.future_days == 0:
                return day, _l("The date is in the future. Use today or an earlier day.")
            return day, _l("The date is more than a year ahead. Check the year.")
        return day, None
    raise ValueError(f"unknown field type {spec.type}")

