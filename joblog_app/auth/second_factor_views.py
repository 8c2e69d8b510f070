"""The staff login's second step: a passkey, an authenticator app or a recovery code, and
enrolment on the first login (rules: second_factor.py)."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from ..permissions import requires_staff_login
from . import second_factor as factors
from . import sessions
from .sessions import current_login_session, second_factor_passed

bp = Blueprint("second_factor", __name__, url_prefix="/login/second-factor")

STAFF_HOME = "staff.home"


def _relying_party() -> factors.RelyingParty:
    """From configuration; in development and tests (production refuses to start without
    it, config.py) from the address the browser used."""
    cfg = current_app.config
    rp_id, origin = cfg["WEBAUTHN_RP_ID"], cfg["WEBAUTHN_ORIGIN"]
    if not (rp_id and origin):
        origin = request.host_url.rstrip("/")
        rp_id = request.host.rsplit(":", 1)[0] if not request.host.startswith("[") else request.host
    return factors.RelyingParty(id=rp_id, name=cfg["WEBAUTHN_RP_NAME"], origin=origin)


def _may_enrol() -> bool:
    """A first factor is enrolled on the first login; more only after one has passed (the
    e-mail code alone must never add a factor to an account that has one)."""
    return second_factor_passed() or not factors.factors_of(current_user.id).enrolled


def _page(status: int = 200, error: object = None, **context: Any) -> Response:
    state = factors.factors_of(current_user.id)
    template = "auth/second_factor.html" if state.enrolled else "auth/enrol.html"
    return Response(render_template(template, factors=state, error=error, **context), status)


def _passed(method: str) -> None:
    current_app.logger.info("staff second factor ok user=%s method=%s", current_user.id, method)


def _refused(method: str, exc: factors.SecondFactorError, json: bool = False) -> Response | None:
    """Log a refusal; when it was one too many (the session ended), log out and send the
    user back to the login page with the reason."""
    current_app.logger.warning("staff second factor refused user=%s method=%s ip=%s",
                               current_user.id, method, request.remote_addr)
    row = current_login_session()
    if row is None or row.revoked_at is None:
        return None
    sessions.end()
    flash(str(exc.message), "error")
    if json:
        return _json_error(exc.message, next=url_for("auth.login"))
    return redirect(url_for("auth.login"), 303)  # type: ignore[return-value]


@bp.get("")
@requires_staff_login
def start():  # type: ignore[no-untyped-def]
    if second_factor_passed():
        return redirect(url_for(STAFF_HOME))
    return _page()


@bp.post("/app")
@requires_staff_login
def verify_app():  # type: ignore[no-untyped-def]
    try:
        factors.verify_totp(current_login_session(), request.form.get("code", "")[:20],  # type: ignore[arg-type]
                            current_app.config["TOTP_KEY"])
    except factors.SecondFactorError as exc:
        return _refused("totp", exc) or _page(422, app_error=exc.message)
    _passed("totp")
    return redirect(url_for(STAFF_HOME), 303)


@bp.post("/recovery")
@requires_staff_login
def verify_recovery():  # type: ignore[no-untyped-def]
    try:
        factors.use_recovery_code(current_login_session(), request.form.get("code", "")[:40],  # type: ignore[arg-type]
                                  current_app.secret_key)  # type: ignore[arg-type]
    except factors.SecondFactorError as exc:
        return _refused("recovery", exc) or _page(422, recovery_error=exc.message)
    _passed("recovery")
    return redirect(url_for(STAFF_HOME), 303)


def _json_error(message: object, status: int = 422, **extra: str) -> Response:
    return Response(jsonify(status="error", message=str(message), **extra).get_data(), status,
                    mimetype="application/json")


@bp.post("/passkey/options")
@requires_staff_login
def passkey_options():  # type: ignore[no-untyped-def]
    options = factors.authentication_options(current_user, _relying_party(),
                                             current_login_session())  # type: ignore[arg-type]
    return Response(options, mimetype="application/json")


@bp.post("/passkey")
@requires_staff_login
def verify_passkey():  # type: ignore[no-untyped-def]
    try:
        factors.authenticate_passkey(current_user, _relying_party(), current_login_session(),  # type: ignore[arg-type]
                                     request.get_data(as_text=True)[:20_000])
    except factors.SecondFactorError as exc:
        return _refused("passkey", exc, json=True) or _json_error(exc.message)
    _passed("passkey")
    return jsonify(status="ok", next=url_for(STAFF_HOME))


@bp.post("/enrol/passkey/options")
@requires_staff_login
def enrol_passkey_options():  # type: ignore[no-untyped-def]
    if not _may_enrol():
        return _json_error(factors.PASSKEY_FAILED, 403)
    options = factors.registration_options(current_user, _relying_party(),
                                           current_login_session())  # type: ignore[arg-type]
    return Response(options, mimetype="application/json")


@bp.post("/enrol/passkey")
@requires_staff_login
def enrol_passkey():  # type: ignore[no-untyped-def]
    if not _may_enrol():
        return _json_error(factors.PASSKEY_FAILED, 403)
    try:
        factors.register_passkey(current_user, _relying_party(), current_login_session(),  # type: ignore[arg-type]
                                 request.get_data(as_text=True)[:20_000])
    except factors.SecondFactorError as exc:
        return _refused("passkey enrolment", exc, json=True) or _json_error(exc.message)
    current_app.logger.info("staff passkey added user=%s", current_user.id)
    return jsonify(status="ok", next=url_for(STAFF_HOME))


def _app_setup(status: int = 200, error: object = None, secret: str | None = None) -> Response:
    secret = secret or factors.pending_totp_secret(current_user.id, current_app.config["TOTP_KEY"])
    if secret is None:
        return redirect(url_for(".start"))  # type: ignore[return-value]
    uri = factors.totp_uri(secret, current_user.email or str(current_user.id))
    return Response(render_template("auth/app_setup.html", qr=factors.qr_data_uri(uri),
                                    secret=secret, error=error), status)


@bp.post("/enrol/app")
@requires_staff_login
def begin_app():  # type: ignore[no-untyped-def]
    if not _may_enrol():
        return redirect(url_for(".start"), 303)
    try:
        secret = factors.begin_totp(current_user.id, current_app.config["TOTP_KEY"])
    except factors.SecondFactorError as exc:
        return _page(422, error=exc.message) if not second_factor_passed() else \
            redirect(url_for(STAFF_HOME), 303)
    return _app_setup(secret=secret)


@bp.post("/enrol/app/confirm")
@requires_staff_login
def confirm_app():  # type: ignore[no-untyped-def]
    if not _may_enrol():
        return redirect(url_for(".start"), 303)
    try:
        factors.confirm_totp(current_login_session(), request.form.get("code", "")[:20],  # type: ignore[arg-type]
                             current_app.config["TOTP_KEY"])
    except factors.SecondFactorError as exc:
        return _refused("totp enrolment", exc) or _app_setup(422, error=exc.message)
    current_app.logger.info("staff authenticator app added user=%s", current_user.id)
    return redirect(url_for(STAFF_HOME), 303)
