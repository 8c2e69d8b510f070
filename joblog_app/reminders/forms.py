"""What the reminder settings page names and accepts."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .models import ReminderKind

KIND_LABELS = {
    ReminderKind.FOLLOW_UP: _l("A follow-up you planned for today"),
    ReminderKind.DEADLINE: _l("A job you want to apply for closes in two days"),
    ReminderKind.BEHIND: _l("Halfway through the month, if you are behind"),
    ReminderKind.INACTIVE: _l("21 days without a new entry"),
    ReminderKind.CAFE: _l("A job café tomorrow, if you have been before"),
    ReminderKind.REFUSED: _l("An entry that did not reach Joblog"),
}


def wanted_kinds(form: dict[str, str] | object) -> set[ReminderKind]:
    """The kinds ticked on the settings form; anything else sent is ignored."""
    getter = getattr(form, "getlist", None)
    values = set(getter("kind")) if getter else set()
    return {kind for kind in KIND_LABELS if kind.value in values}
