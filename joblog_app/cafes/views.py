"""Job cafés: the administrator's café list, the helper's session screen (check-in, the
visit checklist, pairing a phone), and the citizen's side (check-in, own checklist,
pairing)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import segno
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from .. import htmx
from ..auth import sessions
from ..core.clock import today
from ..core.inputs import parse_id
from ..models_base import utcnow
from ..permissions import (
    Channel,
    Permission,
    citizen_for,
    current_actor,
    has_permission,
    public,
    requires,
)
from . import presenter, services
from .models import CAFE_LANGUAGES, Cafe, CafeSession, CheckIn

bp = Blueprint("cafes", __name__)


def _secret() -> str:
    return current_app.secret_key  # type: ignore[return-value]


def _qr(url: str) -> str:
    return segno.make(url, error="m").svg_data_uri(scale=8, border=2)


def _words() -> dict[str, Any]:
    return {"weekday_names": presenter.weekday_names(), "language_words": presenter.LANGUAGE_WORDS,
            "cafe_languages": CAFE_LANGUAGES, "cafe_when": presenter.cafe_when,
            "cafe_language_list": presenter.cafe_languages}


# --- Cafés (administrator) ------------------------------------------------------------
def _form() -> dict[str, Any]:
    form: dict[str, Any] = {k: request.form.get(k, "")[:300]
                            for k in ("name", "place", "weekday", "opens", "closes")}
    form["languages"] = request.form.getlist("languages")[:10]
    return form


def _cafes_page(status: int = 200, errors: dict[str, object] | None = None,
                form: dict[str, Any] | None = None) -> Response:
    return Response(render_template(
        "cafes/cafes.html", cafes=services.cafes_of(current_user.municipality_id),
        errors=errors or {}, form=form or {"languages": [], "weekday": ""}, **_words()), status)


@bp.get("/staff/cafes")
@requires(Permission.STAFF_ADMIN)
def cafes():  # type: ignore[no-untyped-def]
    return _cafes_page()


@bp.post("/staff/cafes")
@requires(Permission.STAFF_ADMIN)
def create_cafe():  # type: ignore[no-untyped-def]
    form = _form()
    try:
        cafe = services.create_cafe(current_user.municipality_id, form)
    except services.CafeError as exc:
        return _cafes_page(422, {exc.field: exc.message}, form)
    current_app.logger.info("cafe created cafe=%s by=%s", cafe.id, current_user.id)
    flash(_("The café is ready."), "success")
    return redirect(url_for(".cafes"), 303)


def _cafe_or_404(cafe_id: int) -> Cafe:
    cafe = services.find_cafe(current_user.municipality_id, cafe_id)
    if cafe is None:
        abort(404)
    return cafe


def _edit_page(cafe: Cafe, status: int = 200, errors: dict[str, object] | None = None,
               form: dict[str, Any] | None = None) -> Response:
    if form is None:
        form = {"name": cafe.name, "place": cafe.place, "weekday": str(cafe.weekday),
                "opens": cafe.opens_at.strftime("%H:%M"), "closes": cafe.closes_at.strftime("%H:%M"),
                "languages": cafe.language_codes, "is_active": cafe.is_active}
    return Response(render_template("cafes/edit.html", cafe=cafe, errors=errors or {},
                                    form=form, **_words()), status)


@bp.get("/staff/cafes/<int:cafe_id>")
@requires(Permission.STAFF_ADMIN)
def edit_cafe(cafe_id: int):  # type: ignore[no-untyped-def]
    return _edit_page(_cafe_or_404(cafe_id))


@bp.post("/staff/cafes/<int:cafe_id>")
@requires(Permission.STAFF_ADMIN)
def update_cafe(cafe_id: int):  # type: ignore[no-untyped-def]
    cafe = _cafe_or_404(cafe_id)
    form = {**_form(), "is_active": request.form.get("is_active") == "on"}
    try:
        services.update_cafe(cafe, form)
    except services.CafeError as exc:
        return _edit_page(cafe, 422, {exc.field: exc.message}, form)
    current_app.logger.info("cafe changed cafe=%s by=%s", cafe.id, current_user.id)
    flash(_("The café is saved."), "success")
    return redirect(url_for(".cafes"), 303)


# --- Sessions (helpers and caseworkers) -----------------------------------------------
def _actor():  # type: ignore[no-untyped-def]
    """The helper at the café; the purpose the citizen reads in their access log."""
    return current_actor(Channel.ASSISTED, purpose=services.PURPOSE_VISIT)


@bp.get("/staff/sessions")
@requires(Permission.CITIZEN_ASSIST)
def sessions_today():  # type: ignore[no-untyped-def]
    day = today()
    cafes_now = services.cafes_of(current_user.municipality_id, active_only=True)
    return render_template(
        "cafes/sessions.html", sessions=services.sessions_on(current_user.municipality_id, day),
        todays=[c for c in cafes_now if c.weekday == day.weekday()],
        others=[c for c in cafes_now if c.weekday != day.weekday()], **_words())


@bp.post("/staff/cafes/<int:cafe_id>/open")
@requires(Permission.CITIZEN_ASSIST)
def open_session(cafe_id: int):  # type: ignore[no-untyped-def]
    cafe = services.find_cafe(current_user.municipality_id, cafe_id)
    if cafe is None or not cafe.is_active:
        abort(404)
    session = services.open_session(_actor(), cafe, today())
    current_app.logger.info("cafe session open session=%s by=%s", session.id, current_user.id)
    return redirect(url_for(".session", session_id=session.id), 303)


def _session_or_404(session_id: int) -> CafeSession:
    session = services.find_session(current_user.municipality_id, session_id)
    if session is None:
        abort(404)
    return session


def _checkin_url(session: CafeSession) -> str:
    return url_for(".checkin", token=services.checkin_token(session, _secret()), _external=True)


def _session_page(session: CafeSession, status: int = 200,
                  item_error: tuple[int, object, str] | None = None) -> Response:
    """The session screen: the check-in code, the search, who is here."""
    term = request.args.get("q", "")[:200] if request.method == "GET" else ""
    unit = session.cafe.name
    found = services.search_citizens(_actor(), term, unit) if term.strip() else []
    people = services.visitors(_actor(), session, today())
    here = {v.citizen.id for v in people}
    url = _checkin_url(session) if session.closed_at is None else None
    return Response(render_template(
        "cafes/session.html", session=session, cafe=session.cafe, visitors=people,
        term=term, found=found, here=here, checkin_url=url, qr=_qr(url) if url else None,
        item_error=item_error, suggestions=presenter.SUGGESTION_WORDS,
        status_words=presenter.status_words, waiting_words=presenter.waiting_words,
        item_words=presenter.item_words, language_word=presenter.language_word), status)


@bp.get("/staff/sessions/<int:session_id>")
@requires(Permission.CITIZEN_ASSIST)
def session(session_id: int):  # type: ignore[no-untyped-def]
    return _session_page(_session_or_404(session_id))


@bp.get("/staff/sessions/<int:session_id>/qr")
@requires(Permission.CITIZEN_ASSIST)
def session_qr(session_id: int):  # type: ignore[no-untyped-def]
    """The check-in code full-screen, for a tablet on the café's table."""
    session = _session_or_404(session_id)
    if session.closed_at is not None:
        flash(_("This session is closed. Open a new one to get a new code."), "error")
        return redirect(url_for(".session", session_id=session.id), 303)
    url = _checkin_url(session)
    return render_template("cafes/qr.html", session=session, checkin_url=url, qr=_qr(url))


