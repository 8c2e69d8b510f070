"""Relay of 10,000 pending entries to the reference record service, with faults.

The reference record service (``flask record-service``, the same program municipal IT tests
against) runs as its own process on 127.0.0.1. Then, in one run:

  (a) capacity - a plain client loop: the project's HTTP gateway (same HTTP client, token
      handling and connection pool as the relay) POSTs entries straight to the service
      from ``--threads`` threads, no database, no faults: what the service can take;
  (b) relay, SQLite, one worker - 10,000 pending applications of demo citizens with a CPR
      number on file, in the app's SQLite database; one ``flask worker`` process relays
      them while the service answers about 10 % of calls with faults (5xx, 429 with
      Retry-After, the connection dropped *after* the entry was stored), until every entry
      is synced;
  (c) relay, PostgreSQL, two workers - the same against a fresh schema on the PostgreSQL
      server (``JOBLOG_TEST_PG``, default postgres@127.0.0.1:5432/test), two ``flask worker``
      processes side by side (``FOR UPDATE SKIP LOCKED``).

After (b) and (c) the service's own store is checked: every entry's request id (its UUID)
is there exactly once (lost = 0, duplicates = 0), no other record exists, the service's
duplicate heuristic says 0, and every entry in the app's database is synced with the
record id the service gave it. The relay's throughput is the first 99 % of the entries
divided by the time from the first claim until they were synced (their retries included),
as a ratio to (a). The last 1 % are the entries that faults hit several times in a row:
they wait out their exponential backoff, idle, so the time until *all* are synced is
printed too (with its own rate), but it measures the backoff policy and chance, not the
relay. Target: >= 0.5 for (b), more for (c).

Retries wait as in production (truncated exponential backoff with jitter, Retry-After
obeyed) but with ``RECORD_BACKOFF_BASE=0.25`` s instead of 2 s and ``Retry-After: 1``:
with the production base the run would mostly measure the last few entries' waits
(8-16 s for the third failure in a row), not the relay.

    .venv/bin/python bench/record_sync.py [--entries 10000] [--fault-rate 0.10] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common as c  # noqa: E402

PG_SERVER = os.environ.get("JOBLOG_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
CLIENT_SECRET = "bench-" + secrets.token_hex(8)
SEND_THREADS = 4
BACKOFF_BASE = "0.25"


@dataclass
class Relayed:
    name: str
    workers: int
    entries: int
    seconds: float  # from the first claim until every entry is synced
    startup: float  # from starting the worker processes to their first claim
    lost: int
    duplicates: int
    extra_records: int
    not_synced: int
    service_stats: dict[str, Any]
    marks: dict[float, float]  # share synced -> seconds after the first claim

    @property
    def rate(self) -> float:
        """Entries per second while the relay had work: the first 99 % of the entries.
        The last 1 % are the ones the faults hit several times in a row; they wait out
        their exponential backoff (idle), which measures the policy, not the relay."""
        return 0.99 * self.entries / self.marks[0.99]

    @property
    def rate_all(self) -> float:
        return self.entries / self.seconds


# ---------------------------------------------------------------------------------------
# The reference record service, as its own process
# ---------------------------------------------------------------------------------------
class RecordService:
    def __init__(self, ws: c.Workspace) -> None:
        self.port = c.free_port()
        self.url = f"http://{c.HOST}:{self.port}"
        self.log_file = ws.dir / "record-service.log"
        cmd = [str(c.FLASK), "--app", "wsgi", "record-service", "--port", str(self.port),
               "--db", str(ws.dir / "record.sqlite"), "--client-secret", CLIENT_SECRET]
        with open(self.log_file, "wb") as out:
            self.proc = subprocess.Popen(cmd, cwd=c.ROOT, env=ws.env, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 30
        while True:
            try:
                if self.call("GET", "/_health")["status"] == "ok":
                    break
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"record service did not start:\n{self.log_file.read_text()}")
            time.sleep(0.2)
        c.log(f"record service on {self.url}, pid {self.proc.pid}")

    def call(self, method: str, path: str, body: dict | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as resp:
            return json.loads(resp.read() or b"null")

    def faults(self, rate: float) -> None:
        # 10 % in all: 4 % 5xx, 3 % 429 (Retry-After 1 s), 3 % dropped after the store.
        self.call("POST", "/_faults", {
            "error_rate": rate * 0.4, "rate_limit_rate": rate * 0.3, "retry_after": 1,
            "drop_after_store_rate": rate * 0.3, "latency_ms": 0, "seed": 20261125})

    def stop(self) -> None:
        c.stop(self.proc)


# ---------------------------------------------------------------------------------------
# The app's database: entries to relay
# ---------------------------------------------------------------------------------------
def app_env(ws: c.Workspace, service: RecordService, database_url: str) -> dict[str, str]:
    return {**ws.env, "JOBLOG_DATABASE_URL": database_url,
            "JOBLOG_RECORD_HTTP_URL": service.url, "JOBLOG_RECORD_CLIENT_SECRET": CLIENT_SECRET,
            "JOBLOG_RECORD_SEND_THREADS": str(SEND_THREADS),
            "JOBLOG_RECORD_BACKOFF_BASE": BACKOFF_BASE}


def make_pending(env: dict[str, str], entries: int) -> list[str]:
    """Every existing entry set aside (local), then ``entries`` new pending applications of
    the demo citizens who have a CPR number on file. Returns their UUIDs."""
    import sqlalchemy as sa

    from joblog_app import create_app
    from joblog_app.activities.models import Activity, ActivityKind, RecordState
    from joblog_app.auth.models import Municipality, RecordGatewayKind
    from joblog_app.core.clock import today
    from joblog_app.extensions import db
    from joblog_app.progress.models import CitizenProfile

    saved = dict(os.environ)
    os.environ.update(env)  # configured exactly as the worker processes are
    try:
        app = create_app()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    with app.app_context():
        db.session.execute(sa.update(Municipality).values(record_gateway=RecordGatewayKind.HTTP))
        db.session.execute(sa.update(Activity).values(record_state=RecordState.LOCAL))
        citizens = list(db.session.scalars(sa.select(CitizenProfile.user_id)
                                           .where(CitizenProfile.cpr_encrypted.is_not(None))))
        if not citizens:
            raise SystemExit("no demo citizen with a CPR number on file")
        day = today()
        rows = [{"citizen_id": citizens[i % len(citizens)], "entered_by_id": citizens[i % len(citizens)],
                 "kind": ActivityKind.APPLICATION, "client_uuid": uuid.uuid4(),
                 "organisation": f"Bench Bageri {i}", "title": "Bager",
                 "occurred_on": day - timedelta(days=i % 28), "method": "advertised",
                 "status": "applied", "record_state": RecordState.PENDING}
                for i in range(entries)]
        for start in range(0, entries, 1000):
            db.session.execute(sa.insert(Activity), rows[start:start + 1000])
        db.session.commit()
        db.engine.dispose()
    return [str(r["client_uuid"]) for r in rows]


_engines: dict[str, Any] = {}


def count_unsynced(env: dict[str, str]) -> tuple[int, int]:
    """Entries not synced yet, and of those never claimed (one statement, kept pool)."""
    import sqlalchemy as sa

    url = env["JOBLOG_DATABASE_URL"]
    engine = _engines.get(url) or _engines.setdefault(url, sa.create_engine(url))
    with engine.connect() as conn:
        row = conn.execute(sa.text(
            "SELECT count(*), count(CASE WHEN record_state = 'pending' AND record_attempts = 0"
            " THEN 1 END) FROM activity WHERE record_state IN ('pending', 'sending')")).one()
    return int(row[0]), int(row[1])


def unsynced(env: dict[str, str]) -> tuple[int, dict[str, str]]:
    """Entries not synced yet, and every synced entry's UUID -> record id."""
    import sqlalchemy as sa

    engine = sa.create_engine(env["JOBLOG_DATABASE_URL"])
    try:
        with engine.connect() as conn:
            waiting = conn.execute(sa.text(
                "SELECT count(*) FROM activity WHERE record_state NOT IN ('synced', 'local')")).scalar_one()
            synced = dict(conn.execute(sa.text(
                "SELECT client_uuid, record_id FROM activity WHERE record_state = 'synced'")).all())
    finally:
        engine.dispose()
    return int(waiting), {str(uuid.UUID(str(k))): v for k, v in synced.items()}


