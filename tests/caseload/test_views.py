"""The caseworker's pages through the test client (both engines): the work list, its
filters and CSV, the exemption page, the figures, and the audit rows each writes."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
import sqlalchemy as sa

from joblog_app.activities.models import Activity, ActivityKind, RecordState
from joblog_app.activities.services import create_activity
from joblog_app.audit.models import AuditAction, AuditEntry, AuditOutcome
from joblog_app.auth.models import Municipality, User
from joblog_app.caseload.export import neutralise, to_csv
from joblog_app.citizens.models import BenefitGroup, Exemption
from joblog_app.core.clock import today
from joblog_app.extensions import db
from tests.caseload.conftest import made_days_ago
from tests.conftest import acting


def _old(user: User, days: int = 60) -> User:
    return made_days_ago(user, days)


def _audit(action: AuditAction) -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)
                                   .order_by(AuditEntry.id)))


def test_the_work_list_shows_who_needs_help_and_is_audited_once(client, caseworker,
                                                                 make_citizen):
    red = _old(make_citizen(language="uk"))
    red.name = "=HYPERLINK(\"x\")"
    busy = _old(make_citizen())
    for _ in range(6):
        create_activity(busy.id, ActivityKind.APPLICATION,
                        {"organisation": "Netto", "title": "Kasse", "occurred_on": today(),
                         "method": "advertised", "status": "applied"}, actor=acting(busy))
    exempt = _old(make_citizen())
    db.session.add(Exemption(citizen_id=exempt.id, municipality_id=exempt.municipality_id,
                             legal_basis="las_75_5", starts_on=today() - timedelta(days=3),
                             ends_on=today() + timedelta(days=60), granted_by_id=caseworker.id))
    refused = _old(make_citizen(group=BenefitGroup.DAGPENGE))
    entry = create_activity(refused.id, ActivityKind.APPLICATION,
                            {"organisation": "Føtex", "title": "Kok", "occurred_on": today(),
                             "method": "advertised", "status": "applied"},
                            actor=acting(refused)).activity
    for _ in range(9):
        create_activity(refused.id, ActivityKind.APPLICATION,
                        {"organisation": "Føtex", "title": "Kok", "occurred_on": today(),
                         "method": "advertised", "status": "applied"}, actor=acting(refused))
    db.session.execute(sa.update(Activity).where(Activity.id == entry.id)
                       .values(record_state=RecordState.FAILED))
    db.session.commit()

    page = client.get("/staff/worklist")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "=HYPERLINK" in text or "=HYPERLINK(&#34;x&#34;)" in text
    assert f"/staff/citizens/{refused.id}/exemptions" in text
    assert f"/staff/citizens/{busy.id}/exemptions" not in text
    assert f"/staff/citizens/{exempt.id}/exemptions" not in text
    [row] = _audit(AuditAction.SEARCH)
    assert row.citizen_id is None and row.search_term.startswith("work list")
    assert row.purpose

    filtered = client.get("/staff/worklist?language=uk&min_days=30&benefit_group=kontanthjaelp")
    assert filtered.status_code == 200
    assert f"/staff/citizens/{red.id}/exemptions" in filtered.get_data(as_text=True)
    assert "lang=uk days=30" in _audit(AuditAction.SEARCH)[-1].search_term
    none = client.get("/staff/worklist?follow_ups=1").get_data(as_text=True)
    assert f"/staff/citizens/{red.id}/exemptions" not in none


@pytest.mark.parametrize("query", ["benefit_group=nope", "language=xx", "min_days=-1",
                                   "min_days=%D9%A3", "page=0", "page=99999999999"])
def test_bad_filters_are_a_400_with_the_page(client, caseworker, query):
    r = client.get(f"/staff/worklist?{query}")
    assert r.status_code == 400
    assert "flash-error" in r.get_data(as_text=True)
    assert client.get(f"/staff/worklist.csv?{query}").status_code == 400


def test_the_csv_export_is_neutralised_and_audited_per_citizen(client, caseworker, make_citizen):
    a = _old(make_citizen())
    a.name = "=cmd|' /C calc'!A0"
    b = _old(make_citizen())
    b.name = "Søren Ærø"
    db.session.commit()
    r = client.get("/staff/worklist.csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    body = r.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    names = [row[0] for row in rows[1:]]
    assert "'=cmd|' /C calc'!A0" in names and "Søren Ærø" in names
    exported = _audit(AuditAction.EXPORT)
    assert sorted(e.citizen_id for e in exported) == sorted([a.id, b.id])


def test_neutralise_every_formula_start():
    for start in "=+-@\t\r":
        assert neutralise(start + "1") == "'" + start + "1"
    assert neutralise("Anna") == "Anna" and neutralise(None) == "" and neutralise(5) == "5"
    assert to_csv(["a"], [["-2"]]).decode("utf-8-sig") == "a\r\n'-2\r\n"


def test_granting_and_ending_an_exemption_through_the_page(client, caseworker, citizen):
    url = f"/staff/citizens/{citizen.id}/exemptions"
    assert client.get(url).status_code == 200
    bad = client.post(url, {"legal_basis": "las_75_5", "starts_on": today().isoformat(),
                            "ends_on": (today() - timedelta(days=1)).isoformat(),
                            "note": "keep me"}, htmx=False)
    assert bad.status_code == 422 and "keep me" in bad.get_data(as_text=True)
    missing = client.post(url, {"legal_basis": "las_75_5", "starts_on": "2026-13-01"}, htmx=False)
    assert missing.status_code == 422
    ok = client.post(url, {"legal_basis": "integration_26a_4", "starts_on": today().isoformat(),
                           "ends_on": (today() + timedelta(days=30)).isoformat()}, htmx=False)
    assert ok.status_code == 303
    exemption = db.session.scalar(sa.select(Exemption))
    assert exemption.ends_on == today() + timedelta(days=30)
    r = client.post(f"{url}/{exemption.id}/end", {}, htmx=False)
    assert r.status_code == 303
    db.session.expire_all()
    assert db.session.get(Exemption, exemption.id).ended_on == today() - timedelta(days=1)
    again = client.post(f"{url}/{exemption.id}/end", {}, htmx=False, follow_redirects=True)
    assert again.status_code == 200
    assert client.post(f"{url}/999999/end", {}, htmx=False).status_code == 404
    changes = _audit(AuditAction.CHANGE)
    assert {c.citizen_id for c in changes} == {citizen.id}


def test_another_municipalitys_citizen_is_404_and_the_attempt_logged(client, caseworker,
                                                                      make_citizen):
    other = Municipality(code="102", name="Anden")
    db.session.add(other)
    db.session.flush()
    stranger = User(name="Fremmed", phone="+4530999999", municipality_id=other.id)
    db.session.add(stranger)
    db.session.commit()
    url = f"/staff/citizens/{stranger.id}/exemptions"
    assert client.get(url).status_code == 404
    form = {"legal_basis": "las_75_5", "starts_on": today().isoformat(),
            "ends_on": (today() + timedelta(days=5)).isoformat()}
    assert client.post(url, form, htmx=False).status_code == 404
    assert client.post(url, {**form, "ends_on": ""}, htmx=False).status_code == 404
    denied = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.outcome == AuditOutcome.DENIED)).all()
    assert len(denied) == 3 and {d.citizen_id for d in denied} == {stranger.id}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Exemption)) == 0


def test_the_figures_page_draws_bars_and_a_table(client, caseworker, make_citizen):
    _old(make_citizen())
    page = client.get("/staff/figures")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "<svg class=\"bars\"" in text and "<table" in text
    assert "<script" not in text.split("<main", 1)[1]
    r = client.get("/staff/figures.csv")
    rows = list(csv.reader(io.StringIO(r.get_data().decode("utf-8-sig"))))
    assert len(rows) == 1 + 12 * 5
    assert _audit(AuditAction.SEARCH)
