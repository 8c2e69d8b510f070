"""What the refusal page says: the reason in plain words, and what to do next."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from .services import Refused

NEXT_STEPS = {
    "unknown_cpr": [
        _l("Call or write to your job centre. Ask them to sign you up for this app."),
        _l("Bring this message to a job café. Staff there can help you."),
        _l("Until then, write down your job search in Joblog on Jobnet."),
    ],
}


def refusal(exc: Refused, purpose: str) -> dict[str, Any]:
    return {"message": exc.message, "steps": NEXT_STEPS.get(exc.reason, []),
            "reason": exc.reason, "try_again": exc.reason not in ("unknown_cpr", "staff_unknown"),
            "start": "identity.start_staff" if purpose == "staff" else "identity.start"}
