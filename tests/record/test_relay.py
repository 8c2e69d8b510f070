"""The relay against the reference record service over real HTTP on 127.0.0.1."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from joblog_app.activities import services as activities
from joblog_app.activities.models import Activity, ActivityKind, RecordState
from joblog_app.citizens import cpr as cpr_numbers
from joblog_app.core.clock import today
from joblog_app.extensions import db
from joblog_app.models_base import utcnow
from joblog_app.record import services as record_services
from joblog_app.record.relay import Gateways, backoff, relay_pending_activities
from tests.conftest import acting

from .conftest import make_due, reload

CPR = "0703851234"  # no valid modulus-11 check digit: must be accepted


def _citizen(make_citizen, cpr: str | None = CPR):  # type: ignore[no-untyped-def]
    user = make_citizen()
    if cpr:
        record_services.set_cpr(user, cpr)
        db.session.commit()
    return user


def _application(user, **extra):  # type: ignore[no-untyped-def]
    data = {"organisation": "Netto", "title": "Kassemedarbejder", "occurred_on": today(),
            "method": "advertised", "status": "applied", **extra}
    saved = activities.create_activity(user.id, ActivityKind.APPLICATION, data,
                                       actor=acting(user))
    db.session.commit()  # as the request that saved it would
    return saved.activity


def test_entry_reaches_the_record_once(connected, make_citizen):
    user = _citizen(make_citizen)
    a = _application(user)
    stats = relay_pending_activities()
    assert (stats.claimed, stats.synced) == (1, 1)
    a = reload(a)
    assert a.record_state == RecordState.SYNCED and a.record_id and a.record_synced_at
    [record] = connected.records()
    assert record["recordId"] == a.record_id and record["requestId"] == str(a.client_uuid)
    assert record["kind"] == "JOB_APPLICATION" and record["status"] == "APPLIED"
    assert record["employer"] == "Netto" and record["cpr"] == "070385-XXXX"
    assert relay_pending_activities().claimed == 0  # nothing twice


def test_connection_dropped_after_store_ends_with_exactly_one_record(connected, make_citizen):
    user = _citizen(make_citizen)
    a = _application(user)
    connected.set_faults(drop_after_store_rate=1.0)
    assert relay_pending_activities().retried == 1
    assert reload(a).record_state == RecordState.PENDING
    assert len(connected.records()) == 1  # stored although we never heard back
    connected.set_faults(drop_after_store_rate=0.0)
    make_due(a)
    assert relay_pending_activities().synced == 1  # 412 → resolved to the stored record
    a = reload(a)
    [record] = connected.records()
    assert a.record_state == RecordState.SYNCED and a.record_id == record["recordId"]


def test_429_waits_at_least_retry_after(connected, make_citizen):
    user = _citizen(make_citizen)
    a = _application(user)
    connected.set_faults(rate_limit_rate=1.0, retry_after=30)
    before = utcnow()
    relay_pending_activities()
    a = reload(a)
    assert a.record_state == RecordState.PENDING and a.record_attempts == 1
    assert a.record_next_attempt_at >= before + timedelta(seconds=30)
    assert relay_pending_activities().claimed == 0  # not due yet
    assert connected.records() == []


@pytest.mark.parametrize("code_rate", ["error_rate"])
def test_server_errors_retry_with_backoff(connected, make_citizen, code_rate):
    user = _citizen(make_citizen)
    a = _application(user)
    connected.set_faults(**{code_rate: 1.0})
    relay_pending_activities()
    a = reload(a)
    assert a.record_state == RecordState.PENDING and a.record_error.startswith("HTTP 50")
    assert a.record_next_attempt_at > utcnow()
    connected.set_faults(**{code_rate: 0.0})
    make_due(a)
    relay_pending_activities()
    assert reload(a).record_state == RecordState.SYNCED and len(connected.records()) == 1


def test_backoff_is_truncated_exponential_with_jitter():
    delays = [backoff(n, None).total_seconds() for n in range(1, 30)]
    assert 2 <= delays[0] <= 4 and delays[-1] <= 3600
    assert backoff(1, 120.0).total_seconds() >= 120


def test_backoff_base_comes_from_configuration(app, connected, make_citizen):
    app.config["RECORD_BACKOFF_BASE"] = 30.0
    a = _application(_citizen(make_citizen))
    connected.set_faults(error_rate=1.0)
    before = utcnow()
    relay_pending_activities()
    wait = (reload(a).record_next_attempt_at - before).total_seconds()
    assert 30 <= wait <= 61  # first retry: base x 2 x jitter in [0.5, 1]


def test_a_netrc_of_the_worker_user_does_not_replace_the_bearer_token(connected, make_citizen,
                                                                      tmp_path, monkeypatch):
    netrc = tmp_path / "netrc"
    netrc.write_text("default login someone password something\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    a = _application(_citizen(make_citizen))
    relay_pending_activities()
    assert reload(a).record_state == RecordState.SYNCED


def test_expired_token_is_refreshed_once(connected, make_citizen):
    user = _citizen(make_citizen)
    first, second = _application(user), _application(user, title="Lager")
    gateways = Gateways()
    relay_pending_activities(gateways, batch_size=1)
    http = gateways.for_municipality(reload(first).citizen.municipality)
    assert http.token_requests == 1
    connected.set_faults(expire_tokens_now=True)
    relay_pending_activities(gateways, batch_size=1)
    assert http.token_requests == 2
    assert {reload(first).record_state, reload(second).record_state} == {RecordState.SYNCED}


def test_refused_entry_is_failed_with_the_reason_never_dropped(connected, make_citizen):
    user = _citizen(make_citizen)
    a = _application(user)
    db.session.execute(sa.update(Activity).where(Activity.id == a.id).values(organisation=None))
    db.session.commit()
    assert relay_pending_activities().failed == 1
    a = reload(a)
    assert a.record_state == RecordState.FAILED
    assert "400" in a.record_error and "VALIDATION" in a.record_error
    assert [f.id for f in record_services.failed_entries()] == [a.id]
    # Staff fix the data and retry.
    db.session.execute(sa.update(Activity).where(Activity.id == a.id).values(organisation="Netto"))
    db.session.commit()
    assert record_services.retry_failed() == 1
    relay_pending_activities()
    assert reload(a).record_state == RecordState.SYNCED


def test_edits_and_deletes_after_sync_reach_the_record_in_order(connected, make_citizen):
    user = _citizen(make_citizen)
    a = _application(user)
    relay_pending_activities()
    activities.update_activity(acting(user), reload(a), {"organisation": "Netto", "title": "Kasse",
                                           "occurred_on": today(), "method": "advertised",
                                           "status": "interview"})
    assert reload(a).record_state == RecordState.PENDING
    relay_pending_activities()
    [record] = connected.records()
    assert record["status"] == "INTERVIEW" and record["title"] == "Kasse"
    assert record["version"] == 2 and not record["cancelled"]
    activities.delete_activity(acting(user), reload(a))
    relay_pending_activities()
    [record] = connected.records()
    assert record["cancelled"] and reload(a).record_state == RecordState.SYNCED


def test_edit_during_a_send_is_not_lost(connected, make_citizen):
    user = _citizen(make_citizen)
    a = _application(user)
    a_id, engine = a.id, db.engine

    def send_then_edit(gateway, delivery):  # type: ignore[no-untyped-def]
        outcome = gateway.deliver(delivery)
        # The citizen edits while the answer is on its way (another connection, as a
        # web request would).
        with engine.begin() as conn:
            conn.execute(sa.update(Activity).where(Activity.id == a_id).values(
                title="Ny titel", content_version=Activity.content_version + 1))
        return outcome

    relay_pending_activities(send=send_then_edit)
    assert reload(a).record_state == RecordState.PENDING
    relay_pending_activities()
    assert connected.records()[0]["title"] == "Ny titel"


def test_deleted_before_sending_is_never_sent(connected, make_citizen):
    user = _citizen(make_citizen)
    a = _application(user)
    activities.delete_activity(acting(user), reload(a))
    relay_pending_activities()
    assert reload(a).record_state == RecordState.LOCAL and connected.records() == []


def test_network_leads_stay_private(connected, make_citizen):
    user = _citizen(make_citizen)
    lead = activities.create_activity(user.id, ActivityKind.NETWORK_LEAD,
                                      {"person": "Sara", "relation": "Nabo"},
                                      actor=acting(user)).activity
    assert lead.record_state == RecordState.LOCAL
    assert relay_pending_activities().claimed == 0 and connected.records() == []


def test_coffee_meeting_sends_the_person_only_when_allowed(connected, make_citizen):
    user = _citizen(make_citizen)
    for share in (False, True):
        activities.create_activity(user.id, ActivityKind.COFFEE_MEETING,
                                   {"organisation": "ISS", "person": "Lars Nielsen",
                                    "occurred_on": today(), "share_person": share},
                                   actor=acting(user))
    relay_pending_activities()
    records = sorted(connected.records(), key=lambda r: r["contactPerson"] or "")
    assert [r["kind"] for r in records] == ["NETWORK_MEETING"] * 2
    assert [r["contactPerson"] for r in records] == [None, "Lars Nielsen"]


def test_without_cpr_entries_wait_visibly_then_go(connected, make_citizen, client):
    user = _citizen(make_citizen, cpr=None)
    user.language = "en"
    a = _application(user)
    assert relay_pending_activities().waiting == 1
    a = reload(a)
    assert (a.record_state, a.record_error) == (RecordState.WAITING, "no_cpr")
    assert record_services.citizen_sync(user.id).waiting_reason == "no_cpr"
    # The home screen says why, not "on its way".
    client.login(user)
    html = client.get("/").get_data(as_text=True)
    summary = html[html.index('class="sync-summary'):]
    summary = summary[:summary.index("</p>")]
    assert "the job centre must add your CPR number" in summary and "on its way" not in summary
    record_services.set_cpr(user, "070385-1234")
    relay_pending_activities()
    assert reload(a).record_state == RecordState.SYNCED
    assert "All your entries are in Joblog." in client.get("/").get_data(as_text=True)


def test_without_gateway_entries_wait_visibly(app_ctx, municipality, make_citizen):
    user = _citizen(make_citizen)
    a = _application(user)
    relay_pending_activities()
    assert (reload(a).record_state, reload(a).record_error) == (RecordState.WAITING, "no_gateway")


def test_cpr_is_encrypted_masked_and_format_checked(app_ctx, make_citizen):
    user = _citizen(make_citizen, cpr="070385-1234")
    stored = user.profile.cpr_encrypted
    assert "0703851234" not in stored and cpr_numbers.decrypt(stored) == "0703851234"
    assert cpr_numbers.mask("0703851234") == "070385-XXXX"
    for bad in ["", "12345", "3213851234", "0713851234", "abcdefghij"]:
        with pytest.raises(cpr_numbers.CprError):
            cpr_numbers.normalize(bad)


def test_health_shows_queue_depth_and_age(app, connected, make_citizen, client):
    app.config["MONITORING_TOKEN"] = "monitoring-token-for-tests"
    client.http.environ_base["HTTP_AUTHORIZATION"] = "Bearer monitoring-token-for-tests"
    user = _citizen(make_citizen)
    a = _application(user)
    time.sleep(0.01)
    health = client.get("/healthz").get_json()
    assert health["record_queue_depth"] == 1 and health["record_oldest_pending_seconds"] > 0
    # Synced, then edited two days after it was made: pending since the edit, not since then.
    relay_pending_activities()
    db.session.execute(sa.update(Activity).where(Activity.id == a.id).values(
        created_at=utcnow() - timedelta(days=2)))
    db.session.commit()
    activities.update_activity(acting(user), reload(a), {"organisation": "Netto", "title": "Truckfører",
                                           "occurred_on": today(), "method": "advertised",
                                           "status": "applied"})
    db.session.commit()
    health = client.get("/healthz").get_json()
    assert health["record_queue_depth"] == 1 and health["record_oldest_pending_seconds"] < 60
    # Entries that wait for staff are counted apart.
    _application(_citizen(make_citizen, cpr=None))
    relay_pending_activities()
    assert client.get("/healthz").get_json()["record_waiting"] == 1
    # So are entries the record refused: what monitoring alerts staff about.
    db.session.execute(sa.update(Activity).where(Activity.id == a.id).values(
        record_state=RecordState.FAILED, record_error="HTTP 400 INVALID_DATE"))
    db.session.commit()
    health = client.get("/healthz").get_json()
    assert (health["record_failed"], health["record_queue_depth"]) == (1, 0)


def test_entries_replayed_from_a_phones_queue_and_assisted_entries_use_the_same_relay(
        app, connected, make_citizen):
    import uuid

    from joblog_app.activities.models import Channel
    from joblog_app.auth.models import Role
    from joblog_app.offline.services import replay_entry

    user = _citizen(make_citizen)
    helper = make_citizen(role=Role.HELPER)
    with app.test_request_context():
        replay = replay_entry(acting(user, Channel.OFFLINE), {
            "kind": "coffee_meeting", "client_uuid": str(uuid.uuid4()),
            "fields": {"organisation": "Coop", "person": "Lars", "occurred_on": today().isoformat()}})
    assert replay.status == 201, replay.body
    assisted = activities.create_activity(
        user.id, ActivityKind.APPLICATION,
        {"organisation": "Lidl", "title": "Chauffør", "occurred_on": today(),
         "method": "advertised", "status": "applied"},
        actor=acting(helper, Channel.ASSISTED)).activity
    assert relay_pending_activities().synced == 2
    offline = db.session.get(Activity, replay.body["id"])
    assert offline.channel == Channel.OFFLINE
    assert {reload(offline).record_state, reload(assisted).record_state} == {RecordState.SYNCED}
    kinds = sorted(r["kind"] for r in connected.records())
    assert kinds == ["JOB_APPLICATION", "NETWORK_MEETING"]
