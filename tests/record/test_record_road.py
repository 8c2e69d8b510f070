"""The road to the record (issue 9): nothing stuck, nothing cut."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from devtools.reference_record.validation import TEXT_LIMITS
from joblog_app.activities import services as activities
from joblog_app.activities.forms import SCHEMAS
from joblog_app.activities.models import Activity, ActivityKind, RecordState
from joblog_app.auth.models import Municipality
from joblog_app.citizens import cpr as cpr_numbers
from joblog_app.core.clock import today
from joblog_app.extensions import db
from joblog_app.record import services as record_services
from joblog_app.record.relay import MAX_UNEXPECTED_ATTEMPTS, relay_pending_activities
from tests.conftest import acting

from .conftest import make_due, reload

CONTRACT = Path(__file__).resolve().parents[2] / "docs" / "record-api.openapi.yaml"
# Activity field -> the record's field it is sent as (record/payload.py).
SENT_AS = {"organisation": "employer", "title": "title", "ad_url": "adUrl", "place": "place",
           "person": "contactPerson", "description": "description"}


@pytest.mark.parametrize(("raw", "expected"), [
    ("٠٧٠٣٨٥-١٢٣٤", "0703851234"),  # Arabic-Indic
    ("۰۷۰۳۸۵۱۲۳۴", "0703851234"),  # Extended Arabic-Indic (Persian, Urdu)
    ("０７０３８５－１２３４".replace("－", "-"), "0703851234"),  # full-width
    ("070385 1234", "0703851234"),
])
def test_cpr_in_other_digit_scripts_becomes_ascii(raw, expected):
    assert cpr_numbers.normalize(raw) == expected
    assert cpr_numbers.normalize(raw).isascii()


@pytest.mark.parametrize("raw", ["07038512³4", "0703851２3⁴", "070385-12¾4"])
def test_cpr_with_digit_like_characters_is_refused(raw):
    with pytest.raises(cpr_numbers.CprError):
        cpr_numbers.normalize(raw)


def _entry(make_citizen):  # type: ignore[no-untyped-def]
    user = make_citizen()
    record_services.set_cpr(user, "0703851234")
    return activities.create_activity(user.id, ActivityKind.APPLICATION, {
        "organisation": "Netto", "title": "Kassemedarbejder", "occurred_on": today(),
        "method": "advertised", "status": "applied"}, actor=acting(user)).activity


def test_an_unexpected_gateway_error_ends_failed_with_its_reason(connected, make_citizen):
    """Finding: a CPR number with Arabic-Indic digits failed to encode in the header, and the
    relay retried that for ever."""
    a = _entry(make_citizen)

    def crash(_gateway, _delivery):  # type: ignore[no-untyped-def]
        "٠".encode("latin-1")  # what requests did with the header

    for attempt in range(1, MAX_UNEXPECTED_ATTEMPTS + 1):
        make_due(a)
        relay_pending_activities(send=crash)
        a = reload(a)
        if attempt < MAX_UNEXPECTED_ATTEMPTS:
            assert a.record_state == RecordState.PENDING
    assert a.record_state == RecordState.FAILED
    assert a.record_error.startswith("internal: UnicodeEncodeError")
    make_due(a)
    assert relay_pending_activities(send=crash).claimed == 0  # it rests: nothing for ever


def test_a_cpr_stored_with_other_digits_before_reaches_the_record(connected, make_citizen):
    a = _entry(make_citizen)
    profile = a.citizen.profile
    profile.cpr_encrypted = cpr_numbers._fernet().encrypt("٠٧٠٣٨٥١٢٣٤".encode()).decode()
    db.session.commit()
    assert relay_pending_activities().synced == 1
    [record] = connected.records()
    assert record["cpr"] == "070385-XXXX"


def test_planning_that_crashes_fails_the_entry_with_a_reason(connected, make_citizen):
    a = _entry(make_citizen)
    a.citizen.profile.cpr_encrypted = "not-a-fernet-token"
    db.session.commit()
    relay_pending_activities()
    a = reload(a)
    assert a.record_state == RecordState.FAILED and a.record_error == "internal: CprError"


def test_the_contract_file_states_the_limits_the_service_applies():
    text = CONTRACT.read_text("utf-8")
    text = text[text.index("    EntryFields:"):]
    for name, limit in TEXT_LIMITS.items():
        start = re.search(rf"\n\s+{name}:\s*(?:\{{type|\n\s+type)", text)
        assert start, name
        m = re.search(r"maxLength: (\d+)", text[start.end():start.end() + 120])
        assert m and int(m.group(1)) == limit, name


def test_no_form_allows_more_than_the_record_takes():
    """Finding: "other activity" took 500 characters and the record got 250 of them."""
    for kind, fields in SCHEMAS.items():
        for spec in fields:
            if spec.name in SENT_AS:
                limit = TEXT_LIMITS[SENT_AS[spec.name]]
                assert spec.max_length <= limit, (kind, spec.name, spec.max_length, limit)
                column = Activity.__table__.c[spec.name].type.length
                assert column is None or column >= spec.max_length
    other = {s.name: s for s in SCHEMAS[ActivityKind.OTHER]}
    assert other["description"].max_length == TEXT_LIMITS["description"] == 250


def test_a_description_longer_than_the_record_takes_is_refused_not_cut(logged_in):
    r = logged_in.new_entry("other", description="x" * 251, occurred_on=today().isoformat())
    assert r.status_code == 422 and "250" in r.get_data(as_text=True)
    r = logged_in.new_entry("other", description="x" * 250, occurred_on=today().isoformat())
    assert r.status_code == 200


@pytest.mark.parametrize("code", ["75", "7510", "abc", "٧٥١", "75a", "", " 751"])
def test_a_municipality_code_is_three_ascii_digits(app_ctx, code):
    with pytest.raises(ValueError):
        Municipality(code=code, name="X")
    m = Municipality(code="751", name="Aarhus")
    with pytest.raises(ValueError):
        m.code = code
    assert db.session.scalar(sa.select(sa.func.count(Municipality.id))) == 0
