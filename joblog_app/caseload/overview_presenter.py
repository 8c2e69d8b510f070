"""Words for the citizen overview: the purposes, a month's group, who entered an entry,
a recorded request's state. Decided here, so the template only displays."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import format_decimal, gettext
from flask_babel import lazy_gettext as _l

from ..assisted.models import AssistanceRequest
from ..assisted.presenter import BASIS_LABELS
from ..audit.presenter import ROLE_LABELS
from ..auth.models import Role
from ..citizens.models import RequirementPeriod
from .models import OverviewPurpose
from .overview import MonthLine
from .presenter import GROUP_LABELS

PURPOSE_CHOICES = {
    OverviewPurpose.CONVERSATION: _l("Preparing a conversation"),
    OverviewPurpose.WORK_LIST: _l("Following up the work list"),
    OverviewPurpose.REFUSED: _l("Handling refused entries"),
    OverviewPurpose.OTHER: _l("Other"),
}
PERIOD_LABELS = {
    RequirementPeriod.MONTH: _l("a month"),
    RequirementPeriod.WEEK: _l("a week (on average)"),
}

__all__ = ["BASIS_LABELS", "PERIOD_LABELS", "PURPOSE_CHOICES", "entered_by", "month_group", "number",
           "purpose_words", "request_state"]


def number(value: Any) -> str:
    """A requirement count in the reader's way of writing numbers: 6, 1,5 (da), 1.5 (en)."""
    return format_decimal(value, "#,##0.#")


def purpose_words(given: Any) -> str:
    if given is None:
        return ""
    if given.purpose == OverviewPurpose.OTHER and given.text:
        return str(given.text)
    return str(PURPOSE_CHOICES[given.purpose])


def month_group(line: MonthLine) -> str:
    """The month's STAR group in words, or why the month does not count."""
    if line.group is not None:
        return str(GROUP_LABELS[line.group])
    if line.exempt_days:
        return gettext("Exempt all month")
    return gettext("Not in the app yet")


def entered_by(entry: Any, citizen_id: int) -> str:
    """Who entered it: the citizen, or staff (at the job café, or the job centre) by role."""
    if entry.entered_by_id == citizen_id:
        return gettext("Entered by the citizen")
    role = str(ROLE_LABELS.get(Role(entry.entered_by_role).value, entry.entered_by_role))
    if entry.entered_by_role == Role.HELPER:
        return gettext("Entered at the job café (%(role)s)", role=role)
    return gettext("Entered by the job centre (%(role)s)", role=role)


def request_state(request: AssistanceRequest, today: date) -> str:
    if request.withdrawn_at is not None:
        return gettext("Withdrawn or ended")
    if request.valid_until < today:
        return gettext("Run out")
    if request.valid_from > today:
        return gettext("Not started")
    return gettext("Active")
