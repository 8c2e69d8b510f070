"""Where the time of one request goes: the home screen and saving an application, in-process.

Not a benchmark of its own: it explains bench/throughput.py. The app runs with its
production configuration on a fresh demo database (as in the other scripts), driven by
Flask's test client with a real login; no server, no network. For each of GET / and the
htmx POST of a new application it prints the mean time per request, the SQL statements
one request issues, and a pyinstrument profile of ``--requests`` requests.

Needs pyinstrument in the venv (not a project dependency):

    .venv/bin/pip install pyinstrument
    .venv/bin/python bench/profile_requests.py [--requests 300] [--only home|save]
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common as c  # noqa: E402

PHONE = "20000001"


class Codes(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.codes: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        m = c.CODE_LINE.search(record.getMessage())
        if m:
            self.codes.append(m.group(2))


def login(client: Any) -> str:
    codes = Codes()
    logging.getLogger("joblog.login").addHandler(codes)
    try:
        html = client.get("/login").get_data(as_text=True)
        r = client.post("/login", data={"identifier": PHONE, "csrf_token": c.csrf_token(html)})
        assert r.status_code == 303, r.status_code
        html = client.get("/login/code").get_data(as_text=True)
        r = client.post("/login/code", data={"code": codes.codes[-1], "csrf_token": c.csrf_token(html)})
        assert r.status_code == 303 and r.headers["Location"] == "/", r.status_code
    finally:
        logging.getLogger("joblog.login").removeHandler(codes)
    html = client.get("/activities/new/application").get_data(as_text=True)
    return c.csrf_token(html)


# Where a sample's time is booked: the first rule that matches any frame of its stack.
CATEGORIES = (
    ("login session lookup (user_for_session)", lambda f: "user_for_session" in f),
    ("SQL: SQLAlchemy + sqlite3", lambda f: "/sqlalchemy/" in f or "sqlite3" in f),
    ("translations and dates (flask_babel, babel), also from templates",
     lambda f: "/flask_babel/" in f or "/babel/" in f),
    ("templates: the content block of core/home.html (progress, buttons, lists)",
     lambda f: "block_content" in f and "core/home.html" in f),
    ("templates: the rest (base.html, offline queue, url_for, csrf)",
     lambda f: "/jinja2/" in f or ".html" in f),
    ("response compression (Flask-Compress)", lambda f: "flask_compress" in f),
    ("session cookie (Flask session, itsdangerous)", lambda f: "flask/sessions.py" in f
     or "/itsdangerous/" in f),
    ("form validation (activities/forms.py)", lambda f: "activities/forms.py" in f),
)


def breakdown(session: Any) -> list[tuple[str, float]]:
    totals: dict[str, float] = {}
    for stack, seconds in session.frame_records:
        name = next((label for label, match in CATEGORIES if any(match(f) for f in stack)),
                    "everything else: Flask, Werkzeug, test client, app code")
        totals[name] = totals.get(name, 0.0) + seconds
    return sorted(totals.items(), key=lambda kv: -kv[1])


def add_entries(app: Any, n: int) -> None:
    """n more applications this month for the citizen, still on their way to the record."""
    from joblog_app.activities.models import Activity, ActivityKind, ApplicationMethod, ApplicationStatus
    from joblog_app.auth.models import User
    from joblog_app.extensions import db

    with app.app_context():
        user = db.session.query(User).filter_by(phone="+45" + PHONE).one()
        day = c.today_dk()
        db.session.add_all(
            Activity(citizen_id=user.id, entered_by_id=user.id, kind=ActivityKind.APPLICATION,
                     organisation=f"Firma {i}", title="Lagermedarbejder",
                     occurred_on=day.replace(day=1 + i % day.day), method=ApplicationMethod.ADVERTISED,
                     status=ApplicationStatus.APPLIED) for i in range(n))
        db.session.commit()
        db.session.remove()
    c.log(f"added {n} applications for citizen {PHONE}")


def _value(raw: str) -> Any:
    """As Flask's ``from_prefixed_env`` reads a variable: JSON where it parses, else text."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--only", choices=["home", "save"])
    ap.add_argument("--extra-entries", type=int, default=0,
                    help="first give the citizen this many more applications this month (0)")
    ap.add_argument("--no-profile", action="store_true", help="only the timing and the SQL")
    args = ap.parse_args()
    n = max(10, min(args.requests, 5000))
    try:
        from pyinstrument import Profiler
    except ImportError:
        raise SystemExit("pyinstrument is missing: .venv/bin/pip install pyinstrument") from None
    from sqlalchemy import event

    from joblog_app import create_app
    from joblog_app.extensions import db

    with c.workspace() as ws:
        app = create_app({k.removeprefix("JOBLOG_"): _value(v) for k, v in ws.env.items()
                          if k.startswith("JOBLOG_")})
        statements: list[str] = []
        sql_time: dict[str, float] = {}

        def before(conn: Any, _cur: Any, sql: str, *_a: Any) -> None:
            statements.append(sql)
            conn.info["t0"] = time.perf_counter()

        def after(conn: Any, _cur: Any, sql: str, *_a: Any) -> None:
            sql_time[sql] = sql_time.get(sql, 0.0) + time.perf_counter() - conn.info.pop("t0")

        with app.app_context():
            event.listen(db.engine, "before_cursor_execute", before)
            event.listen(db.engine, "after_cursor_execute", after)
        if args.extra_entries:
            add_entries(app, min(args.extra_entries, 100_000))
        # The production session cookie is Secure: talk to the test client over https.
        client = app.test_client()
        client.environ_base["wsgi.url_scheme"] = "https"
        token = login(client)
        cookie_name = app.config["SESSION_COOKIE_NAME"]
        cookie_value = client.get_cookie(cookie_name).value
        day = c.today_dk().isoformat()
        headers = {"Accept-Encoding": "gzip, deflate, br, zstd"}

        def home() -> None:
            r = client.get("/", headers=headers)
            assert r.status_code == 200, r.status_code

        def save() -> None:
            r = client.post("/activities/new/application", headers={
                **headers, "X-CSRFToken": token, "HX-Request": "true", "HX-Target": "entry-form"},
                data={"csrf_token": token, "client_uuid": str(uuid.uuid4()),
                      "organisation": "Bench Bageri ApS", "title": "Bagermedhjælper",
                      "occurred_on": day, "method": "advertised", "status": "applied"})
            assert r.status_code == 200 and r.headers.get("HX-Location"), r.status_code
            # Like wrk (and unlike a browser, which shows the flash on the next page): keep
            # the session cookie as it was, or the unread flash messages pile up in it.
            client.set_cookie(cookie_name, cookie_value)

        for name, fn in (("home", home), ("save", save)):
            if args.only and name != args.only:
                continue
            for _ in range(20):  # warm-up: templates compiled, caches filled
                fn()
            statements.clear()
            fn()
            one = list(statements)
            sql_time.clear()
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            plain = (time.perf_counter() - t0) / n
            print("=" * 78)
            print(f"{name}: {plain * 1000:.2f} ms per request in-process (mean of {n}, no profiler); "
                  f"{len(one)} SQL statements per request (ms in sqlite3 per request, statement):")
            for sql in one:
                print(f"  {1000 * sql_time.get(sql, 0.0) / n:6.3f}  " + re.sub(r"\s+", " ", sql)[:200])
            print(f"  {1000 * sum(sql_time.values()) / n:6.3f}  in all: the rest is Python")
            if args.no_profile:
                continue
            profiler = Profiler(interval=0.0002)
            profiler.start()
            for _ in range(n):
                fn()
            profiler.stop()
            session = profiler.last_session
            print(f"\nshare of the profiled time ({n} requests, {session.duration:.2f} s with profiler):")
            for label, seconds in breakdown(session):
                print(f"  {seconds / session.duration:6.1%}  {label}")
            print(profiler.output_text(unicode=False, color=False, show_all=False))
            flat = profiler.output_text(unicode=False, color=False, flat=True, time="percent_of_total")
            print("top functions by own time:\n" + "\n".join(flat.splitlines()[:40]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
