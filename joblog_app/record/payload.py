"""What is sent to the record for one activity: codes, never translated text.

Network leads are the citizen's private notes about other people and are never sent;
a coffee meeting is sent as a network meeting, with the person's name only when the
citizen ticked that it may be shared.
"""

from __future__ import annotations

from typing import Any

from ..activities.models import Activity, ActivityKind

KIND_CODES = {
    ActivityKind.APPLICATION: "JOB_APPLICATION",
    ActivityKind.PLANNED_JOB: "PLANNED_JOB",
    ActivityKind.COFFEE_MEETING: "NETWORK_MEETING",
    ActivityKind.OTHER: "OTHER_ACTIVITY",
}
MAX_TEXT = 250


def is_sent(activity: Activity) -> bool:
    return activity.kind in KIND_CODES


def _text(value: str | None, limit: int = MAX_TEXT) -> str | None:
    return value[:limit] if value else None


def entry_body(activity: Activity, municipality_code: str, entered_by_staff: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": KIND_CODES[activity.kind],
        "date": activity.occurred_on.isoformat() if activity.occurred_on else None,
        "employer": _text(activity.organisation),
        "title": _text(activity.title),
        "status": activity.status.value.upper() if activity.status else None,
        "method": activity.method.value.upper() if activity.method else None,
        "adUrl": _text(activity.ad_url, 500),
        "deadline": activity.deadline.isoformat() if activity.deadline else None,
        "place": _text(activity.place),
        "contactPerson": _text(activity.person) if activity.share_person else None,
        "description": _text(activity.description),
        "municipalityCode": municipality_code,
        "enteredBy": "STAFF" if entered_by_staff else "CITIZEN",
    }
    if activity.kind == ActivityKind.PLANNED_JOB:
        body["date"] = None
    return body
