"""Where entries are on their way to the record, in words and an icon: decided here, in
Python, so templates only display (macros/record.html).

The wording is in the citizen's language; the reason an entry waits comes from the relay's
codes (``relay.WAIT_NO_CPR``, ``relay.WAIT_NO_GATEWAY``), never from a string in a template.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext, ngettext

from ..activities.models import RecordState
from ..core.templating import day
from .relay import WAIT_NO_CPR
from .services import CitizenSync


@dataclass(frozen=True)
class StatusLine:
    css: str  # the state's class: record-synced, record-trouble, sync-failed ...
    icon: str  # the name of an icon in macros/icons.html
    text: str
    all_in: bool = False  # everything is in the record (the page script may hide it offline)


def _waiting(reason: str | None) -> str:
    if reason == WAIT_NO_CPR:
        return gettext("Waiting — the job centre must add your CPR number")
    return gettext("Waiting — your municipality is not connected to Joblog yet")


def entry_status(entry: Any) -> StatusLine:
    """One entry's delivery state (an Activity or a row with its record columns)."""
    state = RecordState(entry.record_state)
    css = f"record-{state.value}"
    if state == RecordState.SYNCED:
        return StatusLine(css, "check", gettext("In Joblog ✓ (%(day)s)",
                                                day=day(entry.record_synced_at)))
    if state == RecordState.FAILED:
        return StatusLine(css, "alert", gettext("Problem — the job centre has been told"))
    if state == RecordState.WAITING:
        return StatusLine(css, "clock", _waiting(entry.record_error))
    if state == RecordState.LOCAL:
        return StatusLine(css, "network_lead", gettext("Only for you — not sent to Joblog"))
    if state == RecordState.PENDING and entry.record_attempts:
        return StatusLine(f"{css} record-trouble", "alert", gettext("Problem — we keep trying"))
    return StatusLine(css, "clock", gettext("Sending to Joblog"))


def sync_summary(sync: CitizenSync) -> StatusLine:
    """All of a citizen's entries at once: refused, waiting (and why), on the way, or all in.
    Entries that cannot be sent yet are not "on their way": the citizen is told why."""
    if sync.failed:
        return StatusLine("sync-summary sync-failed", "alert", ngettext(
            "%(num)s entry has a problem. The job centre has been told.",
            "%(num)s entries have a problem. The job centre has been told.", sync.failed))
    if sync.waiting_reason:
        return StatusLine("sync-summary", "clock", _waiting(sync.waiting_reason))
    if sync.on_the_way:
        return StatusLine("sync-summary", "clock", ngettext(
            "%(num)s is on its way to Joblog.", "%(num)s are on their way to Joblog.",
            sync.on_the_way))
    return StatusLine("sync-summary", "check", gettext("All your entries are in Joblog."),
                      all_in=True)


def staff_entry_status(entry: Any) -> StatusLine:
    """One entry's delivery state for the caseworker, with the record's reason for a
    refused entry (``record_error``) and why one waits."""
    state = RecordState(entry.record_state)
    css = f"record-{state.value}"
    if state == RecordState.FAILED:
        reason = entry.record_error or gettext("no reason given")
        return StatusLine(css, "alert", gettext("Refused by Joblog: %(reason)s", reason=reason))
    if state == RecordState.WAITING:
        if entry.record_error == WAIT_NO_CPR:
            return StatusLine(css, "clock", gettext("Waiting for the citizen's CPR number"))
        return StatusLine(css, "clock",
                          gettext("Waiting: the municipality is not connected to Joblog"))
    if state == RecordState.LOCAL:
        return StatusLine(css, "network_lead", gettext("Not sent to Joblog (the citizen's own)"))
    return entry_status(entry)
