"""Words for the caseworker's pages: groups, reasons, benefit groups, filter errors."""

from __future__ import annotations

from flask_babel import format_percent
from flask_babel import lazy_gettext as _l

from ..citizens.exemptions import LEGAL_BASIS_LABELS
from ..citizens.models import BenefitGroup
from ..progress.services import Smiley
from .groups import GROUPS, MonthFigures
from .worklist import Reason

GROUP_LABELS = {
    Smiley.GREEN: _l("Green"),
    Smiley.LIGHT_GREEN: _l("Light green"),
    Smiley.RED: _l("Red"),
}
BENEFIT_LABELS = {
    BenefitGroup.KONTANTHJAELP: _l("Kontanthjælp"),
    BenefitGroup.SHO: _l("Self-support, return or transition benefit (SHO)"),
    BenefitGroup.DAGPENGE: _l("Unemployment benefit (dagpenge)"),
    BenefitGroup.OTHER: _l("Other benefit"),
}
REASON_LABELS = {
    Reason.RED: _l("Red this month: no job search"),
    Reason.LIGHT_GREEN: _l("Light green this month: below the goal"),
    Reason.QUIET: _l("Nothing registered for 21 days"),
    Reason.REFUSED: _l("Joblog refused an entry"),
    Reason.EXEMPTION_ENDS: _l("Exemption ends within 14 days"),
    Reason.FOLLOW_UP_DUE: _l("Your follow-up date has come"),
}
FILTER_ERRORS = {
    "benefit_group": _l("Choose a benefit group from the list."),
    "language": _l("Choose a language from the list."),
    "min_days": _l("Write a whole number of days, for example 21."),
    "cafe_days": _l("Write a whole number of days from 1 to 366, for example 30."),
    "page": _l("That page does not exist."),
}
FOLLOW_UP_LABELS = {
    "immediate": _l("STAR would act at once: half or more are red."),
    "three_months": _l("STAR would act: red above 40 percent three months running."),
}

__all__ = ["BENEFIT_LABELS", "FILTER_ERRORS", "FOLLOW_UP_LABELS", "GROUP_LABELS",
           "LEGAL_BASIS_LABELS", "REASON_LABELS", "bar_segments", "percent"]


def bar_segments(month: MonthFigures, width: float = 100.0) -> list[tuple[Smiley, float, float]]:
    """A month's stacked bar for the server-drawn chart: (group, x, width) in percent."""
    x, out = 0.0, []
    for group in GROUPS:
        w = round(month.share(group) * width, 2)
        out.append((group, x, w))
        x += w
    return out


def percent(share: float) -> str:
    return format_percent(share, "#,##0 %")
