"""The caseworker's pages at scale (issue 12): PostgreSQL seeded with 5 municipalities,
20,000 citizens and 2,000,000 entries over 14 months, the app under gunicorn, a caseworker
of the biggest municipality logged in; p95 of each page against its target.

Printed figures, not a timed test. Run from the repository root:

    .venv/bin/python bench/staff_scale.py            # ~5 min on 2 cores
    .venv/bin/python bench/staff_scale.py --citizens 4000 --entries 400000   # a quick look

What it does:

1. a schema of its own in the PostgreSQL on 127.0.0.1:5432 (``JOBLOG_TEST_PG``), migrated
   with Alembic (``flask db upgrade``), dropped at the end (also after a failure);
2. bulk load: municipalities, caseworkers, citizens, profiles, exemptions, cafés, café
   sessions and check-ins, case files by ``COPY`` through psycopg; the 2,000,000 entries
   by ``INSERT ... SELECT generate_series`` in the server (the fastest bulk path there is,
   nothing travels over the socket), then ``ANALYZE``; prints how long each took;
3. gunicorn (2 sync workers, production configuration) on a free port; the caseworker's
   login is a server-side session with the second factor passed, made in-process with the
   app's own ``auth.start_session`` (the passkey ceremony is not what is measured here);
4. sequential requests per page (after a warm-up), p50 and p95 in ms with the target and
   the ratio p95/target; then ``EXPLAIN (ANALYZE, BUFFERS)`` of the slowest page's main
   statement.

The data: citizens spread over the municipalities 40/25/15/12/8 %; a quarter each
kontanthjælp, SHO, dagpenge, other; entries 80 % applications, 20 % other kinds; a fifth
of the citizens stopped registering 45 days or more ago (so the work list has work on
it); 1 in 997 entries refused by the record; 6 % with an exemption (some ending within
14 days); two cafés per municipality with weekly sessions and 1 in 8 citizens checking in.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import os
import random
import re
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common as c  # noqa: E402

PG = os.environ.get("JOBLOG_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SHARES = (0.40, 0.25, 0.15, 0.12, 0.08)
TARGETS = {  # ms, p95
    "work list, default filter, first page": 150,
    "citizen overview": 100,
    "12-month figures, biggest municipality": 500,
    "CSV export of the work list": 2000,
}


def log(msg: str) -> None:
    c.log(msg)


def pg_dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def seed(conn, citizens: int, entries: int, today: date) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Bulk load; returns the ids the measuring needs."""
    rng = random.Random(12)
    now = datetime.now()
    t0 = time.perf_counter()
    cur = conn.cursor()
    with cur.copy("COPY municipality (id, code, name) FROM STDIN") as cp:
        for m in range(1, 6):
            cp.write_row((m, str(100 + m), f"Kommune {m}"))
    sizes = [int(citizens * s) for s in SHARES]
    sizes[0] += citizens - sum(sizes)
    # Staff first (ids 1..10): a caseworker and a helper per municipality.
    user_cols = "(id, role, municipality_id, name, phone, email, language, is_active, created_at)"
    municipality_of: list[int] = []
    for m, size in enumerate(sizes, start=1):
        municipality_of += [m] * size
    with cur.copy(f'COPY "user" {user_cols} FROM STDIN') as cp:
        for m in range(1, 6):
            cp.write_row((m, "caseworker", m, f"Sagsbehandler {m}", None,
                          f"case{m}@bench.invalid", "da", True, now - timedelta(days=600)))
            cp.write_row((5 + m, "helper", m, f"Hjælper {m}", None,
                          f"helper{m}@bench.invalid", "da", True, now - timedelta(days=600)))
        for i in range(citizens):
            uid = 11 + i
            created = now - timedelta(days=rng.choice((500, 500, 500, 300, 120, 40)))
            cp.write_row((uid, "citizen", municipality_of[i], f"Borger {uid}",
                          f"+4540{uid:06d}", None, ("da", "uk", "ar", "en")[uid % 4], True,
                          created))
    with cur.copy("COPY citizen_profile (user_id, benefit_group, requirement_count, "
                  "requirement_period) FROM STDIN") as cp:
        for i in range(citizens):
            uid = 11 + i
            group = ("kontanthjaelp", "sho", "dagpenge", "other")[uid % 4]
            cp.write_row((uid, group, "1.5" if group == "dagpenge" else "6",
                          "week" if group == "dagpenge" else "month"))
    first_citizen, last_citizen = 11, 10 + citizens
    t_users = time.perf_counter()
    # The entries, in the server: citizen by a multiplicative hash of g; a fifth of the
    # citizens (id % 5 = 0) only 45+ days back.
    cur.execute(f"""
        INSERT INTO activity (client_uuid, citizen_id, entered_by_id, channel, kind,
            record_state, record_attempts, content_version, synced_version, created_at,
            updated_at, occurred_on, share_person, organisation, title, status)
        SELECT gen_random_uuid(), x.cid, x.cid, 'web',
               CASE WHEN x.h %% 5 = 0 THEN 'coffee_meeting' ELSE 'application' END,
               CASE WHEN x.g %% 997 = 0 THEN 'failed' ELSE 'synced' END, 1, 1, 1,
               %(now)s::timestamp - x.back * interval '1 day' + (x.g %% 600) * interval '1 minute',
               %(now)s::timestamp, %(today)s::date - x.back, false, 'Netto', 'Kasse',
               CASE WHEN x.h %% 5 = 0 THEN NULL ELSE 'applied' END
        FROM (SELECT g, h, {first_citizen} + (g::bigint * 7919) %% {citizens} AS cid,
                     CASE WHEN ({first_citizen} + (g::bigint * 7919) %% {citizens}) %% 5 = 0
                          THEN 45 + h %% 380 ELSE h %% 425 END::int AS back
              FROM (SELECT g, ((g::bigint * 2654435761) %% 4294967296) / 7 AS h
                    FROM generate_series(1, {entries}) g) gh) x
    """, {"now": now, "today": today})
    t_entries = time.perf_counter()
    # Exemptions: 6 % of the citizens; every fifth of those ends within 14 days.
    exempt = [uid for uid in range(first_citizen, last_citizen + 1) if uid % 17 == 3]
    with cur.copy("COPY exemption (citizen_id, municipality_id, legal_basis, starts_on, "
                  "ends_on, granted_by_id, granted_at) FROM STDIN") as cp:
        for k, uid in enumerate(exempt):
            m = municipality_of[uid - 11]
            start = today - timedelta(days=30 + k % 60)
            end = today + timedelta(days=(k % 14) if k % 5 == 0 else 20 + k % 200)
            cp.write_row((uid, m, "las_75_5", start, end, m, now))
    # Cafés: two per municipality, a session every week for 14 months.
    with cur.copy("COPY cafe (id, municipality_id, name, place, weekday, opens_at, closes_at, "
                  "languages, is_active, created_at) FROM STDIN") as cp:
        for m in range(1, 6):
            for k in range(2):
                cp.write_row((2 * m - 1 + k, m, f"Jobcafé {m}-{k}", "Biblioteket", k,
                              "10:00", "12:00", "da,uk", True, now))
    sessions: dict[int, list[int]] = {}
    sid = 0
    with cur.copy("COPY cafe_session (id, cafe_id, day, opened_by_id, opened_at, closed_at, "
                  "checkin_salt) FROM STDIN") as cp:
        for cafe in range(1, 11):
            m = (cafe + 1) // 2
            for week in range(61):
                sid += 1
                day = today - timedelta(days=7 * week + cafe % 2)
                cp.write_row((sid, cafe, day, 5 + m, now, now, secrets.token_hex(8)))
                sessions.setdefault(m, []).append(sid)
    visitors = 0
    with cur.copy("COPY check_in (session_id, citizen_id, at) FROM STDIN") as cp:
        for uid in range(first_citizen, last_citizen + 1):
            if uid % 8:
                continue
            m = municipality_of[uid - 11]
            for s in rng.sample(sessions[m], 3):
                cp.write_row((s, uid, now))
            visitors += 1
    # Case files: 1 in 10 citizens assigned to their municipality's caseworker, with a note.
    with cur.copy("COPY case_file (citizen_id, municipality_id, assigned_to_id, "
                  "needs_interpreter, note, follow_up_on, updated_at) FROM STDIN") as cp:
        for uid in range(first_citizen, last_citizen + 1):
            if uid % 10 != 1:
                continue
            m = municipality_of[uid - 11]
            cp.write_row((uid, m, m, uid % 3 == 0, "Ring om cv", today + timedelta(
                days=uid % 30 - 10), now))
    for table in ("user", "cafe", "cafe_session", "activity", "exemption"):
        cur.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                    f"(SELECT max(id) FROM \"{table}\"))")
    conn.commit()
    t_rest = time.perf_counter()
    conn.autocommit = True
    cur.execute("VACUUM ANALYZE")
    conn.autocommit = False
    t_end = time.perf_counter()
    n_entries = cur.execute("SELECT count(*) FROM activity").fetchone()[0]
    print(f"SEEDED {citizens:,} citizens in 5 municipalities ({', '.join(map(str, sizes))}), "
          f"{n_entries:,} entries over 14 months, {len(exempt):,} exemptions, "
          f"{visitors:,} café visitors in {t_end - t0:.1f} s (users and profiles "
          f"{t_users - t0:.1f} s, entries {t_entries - t_users:.1f} s, the rest "
          f"{t_rest - t_entries:.1f} s, VACUUM ANALYZE {t_end - t_rest:.1f} s)")
    biggest = [uid for uid in range(first_citizen, last_citizen + 1)
               if municipality_of[uid - 11] == 1]
    return {"caseworker": 1, "municipality": 1, "citizens": biggest}


