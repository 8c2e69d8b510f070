"""The CPR blind index: a keyed hash beside the encrypted number, kept by store_cpr, unique,
and filled for existing rows by migration 0013."""

from __future__ import annotations

import flask_migrate
import pytest
import sqlalchemy as sa

from joblog_app.citizens import cpr
from joblog_app.citizens.models import CitizenProfile
from joblog_app.citizens.services import citizen_by_cpr, store_cpr
from joblog_app.extensions import db
from tests.conftest import make_app
from tests.core.test_migrations import empty_database  # noqa: F401 - a fixture


def test_store_cpr_keeps_the_index_and_it_finds_the_citizen(make_citizen):
    olena = make_citizen()
    store_cpr(olena.id, "010190-1111")
    profile = db.session.get(CitizenProfile, olena.id)
    assert profile.cpr_index == cpr.blind_index("0101901111")
    assert "0101901111" not in profile.cpr_index and len(profile.cpr_index) == 64
    assert citizen_by_cpr("0101901111").id == olena.id
    assert citizen_by_cpr("0201902222") is None
    # Another key gives another index: the index alone says nothing without the key.
    assert cpr.blind_index("0101901111", key="another") != profile.cpr_index


def test_one_cpr_number_belongs_to_one_citizen(make_citizen):
    olena, mette = make_citizen(), make_citizen()
    store_cpr(olena.id, "0101901111")
    with pytest.raises(cpr.CprInUse):
        store_cpr(mette.id, "0101901111")
    store_cpr(olena.id, "0101901111")  # again for the same citizen: fine


def test_an_inactive_citizen_is_not_found(make_citizen):
    gone = make_citizen(active=False)
    store_cpr(gone.id, "0101901111")
    assert citizen_by_cpr("0101901111") is None


def test_migration_0013_indexes_the_numbers_already_on_file(empty_database):  # noqa: F811
    app = make_app(empty_database)
    with app.app_context():
        flask_migrate.upgrade(revision="0010")
        with db.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO municipality (id, code, name) VALUES (1, '101', 'K')"))
            for n, encrypted in enumerate([cpr.encrypt("0101901111"), cpr.encrypt("0201902222"),
                                           "not-a-fernet-token", cpr.encrypt("0101901111")], 1):
                conn.execute(sa.text(
                    "INSERT INTO \"user\" (id, name, phone, language, role, municipality_id, "
                    "is_active, created_at) VALUES (:id, :name, :phone, 'da', 'citizen', 1, "
                    ":active, CURRENT_TIMESTAMP)"),
                    {"id": n, "name": f"C{n}", "phone": f"+452000000{n}", "active": True})
                conn.execute(sa.text(
                    "INSERT INTO citizen_profile (user_id, benefit_group, requirement_count, "
                    "requirement_period, cpr_encrypted) VALUES (:id, 'dagpenge', 1.5, 'week', :c)"),
                    {"id": n, "c": encrypted})
        flask_migrate.upgrade()
        rows = dict(db.session.execute(sa.select(CitizenProfile.user_id, CitizenProfile.cpr_index)).all())
        assert rows[1] == cpr.blind_index("0101901111")
        assert rows[2] == cpr.blind_index("0201902222")
        assert rows[3] is None and rows[4] is None  # unreadable, and on file twice
        assert citizen_by_cpr("0201902222").id == 2
        db.session.remove()
        flask_migrate.downgrade(revision="0010")
        flask_migrate.upgrade()
        db.engine.dispose()
