"""Several workers at once, and a worker killed mid-batch (both database engines)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from joblog_app.activities import services as activities
from joblog_app.activities.models import Activity, ActivityKind, RecordState
from joblog_app.core.clock import today
from joblog_app.extensions import db
from joblog_app.record import services as record_services
from joblog_app.record.relay import Gateways, claim, relay_continuously, relay_pending_activities
from tests.conftest import acting

ROOT = Path(__file__).resolve().parents[2]


def _many(make_citizen, n: int) -> list[int]:  # type: ignore[no-untyped-def]
    user = make_citizen()
    record_services.set_cpr(user, "0703851234")
    ids = [activities.create_activity(
        user.id, ActivityKind.APPLICATION,
        {"organisation": f"Firma {i}", "title": "Lager", "occurred_on": today(),
         "method": "advertised", "status": "applied"}, actor=acting(user)).activity_id
        for i in range(n)]
    db.session.commit()
    return ids


def _run_twice_at_once(work) -> None:  # type: ignore[no-untyped-def]
    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _assert_synced_once(service, ids: list[int]) -> None:  # type: ignore[no-untyped-def]
    """Every entry synced, and in the record exactly once."""
    db.session.expire_all()
    states = db.session.scalars(sa.select(Activity.record_state).where(Activity.id.in_(ids)))
    assert set(states) == {RecordState.SYNCED}
    records = service.records()
    assert len(records) == len(ids) and len({r["requestId"] for r in records}) == len(ids)


def test_two_workers_never_claim_the_same_entry(app, connected, make_citizen):
    ids = set(_many(make_citizen, 40))
    claimed: list[list[int]] = [[], []]
    start = threading.Barrier(2)

    def work(slot: int) -> None:
        with app.app_context():
            start.wait()
            while True:
                _token, got = claim(3, timedelta(seconds=60))
                if not got:
                    break
                claimed[slot].extend(got)
            db.session.remove()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    a, b = set(claimed[0]), set(claimed[1])
    assert not a & b, "an entry was claimed by both workers"
    assert a | b == ids and len(claimed[0]) + len(claimed[1]) == len(ids)


def test_two_relays_at_once_deliver_everything_once(app, connected, make_citizen):
    ids = _many(make_citizen, 30)
    connected.set_faults(latency_ms=5)

    def work() -> None:
        with app.app_context():
            while relay_pending_activities(batch_size=4).claimed:
                pass
            db.session.remove()

    _run_twice_at_once(work)
    _assert_synced_once(connected, ids)


def test_two_pipelined_relays_with_faults_deliver_everything_once(app, connected, make_citizen):
    """The worker's loop claims the next batch while one is in flight: with faults and two
    such loops at once, every entry ends synced, in the record exactly once."""
    app.config.update(RECORD_BATCH_SIZE=3, RECORD_BACKOFF_BASE=0.01)
    ids = _many(make_citizen, 40)
    connected.set_faults(error_rate=0.15, drop_after_store_rate=0.15, seed=3)
    batches: list[int] = []

    def work() -> None:
        with app.app_context():
            gateways = Gateways()
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                batches.extend(s.claimed for s in relay_continuously(gateways, lambda: False))
                if not db.session.scalar(sa.select(sa.func.count()).where(
                        Activity.id.in_(ids), Activity.record_state != RecordState.SYNCED)):
                    break
                time.sleep(0.05)  # retries are due a moment later
            db.session.remove()

    _run_twice_at_once(work)
    _assert_synced_once(connected, ids)
    assert max(batches) <= 3 and sum(batches) >= 40


def test_relay_continuously_finishes_the_batches_in_hand_when_stopping(app, connected,
                                                                      make_citizen):
    app.config["RECORD_BATCH_SIZE"] = 2
    ids = _many(make_citizen, 8)
    stop = threading.Event()
    done: list[int] = []
    with app.app_context():
        for stats in relay_continuously(Gateways(), stop.is_set):
            done.append(stats.synced)
            stop.set()  # SIGTERM after the first batch
    # The first batch, and the second, already claimed and sent while the first was
    # recorded; nothing further is claimed and nothing is left half-done.
    assert done == [2, 2]
    db.session.expire_all()
    states = list(db.session.scalars(sa.select(Activity.record_state).where(Activity.id.in_(ids))))
    assert states.count(RecordState.SYNCED) == 4 and states.count(RecordState.PENDING) == 4


def test_worker_killed_mid_batch_loses_nothing(app, connected, make_citizen, database_url):
    ids = _many(make_citizen, 8)
    connected.set_faults(latency_ms=1500)  # the kill lands while requests are in flight
    script = textwrap.dedent(f"""
        from joblog_app import create_app
        from joblog_app.record.relay import relay_pending_activities
        app = create_app({{"ENV_NAME": "testing", "DATABASE_URL": {database_url!r},
                          "SECRET_KEY": "x", "CPR_KEY": {app.config["CPR_KEY"]!r},
                          "RECORD_HTTP_URL": {connected.url!r}, "RECORD_CLIENT_ID": "joblog",
                          "RECORD_CLIENT_SECRET": {app.config["RECORD_CLIENT_SECRET"]!r},
                          "RECORD_LEASE_SECONDS": 2, "RECORD_SEND_THREADS": 8}})
        with app.app_context():
            print("claiming", flush=True)
            relay_pending_activities()
            print("finished", flush=True)
    """)
    worker = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE,
                              text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert worker.stdout.readline().strip() == "claiming"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        db.session.expire_all()
        sending = db.session.scalar(sa.select(sa.func.count(Activity.id))
                                    .where(Activity.record_state == RecordState.SENDING))
        if sending == len(ids):
            break
        time.sleep(0.05)
    time.sleep(0.3)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    worker.stdout.close()
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Activity.id)).where(
        Activity.record_state == RecordState.SENDING)) == len(ids)

    connected.set_faults(latency_ms=0)
    time.sleep(2.1)  # the dead worker's lease runs out
    app.config["RECORD_LEASE_SECONDS"] = 60
    while relay_pending_activities().claimed:
        pass
    db.session.expire_all()
    states = set(db.session.scalars(sa.select(Activity.record_state).where(Activity.id.in_(ids))))
    assert states == {RecordState.SYNCED}
    records = connected.records()
    assert len(records) == len(ids) and len({r["requestId"] for r in records}) == len(ids)