def env_for(tmp: Path, database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "JOBLOG_ENV_NAME": "production",
        "JOBLOG_SECRET_KEY": "bench-" + secrets.token_hex(32),
        "JOBLOG_CPR_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "JOBLOG_CPR_INDEX_KEY": "bench-" + secrets.token_hex(32),
        "JOBLOG_TOTP_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "JOBLOG_WEBAUTHN_RP_ID": "127.0.0.1",
        "JOBLOG_WEBAUTHN_ORIGIN": "http://127.0.0.1",
        "JOBLOG_DATABASE_URL": database_url,
        "JOBLOG_INSECURE_LOG_CODES": "true",
        "JOBLOG_RECORD_EXPORT_DIR": str(tmp / "record-export"),
        "JOBLOG_BABEL_TRANSLATION_DIRECTORIES": str(tmp / "translations"),
        "FLASK_APP": "wsgi",
        "PYTHONUNBUFFERED": "1",
    }


def session_cookie(env: dict[str, str], user_id: int) -> tuple[str, str]:
    """A logged-in session for ``user_id`` (second factor passed), signed with the app's
    key as the app signs it: (cookie name, value)."""
    old = dict(os.environ)
    os.environ.update(env)
    try:
        import sqlalchemy as sa

        from joblog_app import create_app
        from joblog_app.auth import services as auth
        from joblog_app.auth.models import LoginSession, User
        from joblog_app.extensions import db
        from joblog_app.models_base import utcnow

        app = create_app()
        with app.app_context():
            user = db.session.get(User, user_id)
            token = auth.start_session(user, timedelta(hours=3))
            db.session.execute(sa.update(LoginSession).where(LoginSession.user_id == user_id)
                               .values(second_factor_at=utcnow()))
            db.session.commit()
            value = app.session_interface.get_signing_serializer(app).dumps(
                {"sid": token, "_user_id": str(user_id), "_fresh": True})
            name = app.config["SESSION_COOKIE_NAME"]
            db.engine.dispose()
        return name, value
    finally:
        os.environ.clear()
        os.environ.update(old)