@bp.post("/staff/sessions/<int:session_id>/close")
@requires(Permission.CITIZEN_ASSIST)
def close_session(session_id: int):  # type: ignore[no-untyped-def]
    session = _session_or_404(session_id)
    services.close_session(session)
    current_app.logger.info("cafe session closed session=%s by=%s", session.id, current_user.id)
    flash(_("The session is closed. Its check-in code no longer works."), "success")
    return redirect(url_for(".sessions_today"), 303)


def _open_or_back(session: CafeSession) -> Response | None:
    if session.closed_at is not None:
        flash(_("This session is closed. Open a new one to get a new code."), "error")
        return redirect(url_for(".session", session_id=session.id), 303)  # type: ignore[return-value]
    return None


@bp.post("/staff/sessions/<int:session_id>/check-ins")
@requires(Permission.CITIZEN_ASSIST)
def check_in_citizen(session_id: int):  # type: ignore[no-untyped-def]
    session = _session_or_404(session_id)
    citizen_id = parse_id(request.form.get("citizen_id"))
    if citizen_id is None:
        abort(404)
    back = _open_or_back(session)
    if back:
        return back
    citizen = citizen_for(_actor(), citizen_id, "change", unit=session.cafe.name)
    row = services.check_in(session, citizen, by=current_user)
    flash(_("%(name)s is checked in.", name=citizen.name), "success")
    return redirect(url_for(".session", session_id=session.id, _anchor=f"visitor-{row.id}"), 303)


def _check_in_or_404(session: CafeSession, check_in_id: int) -> CheckIn:
    row = services.find_check_in(session, check_in_id)
    if row is None:
        abort(404)
    return row


@bp.post("/staff/sessions/<int:session_id>/check-ins/<int:check_in_id>/items")
@requires(Permission.CITIZEN_ASSIST)
def add_item(session_id: int, check_in_id: int):  # type: ignore[no-untyped-def]
    session = _session_or_404(session_id)
    row = _check_in_or_404(session, check_in_id)
    citizen_for(_actor(), row.citizen_id, "change", unit=session.cafe.name)
    text = request.form.get("text", "")[:300]
    try:
        services.add_item(row, request.form.get("suggestion", "")[:30], text)
    except services.CafeError as exc:
        return _session_page(session, 422, (row.id, exc.message, text))
    return redirect(url_for(".session", session_id=session.id, _anchor=f"visitor-{row.id}"), 303)


