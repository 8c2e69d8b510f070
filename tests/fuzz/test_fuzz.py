"""Fuzz layer (issue 9, QUALITY.md layer 6): Hypothesis drives hostile values into every
route of ``app.url_map`` (path, query and form) as an anonymous visitor and as a logged-in
citizen, and property-based payloads from the sync API's JSON schema into ``/sync/entries``.
Each asserts: no 5xx, and nothing half-saved (a refused request changes no row).

Derandomized (a fixed seed), so a failure reproduces; about a minute in all. A new route
is fuzzed without anyone adding it here.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from joblog_app.activities import services as activities
from joblog_app.activities.forms import SCHEMAS
from joblog_app.activities.models import Activity, ActivityKind
from joblog_app.core.clock import today
from joblog_app.extensions import db
from joblog_app.offline.services import sync_entry_schema
from tests.conftest import Client, CodeOutbox, _FreshContextClient, acting, make_app

SETTINGS = settings(derandomize=True, database=None, deadline=None, max_examples=40,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])
# Routes that end the fuzzing client's own state, or serve files from disk.
SKIP = {("POST", "/logout"), ("GET", "/static/<path:filename>")}

HOSTILE_TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from([
        "", "0", "1", "-1", "9" * 30, str(2**63), str(2**31), "²", "٣", "１２", "1e9", "NaN",
        "9999-12", "0001-01", "1-1", "2026-13", "2026-02-30", "../../etc/passwd", "%00", "\x00",
        "\r\nSet-Cookie: x=1", "/\\evil.example", "//evil.example", "<script>alert(1)</script>",
        "' OR 1=1 --", "\u202eevil", "𝟘𝟙", "x" * 3000, "application", "planned_job",
        "coffee_meeting", "network_lead", "other", "applied", "advertised", "da", "ar",
    ]),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
)
FIELD_NAMES = sorted({spec.name for specs in SCHEMAS.values() for spec in specs} |
                     {"source_id", "client_uuid", "identifier", "code", "lang", "next"})
QUERY_NAMES = ["month", "kind", "status", "lang", "next", "x"]


def _routes() -> list[tuple[str, str]]:
    app = make_app("sqlite://")
    found = sorted({(method, rule.rule) for rule in app.url_map.iter_rules()
                    for method in rule.methods - {"HEAD", "OPTIONS"}})
    return [r for r in found if r not in SKIP]


ROUTES = _routes()


class Fuzzed:
    def __init__(self, app: Flask, anonymous: Client, citizen: Client, citizen_id: int) -> None:
        self.app, self.anonymous, self.citizen, self.citizen_id = app, anonymous, citizen, citizen_id

    def rows(self) -> tuple[int, ...]:
        with self.app.app_context():
            tables = [t for t in db.metadata.sorted_tables
                      if t.name not in ("login_code", "login_code_outbox", "login_failure",
                                        "login_session")]
            return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(t)) or 0
                         for t in tables)


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    import logging

    import flask_migrate

    from joblog_app.auth.models import Municipality, User
    from joblog_app.citizens.models import BenefitGroup
    from joblog_app.citizens.services import new_profile

    url = "sqlite:///" + str(tmp_path_factory.mktemp("fuzz") / "fuzz.sqlite")
    app = make_app(url)
    app.test_client_class = _FreshContextClient
    with app.app_context():
        flask_migrate.upgrade()
        m = Municipality(code="101", name="Fuzz")
        db.session.add(m)
        db.session.flush()
        user = User(name="Fuzz", phone="+4530009999", language="da", municipality_id=m.id)
        db.session.add(user)
        db.session.flush()
        db.session.add(new_profile(user.id, BenefitGroup.KONTANTHJAELP))
        for kind, data in ((ActivityKind.NETWORK_LEAD, {"person": "Ole"}),
                           (ActivityKind.PLANNED_JOB, {"organisation": "Netto", "title": "Bager"})):
            activities.create_activity(user.id, kind, data, actor=acting(user))
        db.session.commit()
        citizen_id = user.id
    outbox = CodeOutbox()
    logger = logging.getLogger("joblog.login")
    logger.addHandler(outbox)
    try:
        citizen = Client(app.test_client(), outbox)
        with app.app_context():
            citizen.login(db.session.get(User, citizen_id))
        anonymous = Client(app.test_client(), outbox)
        yield Fuzzed(app, anonymous, citizen, citizen_id)
    finally:
        logger.removeHandler(outbox)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


_ARGUMENT = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def _path(rule: str, values: dict[str, str]) -> str:
    return _ARGUMENT.sub(lambda m: quote(values[m.group(1)], safe=""), rule)


def _arguments(rule: str) -> list[str]:
    return _ARGUMENT.findall(rule)


@pytest.mark.parametrize("who", ["anonymous", "citizen"])
@pytest.mark.parametrize(("method", "rule"), ROUTES, ids=[f"{m} {r}" for m, r in ROUTES])
def test_hostile_values_on_every_route_never_give_a_5xx_or_half_save(fuzzed, who, method, rule):
    client = getattr(fuzzed, who)
    names = _arguments(rule)

    @SETTINGS
    @given(path=st.fixed_dictionaries({n: HOSTILE_TEXT for n in names}),
           query=st.dictionaries(st.sampled_from(QUERY_NAMES), HOSTILE_TEXT, max_size=3),
           form=st.dictionaries(st.sampled_from(FIELD_NAMES), HOSTILE_TEXT, max_size=8),
           htmx=st.booleans())
    def run(path: dict[str, str], query: dict[str, str], form: dict[str, str], htmx: bool) -> None:
        before = fuzzed.rows()
        url = _path(rule, path)
        headers = {"HX-Request": "true"} if htmx else {}
        if method == "GET":
            r = client.http.get(url, query_string=query, headers=headers)
        else:
            data = dict(form, csrf_token=client.csrf_token())
            r = client.http.post(url, query_string=query, data=data, headers=headers)
        assert r.status_code < 500, (method, url, query, form, r.status_code)
        if r.status_code >= 400:
            assert fuzzed.rows() == before, ("half-saved", method, url, form, r.status_code)
        if url.startswith("/sync/"):
            assert r.is_json, (url, r.status_code)

    run()


def _json_values() -> st.SearchStrategy[object]:
    return st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
                        | st.text(max_size=20),
                        lambda children: st.lists(children, max_size=4)
                        | st.dictionaries(st.text(max_size=8), children, max_size=4),
                        max_leaves=20)


@settings(SETTINGS, max_examples=250)
@given(payload=st.one_of(from_schema(sync_entry_schema()), from_schema(sync_entry_schema())
                         .map(lambda p: {**p, "fields": {**p["fields"],
                                                         "occurred_on": today().isoformat()}}),
                         _json_values()))
def test_sync_api_by_its_schema_never_gives_a_5xx_or_half_saves(fuzzed, payload):
    client = fuzzed.citizen
    csrf = client.get("/sync/session").get_json()["csrf"]
    before = fuzzed.rows()
    r = client.http.post("/sync/entries", data=json.dumps(payload), headers={
        "Content-Type": "application/json", "X-CSRFToken": csrf})
    assert r.status_code < 500 and r.is_json, (payload, r.status_code)
    if r.status_code >= 400:
        assert fuzzed.rows() == before, ("half-saved", payload, r.status_code)
    else:
        assert r.status_code in (200, 201)
        with fuzzed.app.app_context():
            saved = db.session.scalars(sa.select(Activity).where(
                Activity.client_uuid == uuid.UUID(payload["client_uuid"]))).all()
            assert len(saved) == 1 and saved[0].citizen_id == fuzzed.citizen_id
