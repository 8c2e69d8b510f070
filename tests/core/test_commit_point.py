"""One commit point per request: services flush, the request commits once at its end."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from joblog_app.activities import views as activity_views
from joblog_app.activities.models import Activity
from joblog_app.core.clock import today
from joblog_app.extensions import db


def _application() -> dict[str, str]:
    return {"client_uuid": str(uuid.uuid4()), "organisation": "Netto", "title": "Kasse",
            "occurred_on": today().isoformat(), "method": "advertised", "status": "applied"}


def _count() -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count(Activity.id)))


def test_a_failure_after_the_save_leaves_nothing_half_written(app, logged_in, monkeypatch):
    """The entry is flushed by the service; the view then fails: the request answers 500
    and the entry is not in the database."""
    def broken_flash(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("a step after the save failed")

    monkeypatch.setattr(activity_views, "flash", broken_flash)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    r = logged_in.post("/activities/new/application", _application())
    assert r.status_code == 500
    with app.app_context():
        assert _count() == 0


def test_the_request_commits_what_its_services_flushed(app, logged_in):
    r = logged_in.post("/activities/new/application", _application())
    assert r.status_code == 200
    with app.app_context():
        assert _count() == 1


def test_services_never_commit():
    """Commits happen only at the boundaries: the request (core/database.py), CLI commands
    and worker jobs (relay.py commits its lease before sending; reminders/jobs.py holds the
    reminder jobs' claims and outcomes for the same reason: a lease must be committed before
    a push is sent, or a second worker would send it too)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "joblog_app"
    allowed = {"core/database.py", "record/relay.py", "reminders/jobs.py", "worker.py", "cli.py"}
    offenders = []
    for path in root.rglob("*.py"):
        rel = path.relative_to(root).as_posix()
        if rel in allowed or rel.endswith("/cli.py"):
            continue
        if "session.commit()" in path.read_text("utf-8"):
            offenders.append(rel)
    assert offenders == [], f"services must flush, not commit: {offenders}"
