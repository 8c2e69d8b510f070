"""The home screen's words about progress: decided here, from the same ``Progress`` the
smiley comes from, so the smiley, the words and the meter tell one story and templates only
display. For a weekly goal (dagpenge) they speak of what is due by today; for a monthly
goal, of the month."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import format_date, format_decimal, gettext, ngettext

from .services import Progress, Smiley


@dataclass(frozen=True)
class ProgressWords:
    verdict: str  # what the smiley means, encouraging
    goal: str  # the goal, per week or per month
    next_step: str  # how many more, or well done
    meter_max: int  # the meter measures what the smiley measures
    meter_value: int
    exemption: str | None = None  # while exempt: until when, and that searching goes on


def progress_words(p: Progress) -> ProgressWords:
    verdict = {
        Smiley.GREEN: gettext("Green: you reach your goal. Well done."),
        Smiley.LIGHT_GREEN: gettext("Light green: good start. Keep going."),
        Smiley.RED: gettext("Red: no job searches yet this month. You can start today."),
        Smiley.EXEMPT: gettext("You do not need to register right now."),
    }[p.smiley]
    exemption = gettext("You do not need to register until %(day)s. You should still look for "
                        "work.", day=format_date(p.exempt_until, "long")) \
        if p.exempt_until else None
    if p.per_week:
        goal = gettext("That is %(avg)s job searches per week. Your goal is %(goal)s per week.",
                       avg=format_decimal(p.average_per_week), goal=format_decimal(p.per_week))
        next_step = ngettext("%(num)s more to be on track by today.",
                             "%(num)s more to be on track by today.", p.left_now) \
            if p.left_now else gettext("You are on track. Keep going.")
    else:
        goal = ngettext("Your goal is %(num)s job search a month.",
                        "Your goal is %(num)s job searches a month.", p.target)
        next_step = ngettext("%(num)s more to reach your goal this month.",
                             "%(num)s more to reach your goal this month.", p.left) \
            if p.left else gettext("You have reached your goal this month.")
    return ProgressWords(verdict, goal, next_step, p.due_now, p.count, exemption)
