"""Who may do what: roles mapped to permissions, the rule every route declares, the acting
context handed to services, and the loader that keeps staff inside their municipality.

Every view declares exactly one rule, as the decorator nearest the function:

    @bp.get("/")
    @requires(Permission.OWN_JOB_LOG)      # logged in, with this permission (else 401/403)
    def home(): ...

    @bp.get("/accessibility")
    @public                                # anyone, logged in or not
    def accessibility(): ...

tests/core/test_access.py walks ``app.url_map`` and fails for a route without a rule, and
checks every route against every kind of user (the access matrix).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from flask import abort, current_app, jsonify, make_response, redirect, request, url_for
from flask_login import current_user

from .auth.models import Role, User
from .auth.sessions import second_factor_passed
from .extensions import db

F = TypeVar("F", bound=Callable[..., Any])

ACCESS_ATTRIBUTE = "joblog_access"
PUBLIC = "public"
STAFF_LOGIN = "staff_login"


class Channel(enum.StrEnum):
    """Through which channel an actor acts (and an entry was made)."""

    WEB = "web"  # the citizen, online
    OFFLINE = "offline"  # the citizen, queued on the phone and replayed
    ASSISTED = "assisted"  # a staff user on the citizen's behalf


class Permission(enum.StrEnum):
    OWN_JOB_LOG = "own_job_log"  # a citizen's own entries, progress and settings
    CITIZEN_READ = "citizen_read"  # staff: look up citizens of their municipality
    CITIZEN_ASSIST = "citizen_assist"  # staff: register for a citizen under a recorded request
    CITIZEN_MANAGE = "citizen_manage"  # caseworker: requirement, CPR number, exemptions
    MUNICIPALITY_FIGURES = "municipality_figures"
    STAFF_ADMIN = "staff_admin"  # staff accounts, cafés, integration settings
    OWN_STAFF_ACCOUNT = "own_staff_account"  # staff: their own passkeys, app, recovery codes


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.CITIZEN: frozenset({Permission.OWN_JOB_LOG}),
    Role.HELPER: frozenset({Permission.CITIZEN_READ, Permission.CITIZEN_ASSIST,
                            Permission.OWN_STAFF_ACCOUNT}),
    Role.CASEWORKER: frozenset({Permission.CITIZEN_READ, Permission.CITIZEN_ASSIST,
                                Permission.CITIZEN_MANAGE, Permission.MUNICIPALITY_FIGURES,
                                Permission.OWN_STAFF_ACCOUNT}),
    Role.ADMIN: frozenset({Permission.CITIZEN_READ, Permission.MUNICIPALITY_FIGURES,
                           Permission.STAFF_ADMIN, Permission.OWN_STAFF_ACCOUNT}),
}

STAFF_ROLES = frozenset({Role.HELPER, Role.CASEWORKER, Role.ADMIN})


def has_permission(user: User, permission: Permission) -> bool:
    return user.is_active and permission in ROLE_PERMISSIONS.get(user.role, frozenset())


def _declare(view: F, rule: str) -> F:
    if hasattr(view, ACCESS_ATTRIBUTE):
        raise TypeError(f"{view.__name__} declares its access twice")
    setattr(view, ACCESS_ATTRIBUTE, rule)
    return view


def public(view: F) -> F:
    """Anyone may use this route, logged in or not."""
    return _declare(view, PUBLIC)


def _to_second_factor() -> Any:
    """A staff user whose session has not passed the second factor goes there first."""
    current_app.logger.info("access before the second factor user=%s path=%s",
                            current_user.id, request.path)
    target = url_for("second_factor.start")
    if request.headers.get("HX-Request") == "true":
        return "", 401, {"HX-Redirect": target}
    return redirect(target)


def requires(permission: Permission) -> Callable[[F], F]:
    """Only a logged-in user whose role has ``permission``: anonymous users are sent to the
    login page (401 for htmx), staff whose session has not passed its second factor to the
    second factor, others get 403."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
            if not second_factor_passed():
                return _to_second_factor()
            if not has_permission(current_user, permission):
                abort(403)  # logged by core/errors.py
            return view(*args, **kwargs)

        return _declare(wrapper, permission.value)  # type: ignore[arg-type]

    return decorate


def requires_staff_login(view: F) -> F:
    """The login's second step: a logged-in staff user, whether or not the session's second
    factor has passed yet (anonymous: the login page; citizens: 403)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
        if current_user.role not in STAFF_ROLES:
            abort(403)
        return view(*args, **kwargs)

    return _declare(wrapper, STAFF_LOGIN)  # type: ignore[arg-type]


def requires_for_api(permission: Permission) -> Callable[[F], F]:
    """As ``requires``, for the JSON API the offline queue calls: a JSON 401
    ``{"status": "login"}`` for anyone who cannot use it, which the queue answers by asking
    the citizen to log in again (never an HTML login page)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated or not second_factor_passed() or \
                    not has_permission(current_user, permission):
                return make_response(jsonify(status="login"), 401)
            return view(*args, **kwargs)

        return _declare(wrapper, permission.value)  # type: ignore[arg-type]

    return decorate


def can(permission: str) -> bool:
    """For templates: may the logged-in user do this? (``{% if can("own_job_log") %}``)"""
    return bool(current_user.is_authenticated and second_factor_passed()
                and has_permission(current_user, Permission(permission)))


def declared_access(view: Callable[..., Any]) -> str | None:
    """The rule a view declared (``public`` or a permission), or None."""
    return getattr(view, ACCESS_ATTRIBUTE, None)


@dataclass(frozen=True)
class Actor:
    """Who acts on a citizen's data, in which role, through which channel and for what
    purpose: handed to every service that changes a citizen's data, so that an entry says
    who made it and the audit log can say who looked (staff, with a purpose)."""

    user_id: int
    role: Role
    municipality_id: int
    channel: Channel
    purpose: str | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @classmethod
    def of(cls, user: User, channel: Channel, purpose: str | None = None) -> Actor:
        return cls(user.id, user.role, user.municipality_id, channel, purpose)


def current_actor(channel: Channel | None = None, purpose: str | None = None) -> Actor:
    """The logged-in user as the actor of this request (web channel unless said)."""
    return Actor.of(current_user, channel or Channel.WEB, purpose)


def citizen_for(actor: Actor, citizen_id: int, action: str = "read",
                unit: str | None = None, audit_allowed: bool = True) -> User:
    """The citizen ``actor`` may act on, or 404: a citizen only themself; staff only the
    citizens of their own municipality (and nothing reveals whether another exists).

    For staff this is also the audit point: the look-up (``action``: read, change, export,
    pairing) is written to the audit log in the request's transaction, and so is a denied
    attempt (the 404 commits it: core/database.py commits 4xx answers). A caller that
    only knows at the end whether it changed anything passes ``audit_allowed=False`` and
    writes the allowed row itself (a denied attempt is still written here)."""
    if not actor.is_staff:
        if actor.user_id != citizen_id:
            abort(404)
    citizen = db.session.get(User, citizen_id)
    allowed = citizen is not None and citizen.role == Role.CITIZEN and citizen.is_active and \
        citizen.municipality_id == actor.municipality_id
    if actor.is_staff and (audit_allowed or not allowed):
        from .audit import services as audit
        from .audit.models import AuditAction, AuditOutcome

        audit.record(actor, AuditAction(action), citizen_id=citizen_id, unit=unit,
                     outcome=AuditOutcome.ALLOWED if allowed else AuditOutcome.DENIED)
    if not allowed:
        abort(404)
    assert citizen is not None
    return citizen
