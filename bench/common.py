"""Shared set-up for the benchmark scripts: a throw-away database, gunicorn, a real login.

Everything runs on 127.0.0.1 and in a temporary directory (database, compiled catalogs,
logs); nothing is written to ``instance/`` or ``translations/``.
The app is configured like production (``JOBLOG_ENV_NAME=production``, own secret and CPR
keys) and served by gunicorn, so the figures are those of a deployed instance without TLS.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import os
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
VENV_BIN = Path(sys.executable).parent
GUNICORN = VENV_BIN / "gunicorn"
FLASK = VENV_BIN / "flask"
PYBABEL = VENV_BIN / "pybabel"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
HOST = "127.0.0.1"
# Demo citizens created by `flask seed-demo` (joblog_app/demo.py): local number → language.
DEMO_PHONES = {"20000001": "da", "20000002": "uk", "20000003": "ar", "20000004": "en"}
# "login code for +45••••0001 (user #4): 123456" (the phone or e-mail is masked)
CODE_LINE = re.compile(r"login code for .*?\(user #(\d+)\): (\d{6})")
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def today_dk() -> date:
    """The app's "today" (joblog_app/core/clock.py): the date in Denmark."""
    return datetime.now(ZoneInfo("Europe/Copenhagen")).date()


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------
# Workspace: temporary directory, database with demo data
# ---------------------------------------------------------------------------------------
@dataclass
class Workspace:
    dir: Path
    db_file: Path
    env: dict[str, str]

    def db(self) -> sqlite3.Connection:
        """A read connection to the app's database (for checks, not through the app)."""
        return sqlite3.connect(f"file:{self.db_file}?mode=ro", uri=True, timeout=10)

    def scalar(self, sql: str, params: tuple = ()) -> object:
        with contextlib.closing(self.db()) as conn:
            return conn.execute(sql, params).fetchone()[0]


@contextlib.contextmanager
def workspace(keep: bool = False) -> Iterator[Workspace]:
    """A temporary directory with a migrated SQLite database (WAL) and the demo data."""
    tmp = Path(tempfile.mkdtemp(prefix="joblog-bench-"))
    db_file = tmp / "joblog.sqlite"
    env = {
        **os.environ,
        "JOBLOG_ENV_NAME": "production",
        # Prefixed so from_prefixed_env never reads it as a JSON number.
        "JOBLOG_SECRET_KEY": "bench-" + secrets.token_hex(32),
        "JOBLOG_CPR_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "JOBLOG_TOTP_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "JOBLOG_CPR_INDEX_KEY": "bench-" + secrets.token_hex(32),
        "JOBLOG_WEBAUTHN_RP_ID": "127.0.0.1",
        "JOBLOG_WEBAUTHN_ORIGIN": "http://127.0.0.1",
        "JOBLOG_DATABASE_URL": f"sqlite:///{db_file}",
        # Logins are real: the one-time code is read from gunicorn's log. Production refuses
        # that sender unless told so; this is a throw-away database of demo data.
        "JOBLOG_INSECURE_LOG_CODES": "true",
        "JOBLOG_RECORD_EXPORT_DIR": str(tmp / "record-export"),
        "JOBLOG_BABEL_TRANSLATION_DIRECTORIES": str(tmp / "translations"),
        "FLASK_APP": "wsgi",
        "PYTHONUNBUFFERED": "1",
    }
    ws = Workspace(tmp, db_file, env)
    try:
        log(f"workspace {tmp}")
        # Compile the catalogs into the workspace, not into the checkout.
        shutil.copytree(ROOT / "translations", tmp / "translations",
                        ignore=shutil.ignore_patterns("*.mo"))
        run([str(PYBABEL), "-q", "compile", "-d", str(tmp / "translations")], env)
        run([str(FLASK), "--app", "wsgi", "db", "upgrade"], env)
        run([str(FLASK), "--app", "wsgi", "seed-demo"], env)
        mode = ws.scalar("PRAGMA journal_mode")
        if mode != "wal":
            raise SystemExit(f"expected the database in WAL mode, found journal_mode={mode}")
        yield ws
    finally:
        if keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def run(cmd: list[str], env: dict[str, str], timeout: float = 120) -> str:
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


# ---------------------------------------------------------------------------------------
# gunicorn
# ---------------------------------------------------------------------------------------
@dataclass
class Server:
    proc: subprocess.Popen
    port: int
    log_file: Path

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def log_text(self) -> str:
        return self.log_file.read_text(errors="replace")


@contextlib.contextmanager
def gunicorn(ws: Workspace, app: str = "wsgi:app", workers: int = 2, worker_class: str = "sync",
             threads: int = 1, name: str = "joblog", ready_path: str = "/healthz",
             extra_env: dict[str, str] | None = None) -> Iterator[Server]:
    """``gunicorn -w 2 -b 127.0.0.1:<free port> <app>`` from the repo root; stopped afterwards."""
    port = free_port()
    log_file = ws.dir / f"gunicorn-{name}-{port}.log"
    cmd = [str(GUNICORN), "-w", str(workers), "-k", worker_class, "-b", f"{HOST}:{port}",
           "--chdir", str(ROOT), "--log-level", "warning", "--graceful-timeout", "5"]
    if worker_class == "gthread":
        cmd += ["--threads", str(threads)]
    if app.startswith("hello_app"):
        cmd += ["--pythonpath", str(BENCH)]
    cmd.append(app)
    env = {**ws.env, **(extra_env or {})}
    with open(log_file, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    server = Server(proc, port, log_file)
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"gunicorn ({name}) exited with {proc.returncode}:\n{server.log_text()}")
            try:
                status, _h, _b = request(server, "GET", ready_path, timeout=2)
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"gunicorn ({name}) did not answer within 30 s:\n{server.log_text()}")
            time.sleep(0.2)
        log(f"gunicorn {name} ({app}, {workers} x {worker_class}) on {server.base}, pid {proc.pid}")
        yield server
    finally:
        stop(proc)


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the gunicorn master we started (it stops its workers); SIGKILL if stuck."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # our own session: master + its workers
        proc.wait(timeout=5)


