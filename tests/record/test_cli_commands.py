"""Administrator commands: put a CPR number on file, see the queue (both database engines)."""

from __future__ import annotations

import sqlalchemy as sa

from joblog_app.citizens import cpr as cpr_numbers
from joblog_app.citizens.models import CitizenProfile
from joblog_app.extensions import db


def test_cpr_is_asked_for_stored_encrypted_and_shown_masked(app, app_ctx, make_citizen):
    citizen = make_citizen(language="da")
    result = app.test_cli_runner().invoke(args=["citizens", "cpr", citizen.phone[3:]],
                                          input="070385-1234\n")
    assert result.exit_code == 0, result.output
    assert "070385-XXXX" in result.output and "1234" not in result.output
    db.session.expire_all()
    stored = db.session.scalar(sa.select(CitizenProfile.cpr_encrypted)
                               .where(CitizenProfile.user_id == citizen.id))
    assert stored and "0703851234" not in stored
    assert cpr_numbers.decrypt(stored) == "0703851234"


def test_cpr_command_refuses_bad_numbers_without_echoing_them(app, app_ctx, make_citizen):
    citizen = make_citizen(language="da")
    result = app.test_cli_runner().invoke(args=["citizens", "cpr", citizen.phone[3:]],
                                          input="3213999999\n")
    assert result.exit_code != 0 and "3213999999" not in result.output
    unknown = app.test_cli_runner().invoke(args=["citizens", "cpr", "20999999"], input="0703851234\n")
    assert unknown.exit_code != 0 and "no active citizen" in unknown.output


def test_status_lists_counts_and_queue_health(app, app_ctx, make_citizen):
    result = app.test_cli_runner().invoke(args=["record", "status"])
    assert result.exit_code == 0 and "queue depth" in result.output
