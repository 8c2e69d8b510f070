"""Reminder fixtures: the fake push service, a sender, a citizen with a device."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from joblog_app.reminders.push import Sender
from joblog_app.reminders.vapid import Vapid
from tests.support.fake_push import FakePushService


@pytest.fixture
def vapid(app_ctx) -> Vapid:  # type: ignore[no-untyped-def]
    v = Vapid.from_config(app_ctx.config)
    assert v is not None
    return v


@pytest.fixture
def push_service(vapid: Vapid) -> Iterator[FakePushService]:
    service = FakePushService(vapid.public_key).start()
    yield service
    service.stop()


@pytest.fixture
def sender(vapid: Vapid) -> Iterator[Sender]:
    s = Sender(vapid, concurrency=8, timeout=5)
    yield s
    s.close()
