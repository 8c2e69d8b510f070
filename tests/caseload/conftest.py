"""What the caseworker tests share: a logged-in caseworker, and citizens made long ago."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from joblog_app.auth.models import Role, User
from joblog_app.extensions import db
from tests.core.test_access import _login_as


@pytest.fixture
def caseworker_language() -> str:
    """The caseworker's language (a test module overrides it to read other words)."""
    return "da"


@pytest.fixture
def caseworker(app_ctx, client, make_citizen, caseworker_language):  # type: ignore[no-untyped-def]
    user = make_citizen(role=Role.CASEWORKER, email="case@example.org",
                        language=caseworker_language)
    _login_as(client, user)
    return user


def made_days_ago(user: User, days: int) -> User:
    """The account as if made ``days`` ago (STAR's groups count from the account's day)."""
    user.created_at = datetime.now() - timedelta(days=days)
    db.session.commit()
    return user