@bp.post("/staff/sessions/<int:session_id>/items/<int:item_id>")
@requires(Permission.CITIZEN_ASSIST)
def tick_item(session_id: int, item_id: int):  # type: ignore[no-untyped-def]
    session = _session_or_404(session_id)
    found = services.find_item(item_id)
    if found is None or found[1].session_id != session.id:
        abort(404)
    item, row = found
    citizen_for(_actor(), row.citizen_id, "change", unit=session.cafe.name)
    services.set_done(item, request.form.get("done") == "1")
    return redirect(url_for(".session", session_id=session.id, _anchor=f"visitor-{row.id}"), 303)


@bp.post("/staff/sessions/<int:session_id>/check-ins/<int:check_in_id>/pair")
@requires(Permission.CITIZEN_ASSIST)
def pair_phone(session_id: int, check_in_id: int):  # type: ignore[no-untyped-def]
    """A one-time code for the citizen's own phone, shown once (only its hash is kept)."""
    session = _session_or_404(session_id)
    row = _check_in_or_404(session, check_in_id)
    back = _open_or_back(session)
    if back:
        return back
    citizen = citizen_for(_actor(), row.citizen_id, "pairing", unit=session.cafe.name)
    seconds = int(current_app.config["CAFE_PAIRING_SECONDS"])
    token = services.create_pairing(_actor(), session, citizen, timedelta(seconds=seconds))
    current_app.logger.info("pairing code made citizen=%s by=%s", citizen.id, current_user.id)
    url = url_for(".pair", token=token, _external=True)
    return render_template("cafes/pairing.html", session=session, citizen=citizen,
                           pair_url=url, qr=_qr(url), minutes=max(1, round(seconds / 60)))


# --- The citizen's side -----------------------------------------------------------------
def _checkin_refused(token: str) -> Response:
    # Never the code itself in the log: only the session id it claims.
    current_app.logger.warning("cafe check-in code refused session=%s",
                               token.partition(".")[0][:10])
    return Response(render_template(
        "cafes/refused.html", title=_("This check-in code does not work"),
        advice=_("The job café session may be over. Ask a helper for today's code.")), 404)


@bp.get("/checkin/<token>")
@public
def checkin(token: str):  # type: ignore[no-untyped-def]
    """The page the café's QR code opens: log in first if need be, then one tap."""
    session = services.session_for_token(token[:100], _secret(), today())
    if session is None:
        return _checkin_refused(token)
    if not current_user.is_authenticated:
        sessions.remember_next(url_for(".checkin", token=token))
        return redirect(url_for("auth.login"))
    if not has_permission(current_user, Permission.OWN_JOB_LOG):
        abort(403)
    here = services.todays_visit(current_user.id, today())
    return render_template("cafes/checkin.html", cafe=session.cafe, token=token,
                           checked_in=here is not None and here.cafe_name == session.cafe.name)


@bp.post("/checkin/<token>")
@requires(Permission.OWN_JOB_LOG)
def confirm_checkin(token: str):  # type: ignore[no-untyped-def]
    session = services.session_for_token(token[:100], _secret(), today())
    if session is None:
        return _checkin_refused(token)
    services.check_in(session, current_user)
    flash(_("You are checked in at %(cafe)s.", cafe=session.cafe.name), "success")
    return redirect(url_for("home.home", _anchor="cafe-title"), 303)


@bp.post("/checkin/items/<int:item_id>")
@requires(Permission.OWN_JOB_LOG)
def tick_own_item(item_id: int):  # type: ignore[no-untyped-def]
    found = services.find_item(item_id)
    if found is None or found[1].citizen_id != current_user.id:
        abort(404)
    services.set_done(found[0], request.form.get("done") == "1")
    return redirect(url_for("home.home", _anchor="cafe-title"), 303)


def _pairing_refused(exc: services.PairingRefused) -> Response:
    current_app.logger.warning("pairing refused reason=%s code=%s", exc.reason,
                               exc.code.id if exc.code else None)
    if exc.code is not None:
        services.refusal_audited(exc.code, Channel.ASSISTED)
    status = 410 if exc.reason in ("used", "expired") else 404
    return Response(render_template(
        "cafes/refused.html", title=_("This code does not work"),
        advice=_("A code works only once and only for a short time. Ask the helper for a new one.")), status)


@bp.get("/pair/<token>")
@public
def pair(token: str):  # type: ignore[no-untyped-def]
    """The page the pairing QR code opens: nothing happens until the citizen taps."""
    try:
        services.pairing_for(token)
    except services.PairingRefused as exc:
        return _pairing_refused(exc)
    return render_template("cafes/pair.html", token=token)


@bp.post("/pair/<token>")
@public
def redeem_pairing(token: str):  # type: ignore[no-untyped-def]
    """Logs this phone in as the citizen, in a fresh session: whoever was logged in on this
    device (a helper's tablet, say) is logged out first, on the server too."""
    try:
        citizen = services.redeem_pairing(token, utcnow())
    except services.PairingRefused as exc:
        return _pairing_refused(exc)
    if current_user.is_authenticated:
        sessions.end()
    sessions.begin(citizen)
    current_app.logger.info("phone paired citizen=%s", citizen.id)
    flash(_("This phone is ready. Next time it opens the app already logged in."), "success")
    return htmx.redirect_page(url_for("home.home"))
