"""Job cafés, their sessions, who checked in, the visit checklist and phone pairing codes."""

from __future__ import annotations

from datetime import date, datetime, time

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..extensions import db
from ..models_base import utcnow

# The languages a café's helpers may speak: the app's four.
CAFE_LANGUAGES = ("da", "uk", "ar", "en")


class Cafe(db.Model):
    """A weekly job café of a municipality, set up by an administrator."""

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipality.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    place: Mapped[str] = mapped_column(sa.String(200))
    weekday: Mapped[int] = mapped_column(sa.SmallInteger)  # 0 = Monday, as date.weekday()
    opens_at: Mapped[time]
    closes_at: Mapped[time]
    languages: Mapped[str] = mapped_column(sa.String(20))  # "da,uk": codes of CAFE_LANGUAGES
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def language_codes(self) -> list[str]:
        return [code for code in self.languages.split(",") if code]


class CafeSession(db.Model):
    """One day's session of a café. Its check-in code is derived from ``checkin_salt`` and
    the app's secret key (services.checkin_token): a new salt per session rotates the code,
    and the database alone cannot make one. Closing the session ends the code."""

    id: Mapped[int] = mapped_column(primary_key=True)
    cafe_id: Mapped[int] = mapped_column(sa.ForeignKey("cafe.id", ondelete="CASCADE"),
                                         index=True)
    day: Mapped[date]
    opened_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    checkin_salt: Mapped[str] = mapped_column(sa.String(32))

    cafe: Mapped[Cafe] = relationship()


class CheckIn(db.Model):
    """A citizen at a session: once per session (checking in again changes nothing)."""

    __table_args__ = (sa.UniqueConstraint("session_id", "citizen_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("cafe_session.id", ondelete="CASCADE"))
    citizen_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"),
                                            index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))  # a helper, or None: self

    session: Mapped[CafeSession] = relationship()
    citizen: Mapped[User] = relationship(foreign_keys=[citizen_id])


class ChecklistItem(db.Model):
    """One thing the helper and the citizen agreed to do during the visit: a suggestion
    (a key, shown in each reader's language) or a short text typed by the helper."""

    id: Mapped[int] = mapped_column(primary_key=True)
    check_in_id: Mapped[int] = mapped_column(sa.ForeignKey("check_in.id", ondelete="CASCADE"),
                                             index=True)
    suggestion: Mapped[str | None] = mapped_column(sa.String(20))
    text: Mapped[str | None] = mapped_column(sa.String(80))
    done_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PairingCode(db.Model):
    """A one-time code that logs a citizen's own phone in: made by a helper after checking
    who the citizen is, in person. Only its hash is kept; valid a short time, once."""

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    citizen_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"),
                                            index=True)
    helper_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("cafe_session.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    session: Mapped[CafeSession] = relationship()
