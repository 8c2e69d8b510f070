"""Creating, listing and disabling staff accounts. Plain functions: they flush, the request
or command commits."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..auth.models import Municipality, Role, User
from ..auth.second_factor import forget_factors
from ..auth.services import end_sessions_of
from ..extensions import db
from ..permissions import STAFF_ROLES

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,185}\.[^@\s]{2,}$")


class StaffError(Exception):
    def __init__(self, field: str, message: object) -> None:
        super().__init__(f"staff account refused: {field}")
        self.field, self.message = field, message


def staff_role(raw: str) -> Role:
    try:
        role = Role(raw)
    except ValueError:
        role = None
    if role not in STAFF_ROLES:
        raise StaffError("role", _l("Choose a role."))
    return role  # type: ignore[return-value]


def create_staff(email: str, name: str, role: Role | str, municipality_id: int) -> User:
    """A personal staff account (never shared): e-mail, name, role, one municipality. It
    logs in with an e-mail code and enrols its second factor on the first login. Flushes."""
    email = (email or "").strip().lower()
    name = " ".join((name or "").split())
    if not _EMAIL.match(email) or len(email) > 254:
        raise StaffError("email", _l("This e-mail does not look right. Check it and try again."))
    if not name or len(name) > 120:
        raise StaffError("name", _l("Write the person's name (at most 120 characters)."))
    role = staff_role(str(role))
    if db.session.scalar(sa.select(User.id).where(User.email == email)) is not None:
        raise StaffError("email", _l("Someone already uses this e-mail."))
    user = User(email=email, name=name, role=role, municipality_id=municipality_id,
                language="da")
    db.session.add(user)
    db.session.flush()
    return user


def municipality_by_code(code: str) -> Municipality | None:
    return db.session.scalar(sa.select(Municipality).where(Municipality.code == code))


def staff_of(municipality_id: int) -> list[User]:
    """The municipality's staff accounts, active first, then by name."""
    return list(db.session.scalars(
        sa.select(User).where(User.municipality_id == municipality_id,
                              User.role.in_(list(STAFF_ROLES)))
        .order_by(User.is_active.desc(), User.name)))


def find_staff(municipality_id: int, user_id: int) -> User | None:
    """A staff account of this municipality, or None (another municipality's is invisible)."""
    user = db.session.get(User, user_id)
    if user is None or user.role not in STAFF_ROLES or user.municipality_id != municipality_id:
        return None
    return user


def disable_staff(user: User) -> int:
    """Disable a staff account and end its sessions at once (ASVS 7.4.2); returns how many
    sessions ended. Flushes."""
    user.is_active = False
    ended = end_sessions_of(user.id)
    db.session.flush()
    return ended


def reset_second_factor(user: User) -> None:
    """A staff user who lost their passkey, app and recovery codes: the factors go, their
    sessions end, and they enrol again after the next e-mail code. Flushes."""
    forget_factors(user.id)
    end_sessions_of(user.id)
