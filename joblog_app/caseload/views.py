"""The caseworker's pages: the work list (and its CSV), a citizen's exemptions, and the
municipality's figures (and their CSV). Thin: the services read and decide.

How the work list is audited: a list shows many citizens at once, so a view writes one
SEARCH row with the filter as its term and the purpose (no row per citizen, which would
flood every citizen's access log with each page turn). An export takes the list out of
the app, so it writes one EXPORT row per exported citizen, each of whom sees it in their
access log."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_login import current_user

from ..activities.forms import KIND_LABELS, STATUS_LABELS
from ..assisted import services as assisted
from ..audit import services as audit
from ..audit.models import AuditAction
from ..cafes import presenter as cafe_words
from ..cafes import services as cafes
from ..citizens import exemptions
from ..citizens import services as citizens
from ..citizens.cpr import CprError, CprInUse
from ..citizens.models import BenefitGroup
from ..config import LANGUAGES
from ..core.clock import today
from ..i18n import LANGUAGE_NAMES
from ..permissions import Channel, Permission, citizen_for, current_actor, requires
from ..record import presenter as record_words
from ..record import services as record
from . import groups, overview, presenter, reminders, services, worklist
from . import overview_presenter as overview_words
from .export import to_csv

bp = Blueprint("caseload", __name__, url_prefix="/staff")

WORK_LIST_PURPOSE = "Work list: follow-up on job search"
EXEMPTION_PURPOSE = "Exemption from registering"
FIGURES_PURPOSE = "Municipality figures"


def _actor(purpose: str):  # type: ignore[no-untyped-def]
    return current_actor(Channel.WEB, purpose=purpose)


def _filters() -> tuple[worklist.Filters, dict[str, object]]:
    try:
        return worklist.parse_filters(request.args), {}
    except worklist.FilterError as exc:
        return worklist.Filters(), {k: presenter.FILTER_ERRORS[k] for k in exc.errors}


def _work_list_page(save_errors=None, save_form=None):  # type: ignore[no-untyped-def]
    filters, errors = _filters()
    day = today()
    actor = _actor(WORK_LIST_PURPOSE)
    audit.record(actor, AuditAction.SEARCH, search_term=filters.term())
    found = worklist.work_list(current_user.municipality_id, day, filters, me=current_user.id)
    page = render_template(
        "caseload/worklist.html", found=found, filters=filters, errors=errors,
        form=request.args, ending=exemptions.ending_soon(current_user.municipality_id, day),
        benefit_labels=presenter.BENEFIT_LABELS, group_labels=presenter.GROUP_LABELS,
        reason_labels=presenter.REASON_LABELS, language_names=LANGUAGE_NAMES,
        languages=LANGUAGES, today=day, saved=services.saved_filters(current_user.id),
        save_errors=save_errors or {}, save_form=save_form or {},
        current_query=request.query_string.decode("utf-8", "replace")[:1000])
    return Response(page, 422 if save_errors else 400 if errors else 200)


@bp.get("/worklist")
@requires(Permission.CITIZEN_MANAGE)
def work_list():  # type: ignore[no-untyped-def]
    return _work_list_page()


@bp.get("/worklist.csv")
@requires(Permission.CITIZEN_MANAGE)
def work_list_csv():  # type: ignore[no-untyped-def]
    filters, errors = _filters()
    if errors:
        abort(400)
    day = today()
    rows = worklist.all_rows(current_user.municipality_id, day, filters, me=current_user.id)
    audit.record_many(_actor(WORK_LIST_PURPOSE), AuditAction.EXPORT,
                      [r.citizen_id for r in rows], search_term=filters.term())
    header = [_("Name"), _("Benefit group"), _("Language"), _("Group this month"),
              _("Job searches this month"), _("Days without a registration"),
              _("Refused entries"), _("Follow-ups due"), _("Exempt until"), _("Why on the list"),
              _("Caseworker"), _("Needs an interpreter"), _("Note"), _("Follow up on")]
    body = [[r.name, presenter.BENEFIT_LABELS[r.benefit_group], r.language,
             presenter.GROUP_LABELS[r.group] if r.group else "", r.searches, r.days_quiet,
             r.refused, r.follow_ups, r.exempt_until.isoformat() if r.exempt_until else "",
             "; ".join(str(presenter.REASON_LABELS[x]) for x in r.reasons),
             r.assigned_to or "", _("Yes") if r.needs_interpreter else "", r.note or "",
             r.follow_up_on.isoformat() if r.follow_up_on else ""] for r in rows]
    return Response(to_csv(header, body), 200, {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="work-list-{day.isoformat()}.csv"'})


def _exemptions_page(citizen, status: int = 200, errors=None, form=None):  # type: ignore[no-untyped-def]
    day = today()
    return Response(render_template(
        "caseload/exemptions.html", person=citizen, today=day,
        exemptions=exemptions.of_citizen(citizen.id), errors=errors or {}, form=form or {},
        basis_labels=presenter.LEGAL_BASIS_LABELS, max_days=exemptions.MAX_LENGTH_DAYS,
        note_max=exemptions.NOTE_MAX), status)


@bp.get("/citizens/<int:citizen_id>/exemptions")
@requires(Permission.CITIZEN_MANAGE)
def citizen_exemptions(citizen_id: int):  # type: ignore[no-untyped-def]
    return _exemptions_page(citizen_for(_actor(EXEMPTION_PURPOSE), citizen_id, "read"))


@bp.post("/citizens/<int:citizen_id>/exemptions")
@requires(Permission.CITIZEN_MANAGE)
def grant_exemption(citizen_id: int):  # type: ignore[no-untyped-def]
    actor = _actor(EXEMPTION_PURPOSE)
    form = {k: request.form.get(k, "")[:400] for k in ("legal_basis", "starts_on", "ends_on",
                                                       "note")}
    try:
        exemption = exemptions.grant(actor, citizen_id, exemptions.parse(form, today()))
    except exemptions.ExemptionError as exc:
        return _exemptions_page(citizen_for(actor, citizen_id, "read"), 422, exc.errors, form)
    flash(_("Exemption granted until %(day)s.", day=format_date(exemption.ends_on, "long")),
          "success")
    return redirect(url_for(".citizen_exemptions", citizen_id=citizen_id), 303)


@bp.post("/citizens/<int:citizen_id>/exemptions/<int:exemption_id>/end")
@requires(Permission.CITIZEN_MANAGE)
def end_exemption(citizen_id: int, exemption_id: int):  # type: ignore[no-untyped-def]
    try:
        exemptions.end_early(_actor(EXEMPTION_PURPOSE), citizen_id, exemption_id, today())
    except LookupError:
        abort(404)
    except exemptions.ExemptionError:
        flash(_("This exemption has already ended."), "error")
    else:
        flash(_("The exemption has ended. From today the citizen registers again."), "success")
    return redirect(url_for(".citizen_exemptions", citizen_id=citizen_id), 303)


def _figures() -> list[groups.MonthFigures]:
    audit.record(_actor(FIGURES_PURPOSE), AuditAction.SEARCH, search_term="figures 12 months")
    return groups.municipality_figures(current_user.municipality_id, today())


@bp.get("/figures")
@requires(Permission.MUNICIPALITY_FIGURES)
def figures():  # type: ignore[no-untyped-def]
    audit.record(_actor(FIGURES_PURPOSE), AuditAction.SEARCH, search_term="figures 12 months")
    months, cafes = groups.figures_with_cafes(current_user.municipality_id, today())
    return render_template("caseload/figures.html", months=months, cafes=cafes,
                           groups=groups.GROUPS,
                           group_labels=presenter.GROUP_LABELS,
                           benefit_labels=presenter.BENEFIT_LABELS, benefit_groups=BenefitGroup,
                           follow_up_labels=presenter.FOLLOW_UP_LABELS,
                           bar_segments=presenter.bar_segments, percent=presenter.percent)


@bp.get("/figures.csv")
@requires(Permission.MUNICIPALITY_FIGURES)
def figures_csv():  # type: ignore[no-untyped-def]
    header = [_("Month"), _("Benefit group"), *(presenter.GROUP_LABELS[g] for g in groups.GROUPS),
              _("Exempt all month"), _("STAR would act")]
    body = []
    for month in _figures():
        label = month.period.start.strftime("%Y-%m")
        body.append([label, _("All"), *(month.counts[g] for g in groups.GROUPS), month.left_out,
                     presenter.FOLLOW_UP_LABELS[month.follow_up] if month.follow_up else ""])
        for benefit in BenefitGroup:
            body.append([label, presenter.BENEFIT_LABELS[benefit],
                         *(month.by_benefit[benefit][g] for g in groups.GROUPS), "", ""])
    return Response(to_csv(header, body), 200, {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="figures-{today().isoformat()}.csv"'})


# --- The citizen overview (conversation preparation): issue 12 ------------------------------
# Opening it asks for a purpose once per citizen per day (remembered server-side:
# caseload/overview.py); each opening is then a READ row with that purpose. The actions are
# POSTs audited as changes, each with its own purpose; a refused input re-shows the page
# (422) and is logged as a read, so the citizen's log never says "changed" for nothing.
def _purpose_page(citizen_id: int, status: int = 200, errors=None, form=None):  # type: ignore[no-untyped-def]
    return Response(render_template(
        "caseload/purpose.html", citizen_id=citizen_id, choices=overview_words.PURPOSE_CHOICES,
        errors=errors or {}, form=form or {}, text_max=overview.PURPOSE_TEXT_MAX), status)


def _overview_page(citizen, status: int = 200, errors=None, form=None):  # type: ignore[no-untyped-def]
    day = today()
    profile = overview.profile(citizen.id)
    entries, total = overview.entries(citizen.id)
    months = overview.months(citizen.id, day)
    default = citizens.DEFAULT_REQUIREMENTS[profile.benefit_group] if profile else None
    return Response(render_template(
        "caseload/overview.html", person=citizen, profile=profile, today=day,
        given=overview.purpose_today(current_user.id, citizen.id, day),
        months=months, entries=entries, entries_total=total,
        planned=overview.planned_jobs(citizen.id),
        visits=cafes.visits_of(citizen.id, citizen.municipality_id, months[0].period.start
                               if months else day),
        exemptions=exemptions.of_citizen(citizen.id), requests=assisted.requests_of(citizen.id),
        sync=record.citizen_sync(citizen.id), waiting_for_cpr=overview.waiting_for_cpr(citizen.id),
        masked_cpr=citizens.masked_cpr(profile) if profile else None, default=default,
        errors=errors or {}, form=form or {}, words=overview_words,
        group_labels=presenter.GROUP_LABELS, benefit_labels=presenter.BENEFIT_LABELS,
        basis_labels=presenter.LEGAL_BASIS_LABELS, kind_labels=KIND_LABELS,
        status_labels=STATUS_LABELS, language_names=LANGUAGE_NAMES,
        item_words=cafe_words.item_words, staff_status=record_words.staff_entry_status),
        status)


@bp.get("/citizens/<int:citizen_id>")
@requires(Permission.CITIZEN_MANAGE)
def overview_page(citizen_id: int):  # type: ignore[no-untyped-def]
    given = overview.purpose_today(current_user.id, citizen_id, today())
    if given is None:
        # 404 (and a denied row) for a citizen who is not the caseworker's, before asking.
        citizen_for(_actor(None), citizen_id, "read", audit_allowed=False)  # type: ignore[arg-type]
        return _purpose_page(citizen_id)
    return _overview_page(citizen_for(_actor(overview.audit_purpose(given)), citizen_id, "read"))


@bp.get("/citizens/<int:citizen_id>/purpose")
@requires(Permission.CITIZEN_MANAGE)
def change_purpose(citizen_id: int):  # type: ignore[no-untyped-def]
    citizen_for(_actor(None), citizen_id, "read", audit_allowed=False)  # type: ignore[arg-type]
    given = overview.purpose_today(current_user.id, citizen_id, today())
    form = {"purpose": given.purpose.value, "text": given.text or ""} if given else {}
    return _purpose_page(citizen_id, form=form)


@bp.post("/citizens/<int:citizen_id>/purpose")
@requires(Permission.CITIZEN_MANAGE)
def give_purpose(citizen_id: int):  # type: ignore[no-untyped-def]
    form = {k: request.form.get(k, "")[:400] for k in ("purpose", "text")}
    citizen_for(_actor(None), citizen_id, "read", audit_allowed=False)  # type: ignore[arg-type]
    try:
        purpose, text = overview.parse_purpose(form)
    except overview.PurposeError as exc:
        return _purpose_page(citizen_id, 422, exc.errors, form)
    overview.give_purpose(current_user.id, citizen_id, today(), purpose, text)
    return redirect(url_for(".overview_page", citizen_id=citizen_id), 303)


def _refused(citizen_id: int, purpose: str, errors, form):  # type: ignore[no-untyped-def]
    """A refused action: the page again with what was typed (a read, not a change)."""
    return _overview_page(citizen_for(_actor(purpose), citizen_id, "read"), 422, errors, form)


@bp.post("/citizens/<int:citizen_id>/requirement")
@requires(Permission.CITIZEN_MANAGE)
def set_requirement(citizen_id: int):  # type: ignore[no-untyped-def]
    form = {k: request.form.get(k, "")[:20] for k in ("count", "period")}
    actor = _actor(overview.PURPOSE_REQUIREMENT)
    try:
        if request.form.get("use_default"):
            profile = overview.profile(citizen_id)
            if profile is None:
                citizen_for(actor, citizen_id, "read")  # 404 (and the denied row)
                abort(404)
            count, period = citizens.DEFAULT_REQUIREMENTS[profile.benefit_group]
        else:
            count, period = citizens.parse_requirement(form["count"], form["period"])
    except citizens.RequirementError as exc:
        return _refused(citizen_id, overview.PURPOSE_REQUIREMENT, exc.errors, form)
    try:
        citizens.set_requirement(actor, citizen_id, count, period)
    except citizens.NotACitizen:
        abort(404)
    flash(_("The requirement is saved: %(count)s %(period)s.", count=overview_words.number(count),
            period=overview_words.PERIOD_LABELS[period]), "success")
    return redirect(url_for(".overview_page", citizen_id=citizen_id) + "#requirement", 303)


@bp.post("/citizens/<int:citizen_id>/cpr")
@requires(Permission.CITIZEN_MANAGE)
def put_cpr(citizen_id: int):  # type: ignore[no-untyped-def]
    # The number is never echoed, logged, put in a URL, a flash or an audit row: a refused
    # number re-shows an empty field.
    raw = request.form.get("cpr", "")[:40]
    waiting = overview.waiting_for_cpr(citizen_id)
    try:
        citizens.put_cpr_on_file(_actor(overview.PURPOSE_CPR), citizen_id, raw)
    except CprInUse:
        return _refused(citizen_id, overview.PURPOSE_CPR, {"cpr": _(
            "This CPR number is on file for another citizen. Check the number with the "
            "citizen.")}, {})
    except CprError:
        return _refused(citizen_id, overview.PURPOSE_CPR, {"cpr": _(
            "That is not a CPR number. Write 10 digits: the birth date (DDMMYY) and 4 more.")},
            {})
    except citizens.NotACitizen:
        abort(404)
    flash(ngettext("The CPR number is on file. %(num)s waiting entry is sent to Joblog now.",
                   "The CPR number is on file. %(num)s waiting entries are sent to Joblog now.",
                   waiting) if waiting else _("The CPR number is on file."), "success")
    return redirect(url_for(".overview_page", citizen_id=citizen_id) + "#cpr", 303)


@bp.post("/citizens/<int:citizen_id>/retry")
@requires(Permission.CITIZEN_MANAGE)
def retry_refused(citizen_id: int):  # type: ignore[no-untyped-def]
    actor = _actor(overview.PURPOSE_RETRY)
    citizen = citizen_for(actor, citizen_id, "change", audit_allowed=False)
    n = record.retry_failed_of(citizen.id)
    audit.record(actor, AuditAction.CHANGE if n else AuditAction.READ, citizen_id=citizen.id)
    if n:
        flash(ngettext("%(num)s refused entry is sent to Joblog again.",
                       "%(num)s refused entries are sent to Joblog again.", n), "success")
    else:
        flash(_("There are no refused entries to send again."), "success")
    return redirect(url_for(".overview_page", citizen_id=citizen_id) + "#entries", 303)


# --- Work-list extras (issue 12): saved filters, the citizen's case (assignment, note with
# a follow-up date, interpreter), taking a citizen. Kept apart from the citizen overview.

CASE_PURPOSE = "Case follow-up: assignment and note"


@bp.post("/worklist/filters")
@requires(Permission.CITIZEN_MANAGE)
def save_filter():  # type: ignore[no-untyped-def]
    form = {k: request.form.get(k, "")[:400] for k in ("name", "query")}
    try:
        saved = services.save_filter(current_user.id, form["name"], form["query"])
    except services.CaseError as exc:
        return _work_list_page(exc.errors, form)
    flash(_("Filter saved: %(name)s.", name=saved.name), "success")
    return redirect(url_for(".work_list") + ("?" + saved.query if saved.query else ""), 303)


@bp.post("/worklist/filters/<int:filter_id>/delete")
@requires(Permission.CITIZEN_MANAGE)
def delete_filter(filter_id: int):  # type: ignore[no-untyped-def]
    if not services.delete_filter(current_user.id, filter_id):
        abort(404)
    flash(_("The filter is deleted."), "success")
    return redirect(url_for(".work_list"), 303)


def _case_page(citizen, status: int = 200, errors=None, form=None):  # type: ignore[no-untyped-def]
    row = services.case_file(citizen.id)
    if form is None:
        form = {"assigned_to": str(row.assigned_to_id or "") if row else "",
                "needs_interpreter": "1" if row and row.needs_interpreter else "",
                "note": (row.note or "") if row else "",
                "follow_up_on": row.follow_up_on.isoformat() if row and row.follow_up_on else ""}
    return Response(render_template(
        "caseload/case.html", person=citizen, case=row, form=form, errors=errors or {},
        caseworkers=services.caseworkers_of(citizen.municipality_id),
        note_max=services.NOTE_MAX), status)


@bp.get("/citizens/<int:citizen_id>/case")
@requires(Permission.CITIZEN_MANAGE)
def citizen_case(citizen_id: int):  # type: ignore[no-untyped-def]
    return _case_page(citizen_for(_actor(CASE_PURPOSE), citizen_id, "read"))


@bp.post("/citizens/<int:citizen_id>/case")
@requires(Permission.CITIZEN_MANAGE)
def update_case(citizen_id: int):  # type: ignore[no-untyped-def]
    actor = _actor(CASE_PURPOSE)
    form = {k: request.form.get(k, "")[:400] for k in ("assigned_to", "needs_interpreter",
                                                       "note", "follow_up_on")}
    try:
        data = services.parse_case(form, today(), current_user.municipality_id)
    except services.CaseError as exc:
        return _case_page(citizen_for(actor, citizen_id, "read"), 422, exc.errors, form)
    services.update_case(actor, citizen_id, data)
    flash(_("Saved."), "success")
    return redirect(url_for(".citizen_case", citizen_id=citizen_id), 303)


@bp.post("/citizens/<int:citizen_id>/case/take")
@requires(Permission.CITIZEN_MANAGE)
def take_citizen(citizen_id: int):  # type: ignore[no-untyped-def]
    citizen = services.assign_to_me(_actor(CASE_PURPOSE), citizen_id)
    flash(_("The citizen is now assigned to you."), "success")
    back = request.form.get("back", "")
    target = url_for(".work_list")
    if back.startswith("/staff/worklist") and "//" not in back and "\\" not in back:
        target = back[:1000]
    return redirect(target if citizen else url_for(".work_list"), 303)


def exemptions_ending_count() -> int:
    """For the staff home (a template global): exemptions of the caseworker's municipality
    that end within 14 days; 0 for staff who do not manage citizens."""
    from ..permissions import has_permission

    if not current_user.is_authenticated or \
            not has_permission(current_user, Permission.CITIZEN_MANAGE):
        return 0
    return reminders.ending_count(current_user.municipality_id, today())