# ---------------------------------------------------------------------------------------
# The runs
# ---------------------------------------------------------------------------------------
def capacity(service: RecordService, count: int) -> float:
    """Entries per second a plain loop of the project's HTTP gateway gets stored."""
    from joblog_app.record.gateway import Delivery, HttpGateway, Op, Result

    gateway = HttpGateway(service.url, "joblog", CLIENT_SECRET, timeout=30.0, pool_size=SEND_THREADS * 2)
    body = {"kind": "JOB_APPLICATION", "date": c.today_dk().isoformat(), "employer": "Bench Bageri",
            "title": "Bager", "status": "APPLIED", "method": "ADVERTISED", "adUrl": None, "deadline": None,
            "place": None, "contactPerson": None, "description": None, "municipalityCode": "101",
            "enteredBy": "CITIZEN"}

    def send(_i: int) -> bool:
        request_id = str(uuid.uuid4())
        outcome = gateway.deliver(Delivery(op=Op.CREATE, request_id=request_id, cpr="0101901234",
                                           record_id=None, body=body, lookup_request_id=request_id))
        return outcome.result == Result.DONE

    send(0)  # the token
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=SEND_THREADS) as pool:
        done = sum(pool.map(send, range(count)))
    seconds = time.monotonic() - started
    if done != count:
        raise SystemExit(f"capacity loop: only {done} of {count} stored without faults")
    service.call("POST", "/_reset")
    return count / seconds


