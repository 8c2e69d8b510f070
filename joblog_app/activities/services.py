"""The job log's rules: create (idempotently), edit, delete, convert and list entries."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db
from ..models_base import utcnow
from ..permissions import Actor
from .forms import SCHEMAS, clean_text
from .models import (
    Activity,
    ActivityKind,
    ApplicationMethod,
    ApplicationStatus,
    RecordState,
)

FOLLOW_UP_HORIZON = timedelta(days=3)


class ConflictError(Exception):
    """The client UUID is already used for an entry with other content."""

    def __init__(self, existing: Activity) -> None:
        super().__init__("client uuid already used with other content")
        self.existing = existing


@dataclass(frozen=True)
class Saved:
    activity_id: int
    created: bool  # False when an identical earlier request already created it

    @property
    def activity(self) -> Activity:
        """The entry, loaded when first asked for (saving itself does not need it)."""
        activity = db.session.get(Activity, self.activity_id)
        assert activity is not None
        return activity


def _content(kind: ActivityKind, data: dict[str, Any]) -> dict[str, Any]:
    return {spec.name: data.get(spec.name) for spec in SCHEMAS[kind]}


def _same_content(activity: Activity, kind: ActivityKind, data: dict[str, Any]) -> bool:
    return activity.kind == kind and all(
        getattr(activity, name) == _normal(value) for name, value in _content(kind, data).items()
    )


def _normal(value: Any) -> Any:
    return None if value == "" else value


def find_by_uuid(citizen_id: int, client_uuid: uuid.UUID) -> Activity | None:
    return db.session.scalar(
        sa.select(Activity).where(Activity.citizen_id == citizen_id,
                                  Activity.client_uuid == client_uuid)
    )


def _insert_unless_repeated(values: dict[str, Any]) -> int | None:
    """INSERT the entry, or nothing when (citizen, client UUID) exists already: the new id,
    or None for a repeat. ``ON CONFLICT DO NOTHING`` (SQLite and PostgreSQL) instead of
    catching the unique violation, so the rest of the request's transaction (an audit row,
    say) is never rolled back with it; a plain INSERT, the most frequent write."""
    dialect = sqlite if db.engine.dialect.name == "sqlite" else postgresql
    statement = (dialect.insert(Activity.__table__).values(**values)
                 .on_conflict_do_nothing(index_elements=["citizen_id", "client_uuid"])
                 .returning(Activity.__table__.c.id))
    return db.session.execute(statement).scalar()


def _may_act(actor: Actor, citizen_id: int) -> None:
    """A citizen acts only on their own entries. Staff reach a citizen only through
    ``permissions.citizen_for``, which keeps them inside their municipality."""
    if not actor.is_staff and actor.user_id != citizen_id:
        raise PermissionError("a citizen acts only on their own entries")


def create_activity(citizen_id: int, kind: ActivityKind, data: dict[str, Any], *,
                    actor: Actor, client_uuid: uuid.UUID | None = None,
                    source: Activity | None = None) -> Saved:
    """Save a new entry, entered by ``actor`` through ``actor.channel``. Idempotent per
    (citizen, client UUID): the same content again returns the first entry (a retry, a
    double tap, or a concurrent request with the same UUID that won the race); other content
    raises ``ConflictError``. Flushes."""
    _may_act(actor, citizen_id)
    client_uuid = client_uuid or uuid.uuid4()
    # As the ORM does, a field left empty is left out: NULL, or the column's default.
    values = {name: value for name, value in _content(kind, data).items()
              if _normal(value) is not None}
    values.update(citizen_id=citizen_id, kind=kind, client_uuid=client_uuid,
                  entered_by_id=actor.user_id, channel=actor.channel,
                  # Network leads are private notes about other people: never sent.
                  record_state=RecordState.LOCAL if kind == ActivityKind.NETWORK_LEAD
                  else RecordState.PENDING)
    activity_id = _insert_unless_repeated(values)
    if activity_id is None:
        existing = find_by_uuid(citizen_id, client_uuid)
        if existing is None:  # cannot happen: the conflict was on this very key
            raise RuntimeError("entry conflict without an entry")
        return _repeat(existing, kind, data)
    if source is not None:
        _mark_converted(source, activity_id)
        db.session.flush()
    return Saved(activity_id, created=True)


def _repeat(existing: Activity, kind: ActivityKind, data: dict[str, Any]) -> Saved:
    if _same_content(existing, kind, data):
        return Saved(existing.id, created=False)
    raise ConflictError(existing)


def _mark_converted(source: Activity, result_id: int) -> None:
    if source.kind in (ActivityKind.PLANNED_JOB, ActivityKind.NETWORK_LEAD):
        source.converted_to_id = result_id
    if source.follow_up_on is not None:
        source.followed_up_at = utcnow()


def _changed(activity: Activity) -> None:
    """After an edit or delete, the record must hear of it (as an update or cancellation).

    A send in flight keeps its claim: the relay sees the newer content_version afterwards.
    """
    activity.content_version = Activity.content_version + 1
    if activity.record_state in (RecordState.SYNCED, RecordState.FAILED):
        activity.record_state = RecordState.PENDING
        activity.record_next_attempt_at = None
        activity.record_attempts = 0
        activity.record_error = None


def update_activity(actor: Actor, activity: Activity, data: dict[str, Any]) -> Activity:
    """Replace the fields of ``activity``'s kind with validated data. Flushes."""
    _may_act(actor, activity.citizen_id)
    content = {name: _normal(value) for name, value in _content(activity.kind, data).items()}
    if any(getattr(activity, name) != value for name, value in content.items()):
        for name, value in content.items():
            setattr(activity, name, value)
        _changed(activity)
    db.session.flush()
    return activity


