"""What a citizen can do next with an entry, in words and an icon: decided here, in Python,
from the same rule that ``services.can_convert`` enforces, so templates only display."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from .models import ActivityKind
from .services import FOLLOW_ONS


@dataclass(frozen=True)
class Action:
    kind: ActivityKind  # what the entry turns into (activities.follow_on)
    label: Any  # lazy, translated when shown
    icon: str
    primary: bool


# The wording of each allowed follow-on, keyed by (the entry's kind, what it becomes).
_ACTIONS = {
    (ActivityKind.COFFEE_MEETING, ActivityKind.COFFEE_MEETING): (_l("Add a new meeting"), "plus"),
    (ActivityKind.NETWORK_LEAD, ActivityKind.COFFEE_MEETING): (_l("We met"), "coffee_meeting"),
    (ActivityKind.NETWORK_LEAD, ActivityKind.APPLICATION): (_l("I applied"), "application"),
}


def follow_on_actions(entry: Any) -> list[Action]:
    """The follow-ons offered for an entry (an Activity or a row): none once converted."""
    if entry.converted_to_id is not None:
        return []
    source = ActivityKind(entry.kind)
    return [Action(kind, *_ACTIONS[(source, kind)], primary=i == 0)
            for i, kind in enumerate(FOLLOW_ONS.get(source, ()))]
