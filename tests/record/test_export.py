"""The export gateway: journal files a municipality without an API can use."""

from __future__ import annotations

import csv

from joblog_app.activities import services as activities
from joblog_app.activities.models import ActivityKind, RecordState
from joblog_app.core.clock import today
from joblog_app.record import services as record_services
from joblog_app.record.export import neutralise
from joblog_app.record.models import RecordGatewayKind
from joblog_app.record.relay import relay_pending_activities
from tests.conftest import acting

from .conftest import reload


def test_neutralise_formula_cells():
    assert neutralise("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")"
    for start in "+-@\t":
        assert neutralise(start + "1").startswith("'")
    assert neutralise("Netto") == "Netto" and neutralise(None) == ""


def test_entries_are_exported_to_csv_and_a_monthly_page(app, app_ctx, municipality, make_citizen,
                                                        tmp_path):
    app.config["RECORD_EXPORT_DIR"] = str(tmp_path)
    record_services.set_gateway(municipality, RecordGatewayKind.EXPORT)
    user = make_citizen()
    record_services.set_cpr(user, "0703851234")
    evil = activities.create_activity(
        user.id, ActivityKind.APPLICATION,
        {"organisation": "=cmd|' /C calc'!A0", "title": "<b>Lager</b>", "occurred_on": today(),
         "method": "advertised", "status": "applied"}, actor=acting(user)).activity
    relay_pending_activities()
    assert reload(evil).record_state == RecordState.SYNCED
    activities.delete_activity(acting(user), reload(evil))
    relay_pending_activities()

    month_dir = tmp_path / municipality.code / today().strftime("%Y-%m")
    with open(month_dir / "entries.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["operation"] for r in rows] == ["create", "cancel"]
    assert rows[0]["employer"] == "'=cmd|' /C calc'!A0" and rows[0]["cpr"] == "0703851234"
    [page] = month_dir.glob("citizen-*.html")
    # Keyed: an unkeyed hash of the CPR number could be looked up in a table of all of them.
    import hashlib

    assert "0703851234" not in page.name
    assert hashlib.sha256(b"0703851234").hexdigest()[:12] not in page.name
    html = page.read_text(encoding="utf-8")
    assert "0 registreringer" in html  # the cancelled entry is gone from the month


def test_a_delivery_never_shows_the_cpr_number_in_its_repr():
    from joblog_app.record.gateway import Delivery, Op

    d = Delivery(op=Op.CREATE, request_id="r", cpr="0703851234", record_id=None, body=None,
                 lookup_request_id="r")
    assert "0703851234" not in repr(d) and "0703851234" not in str(d)


def test_a_resend_with_the_same_request_id_writes_no_second_row(tmp_path):
    from joblog_app.record.export import ExportGateway
    from joblog_app.record.gateway import Delivery, Op, Result

    gateway = ExportGateway(tmp_path, "999", b"key")
    d = Delivery(op=Op.CREATE, request_id="req-1", cpr="0703851234", record_id=None,
                 body={"kind": "JOB_APPLICATION", "employer": "Netto"}, lookup_request_id="req-1",
                 citizen_label="Olena", month="2026-11")
    first, again = gateway.deliver(d), gateway.deliver(d)
    assert first.result == again.result == Result.DONE and first.record_id == again.record_id
    with open(tmp_path / "999" / "2026-11" / "entries.csv", encoding="utf-8") as f:
        assert [r["request_id"] for r in csv.DictReader(f)] == ["req-1"]
    [state] = (tmp_path / "999" / "2026-11").glob("citizen-*.jsonl")
    assert len(state.read_text(encoding="utf-8").splitlines()) == 1
