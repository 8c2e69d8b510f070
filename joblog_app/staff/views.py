"""Staff pages: the staff user's own account and second factors, and the administrator's
list of the municipality's staff accounts."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth import second_factor
from ..permissions import Permission, requires
from . import presenter, services

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.get("")
@requires(Permission.OWN_STAFF_ACCOUNT)
def home():  # type: ignore[no-untyped-def]
    return render_template("staff/home.html", factors=second_factor.factors_of(current_user.id),
                           role_name=presenter.role_name(current_user.role))


@bp.post("/recovery-codes")
@requires(Permission.OWN_STAFF_ACCOUNT)
def recovery_codes():  # type: ignore[no-untyped-def]
    """New codes, shown this once (only their hashes are kept)."""
    codes = second_factor.new_recovery_codes(current_user.id, current_app.secret_key)  # type: ignore[arg-type]
    current_app.logger.info("staff recovery codes renewed user=%s", current_user.id)
    return render_template("staff/recovery_codes.html", codes=codes)


def _accounts_page(status: int = 200, errors: dict[str, object] | None = None,
                   form: dict[str, str] | None = None) -> Response:
    return Response(render_template(
        "staff/accounts.html", accounts=services.staff_of(current_user.municipality_id),
        role_names=presenter.ROLE_NAMES, errors=errors or {}, form=form or {}), status)


@bp.get("/accounts")
@requires(Permission.STAFF_ADMIN)
def accounts():  # type: ignore[no-untyped-def]
    return _accounts_page()


@bp.post("/accounts")
@requires(Permission.STAFF_ADMIN)
def create_account():  # type: ignore[no-untyped-def]
    form = {k: request.form.get(k, "")[:300] for k in ("email", "name", "role")}
    try:
        user = services.create_staff(form["email"], form["name"], form["role"],
                                     current_user.municipality_id)
    except services.StaffError as exc:
        return _accounts_page(422, {exc.field: exc.message}, form)
    current_app.logger.info("staff account created user=%s by=%s", user.id, current_user.id)
    flash(_("The account is ready. %(name)s logs in with their e-mail.", name=user.name),
          "success")
    return redirect(url_for(".accounts"), 303)


@bp.post("/accounts/<int:user_id>/disable")
@requires(Permission.STAFF_ADMIN)
def disable_account(user_id: int):  # type: ignore[no-untyped-def]
    user = services.find_staff(current_user.municipality_id, user_id)
    if user is None:
        current_app.logger.warning("staff account not found user=%s by=%s", user_id,
                                   current_user.id)
        abort(404)
    if user.id == current_user.id:
        flash(_("You cannot disable your own account. Ask another administrator."), "error")
        return redirect(url_for(".accounts"), 303)
    services.disable_staff(user)
    current_app.logger.info("staff account disabled user=%s by=%s", user.id, current_user.id)
    flash(_("%(name)s can no longer log in.", name=user.name), "success")
    return redirect(url_for(".accounts"), 303)