# ---------------------------------------------------------------------------------------
# A tiny HTTP client with a cookie jar (http.cookiejar drops Secure cookies over http://,
# and the production cookie is ``__Host-session; Secure``).
# ---------------------------------------------------------------------------------------
@dataclass
class Client:
    server: Server
    cookies: dict[str, str] = field(default_factory=dict)

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def send(self, method: str, path: str, form: dict[str, str] | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, http.client.HTTPMessage, str]:
        hdrs = dict(headers or {})
        if self.cookies:
            hdrs["Cookie"] = self.cookie_header()
        body = None
        if form is not None:
            body = urlencode(form)
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        status, resp_headers, text = request(self.server, method, path, body, hdrs)
        for raw in resp_headers.get_all("Set-Cookie") or []:
            jar: SimpleCookie = SimpleCookie()
            jar.load(raw)
            for name, morsel in jar.items():
                if morsel.value == "" or morsel["max-age"] == "0":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return status, resp_headers, text


def request(server: Server, method: str, path: str, body: str | None = None,
            headers: dict[str, str] | None = None,
            timeout: float = 10) -> tuple[int, http.client.HTTPMessage, str]:
    conn = http.client.HTTPConnection(HOST, server.port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read().decode("utf-8", "replace")
    finally:
        conn.close()


def csrf_token(html: str) -> str:
    m = CSRF_INPUT.search(html)
    if not m:
        raise SystemExit("no csrf_token input in the page")
    return m.group(1)


def wait_for_code(server: Server, offset: int, timeout: float = 10) -> tuple[int, str]:
    """The first one-time code written to the gunicorn log after byte ``offset``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = CODE_LINE.search(server.log_file.read_bytes()[offset:].decode(errors="replace"))
        if m:
            return int(m.group(1)), m.group(2)
        time.sleep(0.1)
    raise SystemExit(f"no login code in the server log within {timeout:.0f} s:\n{server.log_text()}")


def login(server: Server, phone: str) -> Client:
    """The real login over HTTP: phone number, then the code the server logged."""
    client = Client(server)
    status, _h, html = client.send("GET", "/login")
    assert status == 200, f"GET /login: {status}"
    offset = server.log_file.stat().st_size
    status, headers, _b = client.send("POST", "/login",
                                      {"identifier": phone, "csrf_token": csrf_token(html)})
    if status != 303 or not headers.get("Location", "").endswith("/login/code"):
        raise SystemExit(f"POST /login answered {status} {headers.get('Location')}")
    _uid, code = wait_for_code(server, offset)
    status, _h, html = client.send("GET", "/login/code")
    assert status == 200, f"GET /login/code: {status}"
    status, headers, _b = client.send("POST", "/login/code",
                                      {"code": code, "csrf_token": csrf_token(html)})
    if status != 303 or headers.get("Location") != "/":
        raise SystemExit(f"POST /login/code answered {status} {headers.get('Location')}")
    status, _h, html = client.send("GET", "/")
    if status != 200 or 'id="add-title"' not in html:
        raise SystemExit(f"GET / after login: {status}")
    return client


def session_cookie_name(client: Client) -> str:
    names = [n for n in client.cookies if n.endswith("session")]
    if len(names) != 1:
        raise SystemExit(f"expected one session cookie, have {sorted(client.cookies)}")
    return names[0]


# ---------------------------------------------------------------------------------------
# Chromium (Playwright): a phone-sized context and the real login through the UI
# ---------------------------------------------------------------------------------------
VIEWPORT = {"width": 390, "height": 844}


def phone_context(browser: Any, base: str, locale: str = "da-DK") -> Any:
    """A new, empty browser context the size of a phone (390x844, touch)."""
    context = browser.new_context(viewport=VIEWPORT, screen=VIEWPORT, is_mobile=True,
                                  has_touch=True, device_scale_factor=2, locale=locale,
                                  base_url=base)
    context.set_default_timeout(10_000)
    return context


def browser_login(browser: Any, server: Server, phone: str) -> list[dict]:
    """Log in through the UI in a throw-away context (the code is read from the server log);
    return the cookies, to be added to the context that is measured."""
    context = phone_context(browser, server.base)
    try:
        page = context.new_page()
        page.goto("/login")
        offset = server.log_file.stat().st_size
        page.fill("#identifier", phone)
        page.click("#login-form button[type=submit]")
        page.wait_for_url(server.base + "/login/code")
        _uid, code = wait_for_code(server, offset)
        page.fill("#code", code)
        page.click("#code-form button[type=submit]")
        page.wait_for_url(server.base + "/")
        page.locator("#add-title").wait_for(state="attached")
        cookies = context.cookies()
        if not any(ck["name"].endswith("session") for ck in cookies):
            raise SystemExit(f"no session cookie after login: {cookies}")
        return cookies
    finally:
        context.close()


def kib(n: float) -> str:
    return f"{n / 1024:.1f} KiB"
