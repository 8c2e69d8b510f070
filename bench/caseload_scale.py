"""Rough scale check for the caseworker's statements on PostgreSQL (not the full
bench/staff_scale.py of issue 12): one municipality of CITIZENS citizens with ENTRIES
entries over 14 months, generated in SQL; prints the 12-month figures and the work list's
first page as median and p95 milliseconds. Run: python -m bench.caseload_scale"""

from __future__ import annotations

import os
import secrets
import statistics
import time

import sqlalchemy as sa

CITIZENS = int(os.environ.get("BENCH_CITIZENS", "6000"))
ENTRIES = int(os.environ.get("BENCH_ENTRIES", "600000"))
PG = os.environ.get("JOBLOG_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def main() -> None:
    import flask_migrate

    from joblog_app import create_app
    from joblog_app.caseload import groups, worklist
    from joblog_app.core.clock import today
    from joblog_app.extensions import db

    schema = f"bench_{secrets.token_hex(4)}"
    admin = sa.create_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    app = create_app({"ENV_NAME": "testing", "SECRET_KEY": secrets.token_hex(16),
                      "DATABASE_URL": f"{PG}?options=-csearch_path%3D{schema}"})
    try:
        with app.app_context():
            flask_migrate.upgrade()
            started = time.perf_counter()
            for sql in (
                "INSERT INTO municipality (id, code, name) VALUES (1, '101', 'Bench')",
                f"""INSERT INTO "user" (id, role, municipality_id, name, language, is_active,
                    created_at) SELECT g, 'citizen', 1, 'Citizen ' || g,
                    (ARRAY['da','uk','ar','en'])[1 + g % 4], true, now() - interval '500 days'
                    FROM generate_series(1, {CITIZENS}) g""",
                f"""INSERT INTO citizen_profile (user_id, benefit_group, requirement_count,
                    requirement_period) SELECT g,
                    (ARRAY['kontanthjaelp','sho','dagpenge','other'])[1 + g % 4],
                    CASE WHEN g % 4 = 2 THEN 1.5 ELSE 6 END,
                    CASE WHEN g % 4 = 2 THEN 'week' ELSE 'month' END
                    FROM generate_series(1, {CITIZENS}) g""",
                f"""INSERT INTO activity (client_uuid, citizen_id, entered_by_id, channel, kind,
                    record_state, record_attempts, content_version, synced_version,
                    created_at, updated_at, occurred_on, share_person, organisation, title)
                    SELECT gen_random_uuid(), 1 + (g::bigint * 7919) % {CITIZENS}, 1, 'web',
                    CASE WHEN g % 5 = 0 THEN 'coffee_meeting' ELSE 'application' END,
                    CASE WHEN g % 997 = 0 THEN 'failed' ELSE 'synced' END, 1, 1, 1,
                    now() - (g % 425) * interval '1 day', now(),
                    current_date - (g % 425), false, 'Netto', 'Kasse'
                    FROM generate_series(1, {ENTRIES}) g""",
                "ANALYZE",
            ):
                db.session.execute(sa.text(sql))
            db.session.commit()
            print(f"seeded {CITIZENS} citizens, {ENTRIES} entries in "
                  f"{time.perf_counter() - started:.1f} s")
            day = today()

            def measure(name: str, target: float, run) -> None:  # type: ignore[no-untyped-def]
                times = []
                for _ in range(15):
                    t = time.perf_counter()
                    run()
                    times.append((time.perf_counter() - t) * 1000)
                    db.session.rollback()
                times.sort()
                print(f"{name}: median {statistics.median(times):.0f} ms, "
                      f"p95 {times[int(len(times) * .95) - 1]:.0f} ms (target {target:.0f} ms)")

            measure("12-month figures", 500, lambda: groups.municipality_figures(1, day))
            measure("work list, first page", 150,
                    lambda: worklist.work_list(1, day, worklist.Filters()))
            measure("work list, all rows (export)", 2000,
                    lambda: worklist.all_rows(1, day, worklist.Filters()))
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
