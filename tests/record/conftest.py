"""Fixtures for record delivery: the reference record service over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from devtools.reference_record import ReferenceRecordService
from joblog_app.activities.models import Activity
from joblog_app.auth.models import Municipality
from joblog_app.extensions import db
from joblog_app.record import services as record_services
from joblog_app.record.models import RecordGatewayKind

CLIENT_SECRET = "test-client-secret"


@pytest.fixture
def record_service(tmp_path) -> Iterator[ReferenceRecordService]:  # type: ignore[no-untyped-def]
    service = ReferenceRecordService(str(tmp_path / "record.sqlite"), client_id="joblog",
                                     client_secret=CLIENT_SECRET, faults={"seed": 7})
    service.start()
    yield service
    service.stop()


@pytest.fixture
def connected(app, app_ctx, municipality: Municipality, record_service):  # type: ignore[no-untyped-def]
    """The test municipality sends to the reference service over HTTP."""
    app.config.update(RECORD_HTTP_URL=record_service.url, RECORD_CLIENT_ID="joblog",
                      RECORD_CLIENT_SECRET=CLIENT_SECRET, RECORD_TIMEOUT=5.0,
                      RECORD_LEASE_SECONDS=60)
    record_services.set_gateway(municipality, RecordGatewayKind.HTTP)
    db.session.commit()
    return record_service


def reload(activity: Activity) -> Activity:
    db.session.expire_all()
    return db.session.scalar(sa.select(Activity).where(Activity.id == activity.id))


def make_due(*activities: Activity) -> None:
    """Pretend the backoff has passed."""
    db.session.execute(sa.update(Activity)
                       .where(Activity.id.in_([a.id for a in activities]))
                       .values(record_next_attempt_at=None))
    db.session.commit()