def delete_activity(actor: Actor, activity: Activity) -> None:
    """Soft delete: the relay sends it as a cancellation if it reached the record. Flushes."""
    _may_act(actor, activity.citizen_id)
    activity.deleted_at = utcnow()
    _changed(activity)
    db.session.flush()


def get_for_citizen(citizen_id: int, activity_id: int) -> Activity | None:
    """The citizen's own, not deleted entry, or None (the caller answers 404)."""
    return db.session.scalar(
        sa.select(Activity).where(Activity.id == activity_id, Activity.citizen_id == citizen_id,
                                  Activity.deleted_at.is_(None))
    )


def apply_for_planned(actor: Actor, planned: Activity, today: date) -> Saved:
    """Turn a planned job into an application dated today (one tap). Idempotent."""
    # Derived UUID: a double tap or a retry finds the same application.
    derived = uuid.uuid5(planned.client_uuid, "application")
    data = {
        "organisation": planned.organisation,
        "title": planned.title,
        "occurred_on": today,
        "method": ApplicationMethod.ADVERTISED.value,
        "status": ApplicationStatus.APPLIED.value,
        "ad_url": planned.ad_url,
        "deadline": planned.deadline,
        "plan_tag": planned.plan_tag.value if planned.plan_tag else None,
        "notes": planned.notes,
    }
    existing = find_by_uuid(planned.citizen_id, derived)
    if existing is not None:
        return Saved(existing.id, created=False)
    return create_activity(planned.citizen_id, ActivityKind.APPLICATION, data,
                           actor=actor, client_uuid=derived, source=planned)


def prefill_from(source: Activity, kind: ActivityKind, today: date) -> dict[str, Any]:
    """Form values for a follow-up meeting or for turning a lead into a meeting/application."""
    data: dict[str, Any] = {"organisation": source.organisation, "occurred_on": today}
    if kind == ActivityKind.COFFEE_MEETING:
        data["person"] = source.person
    if kind == ActivityKind.APPLICATION:
        data.update(method=ApplicationMethod.NETWORK.value, status=ApplicationStatus.APPLIED.value)
    return data


# What an entry may turn into, the first being the usual next step: a coffee meeting gets a
# follow-up meeting; a network contact becomes a meeting or an application.
FOLLOW_ONS: dict[ActivityKind, tuple[ActivityKind, ...]] = {
    ActivityKind.COFFEE_MEETING: (ActivityKind.COFFEE_MEETING,),
    ActivityKind.NETWORK_LEAD: (ActivityKind.COFFEE_MEETING, ActivityKind.APPLICATION),
}


def can_convert(source: Activity, kind: ActivityKind) -> bool:
    return kind in FOLLOW_ONS.get(source.kind, ()) and source.converted_to_id is None


def _live(citizen_id: int) -> list[sa.ColumnElement[bool]]:
    return [Activity.citizen_id == citizen_id, Activity.deleted_at.is_(None)]


def recent_employers(citizen_id: int, limit: int = 5) -> list[str]:
    rows = db.session.execute(
        sa.select(Activity.organisation, sa.func.max(Activity.id).label("last"))
        .where(*_live(citizen_id), Activity.organisation.is_not(None),
               Activity.kind.in_([ActivityKind.APPLICATION, ActivityKind.PLANNED_JOB,
                                  ActivityKind.COFFEE_MEETING]))
        .group_by(Activity.organisation)
        .order_by(sa.desc("last"))
        .limit(limit)
    )
    return [r.organisation for r in rows]


def month_entries(citizen_id: int, start: date, end: date, kind: ActivityKind | None = None,
                  status: str | None = None) -> list[Activity]:
    """Entries of one month; planned jobs by creation date, the rest by their date."""
    day = sa.func.coalesce(Activity.occurred_on, sa.func.date(Activity.created_at))
    query = sa.select(Activity).where(*_live(citizen_id), day.between(start, end))
    if kind is not None:
        query = query.where(Activity.kind == kind)
    if status:
        query = query.where(Activity.status == status)
    return list(db.session.scalars(query.order_by(day.desc(), Activity.id.desc())))


_URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)


def shared_job(title: str, text: str, url: str) -> dict[str, str]:
    """Fields of a planned job from what another app shared (Web Share Target): the link
    (or the first link in the text; Android apps often send it there) and the title, cut
    to what the form takes. Nothing is saved: the citizen checks it and taps Save."""
    values: dict[str, str] = {}
    link = url.strip() if _URL.fullmatch(url.strip()) else ""
    if not link:
        found = _URL.search(text)
        link = found.group(0) if found else ""
    if link and len(link) <= 500:
        values["ad_url"] = link
    shared_title = clean_text(title or "", multiline=False)
    if not shared_title:
        without_link = _URL.sub("", text or "")
        shared_title = clean_text(without_link, multiline=False)
    shared_title = " ".join(shared_title.split())
    if shared_title:
        values["title"] = shared_title[:120]
    return values