def measure(client: c.Client, name: str, paths: list[str], count: int, warm: int = 3
            ) -> tuple[float, float, float]:
    for path in paths[:warm]:
        client.send("GET", path)
    times, size = [], 0
    for i in range(count):
        path = paths[i % len(paths)]
        t = time.perf_counter()
        status, _h, body = c.request(client.server, "GET", path,
                                     headers={"Cookie": client.cookie_header()}, timeout=60)
        times.append((time.perf_counter() - t) * 1000)
        if status != 200:
            raise SystemExit(f"{name}: GET {path} answered {status}:\n{body[:500]}")
        size = max(size, len(body))
    times.sort()
    p95 = times[max(0, int(round(0.95 * len(times))) - 1)]
    return statistics.median(times), p95, times[-1]


def explain(env: dict[str, str], which: str, municipality: int, caseworker: int) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the main statement of a page, as the app builds it."""
    old = dict(os.environ)
    os.environ.update(env)
    try:
        from joblog_app import create_app
        from joblog_app.caseload import groups, worklist
        from joblog_app.core.clock import today
        from joblog_app.extensions import db

        app = create_app()
        with app.app_context():
            day = today()
            if which.startswith("12-month"):
                stmt = groups.figures_statement(municipality, groups.months_back(day, 12))
            else:
                stmt = worklist._statement(municipality, day, worklist.Filters(), caseworker)
                if "first page" in which:
                    stmt = stmt.limit(worklist.PAGE_SIZE)
            compiled = stmt.compile(dialect=db.engine.dialect,
                                    compile_kwargs={"render_postcompile": True})
            conn = db.session.connection()
            rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + str(compiled),
                                        compiled.params).all()
            db.session.rollback()
            db.engine.dispose()
            return "\n".join(r[0] for r in rows)
    finally:
        os.environ.clear()
        os.environ.update(old)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--citizens", type=int, default=20_000)
    ap.add_argument("--entries", type=int, default=2_000_000)
    ap.add_argument("--requests", type=int, default=60, help="per page (export: a third)")
    ap.add_argument("--keep", action="store_true", help="keep the schema and the temp dir")
    args = ap.parse_args()

    import psycopg
    import sqlalchemy as sa

    schema = f"staff_scale_{secrets.token_hex(4)}"
    admin = sa.create_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = f"{PG}?options=-csearch_path%3D{schema}"
    tmp = Path(tempfile.mkdtemp(prefix="joblog-staff-scale-"))
    env = env_for(tmp, url)
    failed = False
    try:
        shutil.copytree(c.ROOT / "translations", tmp / "translations",
                        ignore=shutil.ignore_patterns("*.mo"))
        c.run([str(c.PYBABEL), "-q", "compile", "-d", str(tmp / "translations")], env)
        t = time.perf_counter()
        c.run([str(c.FLASK), "--app", "wsgi", "db", "upgrade"], env)
        log(f"migrated in {time.perf_counter() - t:.1f} s (schema {schema})")
        today = c.today_dk()
        with psycopg.connect(pg_dsn(PG), options=f"-csearch_path={schema}") as conn:
            ids = seed(conn, args.citizens, args.entries, today)
            size = conn.execute("SELECT pg_size_pretty(pg_total_relation_size('activity'))"
                                ).fetchone()[0]
            log(f"activity table with its indexes: {size}")
        cookies = [session_cookie(env, m) for m in range(1, 6)]  # caseworker m of municipality m
        name, value = cookies[0]
        citizens: list[int] = ids["citizens"]  # type: ignore[assignment]
        picks = random.Random(3).sample(citizens, 40)
        results: dict[str, tuple[float, float, float]] = {}
        ws = c.Workspace(tmp, tmp / "unused.sqlite", env)
        with c.gunicorn(ws, name="staff-scale") as server:
            client = c.Client(server, {name: value})
            status, headers, _b = client.send("GET", "/staff/worklist")
            if status != 200:
                raise SystemExit(f"GET /staff/worklist as the caseworker: {status} "
                                 f"{headers.get('Location')}")
            n = args.requests
            results["work list, default filter, first page"] = measure(
                client, "work list", ["/staff/worklist"], n)
            # The overview asks for a purpose once per citizen and day: given beforehand, as
            # a caseworker would have, so each request is the page itself (audited read).
            with psycopg.connect(pg_dsn(PG), options=f"-csearch_path={schema}") as conn:
                conn.cursor().executemany(
                    "INSERT INTO overview_purpose (staff_user_id, citizen_id, day, purpose, at) "
                    "VALUES (1, %s, %s, 'prepare_conversation', now())",
                    [(p, today) for p in picks])
            results["citizen overview"] = measure(
                client, "citizen", [f"/staff/citizens/{p}" for p in picks], n)
            results["12-month figures, biggest municipality"] = measure(
                client, "figures", ["/staff/figures"], max(10, n // 2))
            # The export: the municipality whose default list is nearest 4,000 citizens.
            sizes = []
            for m, (cname, cvalue) in enumerate(cookies, start=1):
                _s, _h, html = c.Client(server, {cname: cvalue}).send("GET", "/staff/worklist")
                found = re.search(r'id="list-title">([^<]*)', html)
                count = int(re.sub(r"\D", "", found.group(1)) or 0) if found else 0
                sizes.append((abs(count - 4000), m, count))
            _d, export_m, _n = min(sizes)
            exporter = c.Client(server, {cookies[export_m - 1][0]: cookies[export_m - 1][1]})
            results["CSV export of the work list"] = measure(
                exporter, "export", ["/staff/worklist.csv"], max(6, n // 4), warm=1)
            _s, _h, csv_body = exporter.send("GET", "/staff/worklist.csv")
            exported = csv_body.count("\r\n") - 1
        print(f"STAFF SCALE: gunicorn 2 sync workers on 127.0.0.1, PostgreSQL, {args.citizens:,} "
              f"citizens, caseworker of municipality 1 ({len(citizens):,} citizens); "
              f"sequential requests; the CSV export: the list of municipality {export_m} "
              f"(the one nearest 4,000), {exported:,} citizens")
        print(f"{'page':42} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'target':>8} "
              f"{'p95/target':>10}")
        slowest, worst = "", 0.0
        for page, (p50, p95, worst_ms) in results.items():
            target = TARGETS[page]
            ratio = p95 / target
            if ratio > worst:
                slowest, worst = page, ratio
            failed |= ratio > 1
            print(f"{page:42} {p50:8.0f} {p95:8.0f} {worst_ms:8.0f} {target:8.0f} {ratio:10.2f}"
                  f"{'' if ratio <= 1 else '  MISSED'}")
        which = slowest if not slowest.startswith("citizen") else \
            "work list, default filter, first page"
        print(f"\nEXPLAIN (ANALYZE, BUFFERS) of the slowest page's main statement ({which}):")
        print(explain(env, which, int(ids["municipality"]), int(ids["caseworker"])))  # type: ignore[call-overload]
    finally:
        if not args.keep:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            log(f"kept schema {schema} and {tmp}")
        admin.dispose()
    return 1 if failed else 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