def relay(name: str, env: dict[str, str], service: RecordService, uuids: list[str], workers: int,
          fault_rate: float, log_dir: Path) -> Relayed:
    service.call("POST", "/_reset")
    service.faults(fault_rate)
    procs = []
    started = time.monotonic()
    for n in range(workers):
        out = open(log_dir / f"worker-{name}-{n}.log", "wb")  # noqa: SIM115 - closed below
        procs.append((subprocess.Popen([str(c.FLASK), "--app", "wsgi", "worker", "--interval", "0.1"],
                                       cwd=c.ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                       start_new_session=True), out))
    try:
        deadline = started + 600
        first_claim = None
        samples: list[tuple[float, int]] = []
        while True:
            waiting, untouched = count_unsynced(env)
            samples.append((time.monotonic(), waiting))
            if first_claim is None and untouched < len(uuids):
                first_claim = time.monotonic()
            if waiting == 0:
                break
            for proc, _out in procs:
                if proc.poll() is not None:
                    raise SystemExit(f"a worker exited with {proc.returncode}; see {log_dir}")
            if time.monotonic() > deadline:
                raise SystemExit(f"{name}: {waiting} entries still not synced after 10 minutes")
            time.sleep(0.05)
        ended = time.monotonic()
        seconds, startup = ended - (first_claim or started), (first_claim or started) - started
        # When 90 % and 99 % were synced: the rest is the retries' tail.
        begin = first_claim or started
        marks = {share: next(t for t, w in samples if w <= len(uuids) * (1 - share)) - begin
                 for share in (0.9, 0.99)}
    finally:
        for proc, _out in procs:
            proc.send_signal(signal.SIGTERM)
        for proc, out in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
            out.close()
    service.faults(0)
    records = service.call("GET", "/_records")
    stats = service.call("GET", "/_stats")
    by_request: dict[str, list[str]] = {}
    for record in records:
        by_request.setdefault(record["requestId"], []).append(record["recordId"])
    wanted = set(uuids)
    waiting, synced = unsynced(env)
    lost = sum(1 for u in uuids if u not in by_request)
    duplicates = sum(len(ids) - 1 for u, ids in by_request.items() if u in wanted)
    extra = sum(len(ids) for u, ids in by_request.items() if u not in wanted)
    mismatched = sum(1 for u in uuids if synced.get(u) not in by_request.get(u, []))
    return Relayed(name, workers, len(uuids), seconds, startup, lost,
                   duplicates + int(stats["duplicates"]), extra, waiting + mismatched, stats, marks)


