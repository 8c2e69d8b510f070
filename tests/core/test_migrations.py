"""Migrations build the whole schema on an empty database, and match the models."""

from __future__ import annotations

import secrets

import flask_migrate
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from joblog_app.extensions import db
from tests.conftest import PG_SERVER, _pg_available, make_app


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path):  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        yield "sqlite:///" + str(tmp_path / "empty.sqlite")
        return
    reason = _pg_available()
    if reason:
        pytest.skip(f"PostgreSQL tests skipped — {reason}")
    schema = f"m_{secrets.token_hex(4)}"
    engine = sa.create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    yield f"{PG_SERVER}?options=-csearch_path%3D{schema}"
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


def test_upgrade_on_empty_database_matches_models_and_downgrades(empty_database):
    app = make_app(empty_database)
    with app.app_context():
        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
        names = set(sa.inspect(db.engine).get_table_names())
        assert {"municipality", "user", "citizen_profile", "activity", "login_code",
                "login_session"} <= names
        flask_migrate.downgrade(revision="base")
        assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()
