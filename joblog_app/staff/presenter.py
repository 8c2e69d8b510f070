"""Words for staff roles, for the staff pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..auth.models import Role

ROLE_NAMES = {
    Role.HELPER: _l("Job café helper"),
    Role.CASEWORKER: _l("Caseworker"),
    Role.ADMIN: _l("Administrator"),
}


def role_name(role: Role) -> str:
    return str(ROLE_NAMES.get(role, role.value))