def pg_schema() -> tuple[str, Any] | None:
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
        schema = f"bench_{secrets.token_hex(4)}"
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # noqa: BLE001 - any failure means "no PostgreSQL here"
        c.log(f"PostgreSQL not reachable ({type(exc).__name__}): run (c) skipped")
        return None

    def drop() -> None:
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()

    return f"{PG_SERVER}?options=-csearch_path%3D{schema}", drop


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--entries", type=int, default=10_000)
    ap.add_argument("--fault-rate", type=float, default=0.10)
    ap.add_argument("--capacity-entries", type=int, default=3000)
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, databases)")
    args = ap.parse_args()
    runs: list[Relayed] = []
    with c.workspace(args.keep) as ws:
        service = RecordService(ws)
        try:
            cap = capacity(service, args.capacity_entries)
            c.log(f"capacity: {cap:.0f} entries/s")
            sqlite_env = app_env(ws, service, ws.env["JOBLOG_DATABASE_URL"])
            uuids = make_pending(sqlite_env, args.entries)
            runs.append(relay("sqlite-1", sqlite_env, service, uuids, 1, args.fault_rate, ws.dir))
            c.log(f"SQLite, 1 worker: {runs[-1].seconds:.1f} s")
            pg = pg_schema()
            if pg is not None:
                url, drop = pg
                try:
                    pg_env = app_env(ws, service, url)
                    c.run([str(c.FLASK), "--app", "wsgi", "db", "upgrade"], pg_env)
                    c.run([str(c.FLASK), "--app", "wsgi", "seed-demo"], pg_env)
                    uuids = make_pending(pg_env, args.entries)
                    runs.append(relay("postgresql-2", pg_env, service, uuids, 2, args.fault_rate, ws.dir))
                finally:
                    drop()
        finally:
            service.stop()

    print("\n" + "=" * 78)
    print(f"RECORD SYNC: {args.entries:,} pending entries -> reference record service on 127.0.0.1,")
    print(f"faults {args.fault_rate:.0%} of calls (5xx 40 %, 429 + Retry-After 1 s 30 %, dropped after "
          f"store 30 %), {SEND_THREADS} send threads per worker, backoff base {BACKOFF_BASE} s")
    print(f"capacity (plain client loop, {SEND_THREADS} threads, no faults, {args.capacity_entries:,} "
          f"entries): {cap:,.0f} entries/s")
    print("=" * 78)
    problems = False
    for r in runs:
        ratio = r.rate / cap
        target = 0.5
        calls = sum(r.service_stats.get("responses", {}).values())
        print(f"{r.name:14} {r.workers} worker(s): all {r.entries:,} synced after {r.seconds:.1f} s "
              f"(90 % after {r.marks[0.9]:.1f} s, 99 % after {r.marks[0.99]:.1f} s)")
        print(f"{'':14} throughput (first 99 %) {r.rate:5.0f} entries/s: ratio {ratio:.2f} "
              f"(target >= {target})  {'OK' if ratio >= target else 'MISS'}")
        print(f"{'':14} all entries, backoff tail included: {r.rate_all:.0f} entries/s, ratio "
              f"{r.rate_all / cap:.2f}; start-up to the first claim {r.startup:.1f} s (not counted)")
        print(f"{'':14} lost = {r.lost}, duplicates = {r.duplicates}, other records = {r.extra_records}, "
              f"not synced or wrong record id = {r.not_synced}; calls {calls:,}: "
              f"{r.service_stats.get('responses')}, faults {r.service_stats.get('faultsApplied')}")
        problems |= bool(r.lost or r.duplicates or r.extra_records or r.not_synced)
    missed = any(r.rate / cap < 0.5 for r in runs if r.name.startswith("sqlite"))
    if problems:
        print("CHECK FAILED: entries lost, duplicated or not synced")
        return 2
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
