"""Real-browser fixtures: one app + server + Chromium per session, a fresh context per test.

Self-contained on purpose: nothing here depends on the fixtures of ``tests/conftest.py``.

* ``live`` — the app on a temporary SQLite database (migrated, demo data seeded), served by
  werkzeug on 127.0.0.1 with a free port in a background thread.
* ``chromium`` — Debian's Chromium (/usr/bin/chromium) driven by Playwright, with the flags
  from docs QUALITY.md; never ``playwright install``.
* ``new_page`` — a phone-sized page (390×844, touch) in a new context; console errors, page
  errors and dialogs are recorded and checked when the test ends.
* ``make_citizen`` — a fresh citizen (own phone number) so tests do not share state.
"""

from __future__ import annotations

import contextlib
import logging
import random
import re
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
VIEWPORT = {"width": 390, "height": 844}
ARTIFACTS = ROOT / "test-artifacts"


# ---------------------------------------------------------------------------------------
# The one-time codes a phone would receive (the development sender logs them)
# ---------------------------------------------------------------------------------------
class CodeOutbox(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.codes: list[tuple[int, str]] = []
        self._cond = threading.Condition()

    def emit(self, record: logging.LogRecord) -> None:
        m = re.search(r"login code for \S+ \(user #(\d+)\): (\d{6})", record.getMessage())
        if m:
            with self._cond:
                self.codes.append((int(m.group(1)), m.group(2)))
                self._cond.notify_all()

    def wait_for(self, user_id: int, after: int, timeout: float = 10) -> str:
        """The first code for ``user_id`` logged after the first ``after`` codes."""
        def found() -> str | None:
            return next((c for uid, c in self.codes[after:] if uid == user_id), None)

        with self._cond:
            self._cond.wait_for(lambda: found() is not None, timeout=timeout)
            code = found()
        assert code, f"no login code was logged for user #{user_id}"
        return code


# ---------------------------------------------------------------------------------------
# App and server
# ---------------------------------------------------------------------------------------
@dataclass
class Live:
    app: Any
    url: str
    outbox: CodeOutbox

    def db(self):  # type: ignore[no-untyped-def]
        """``with live.db() as session:`` — a short app context for checking the database."""
        from contextlib import contextmanager

        from joblog_app.extensions import db

        @contextmanager
        def ctx():  # type: ignore[no-untyped-def]
            with self.app.app_context():
                try:
                    yield db.session
                finally:
                    db.session.remove()

        return ctx()


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "-q", "compile", "-d",
                    str(ROOT / "translations")], check=True)
    import flask_migrate

    from joblog_app import create_app
    from joblog_app.demo import seed
    from joblog_app.extensions import db

    db_file = tmp_path_factory.mktemp("browser") / "joblog-browser.sqlite"
    # Every browser test logs in from 127.0.0.1: the per-address code budget (60 per
    # 15 minutes, for a job café) is lifted, or the suite's 60+ logins would exceed it.
    app = create_app({"ENV_NAME": "testing", "SECRET_KEY": "browser-" + uuid.uuid4().hex,
                      "DATABASE_URL": f"sqlite:///{db_file}", "LOGIN_MAX_SENDS_PER_IP": 10_000})
    with app.app_context():
        flask_migrate.upgrade()
        seed(random.Random(7))
        db.session.commit()
        db.session.remove()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request

    outbox = CodeOutbox()
    code_logger = logging.getLogger("joblog.login")
    code_logger.addHandler(outbox)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield Live(app=app, url=f"http://127.0.0.1:{server.server_port}", outbox=outbox)
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
        code_logger.removeHandler(outbox)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


# ---------------------------------------------------------------------------------------
# Citizens
# ---------------------------------------------------------------------------------------
@dataclass
class Citizen:
    id: int
    phone: str  # +45XXXXXXXX
    language: str

    @property
    def local_number(self) -> str:
        return self.phone[3:]


_phone_numbers = iter(range(21_000_001, 21_999_999))


@pytest.fixture
def make_citizen(live: Live) -> Callable[..., Citizen]:
    """A new citizen in the demo municipality, optionally with a planned job, a coffee
    meeting due for follow-up today and applications this month."""
    from joblog_app.activities.models import (
        Activity,
        ActivityKind,
        ApplicationMethod,
        ApplicationStatus,
    )
    from joblog_app.auth.models import Municipality, Role, User
    from joblog_app.citizens.models import BenefitGroup
    from joblog_app.citizens.services import new_profile
    from joblog_app.core.clock import today

    def create(language: str = "en", *, planned: tuple[str, str] | None = None,
               coffee: tuple[str, str] | None = None,
               applications: tuple[tuple[str, str], ...] = ()) -> Citizen:
        phone = f"+45{next(_phone_numbers)}"
        day = today()
        with live.db() as session:
            municipality = session.query(Municipality).filter_by(code="999").one()
            user = User(name=f"Browser Test {phone[-4:]}", phone=phone, language=language,
                        role=Role.CITIZEN, municipality_id=municipality.id)
            session.add(user)
            session.flush()
            session.add(new_profile(user.id, BenefitGroup.KONTANTHJAELP))
            if planned:
                session.add(Activity(citizen_id=user.id, entered_by_id=user.id,
                                     kind=ActivityKind.PLANNED_JOB, organisation=planned[0],
                                     title=planned[1], deadline=day + timedelta(days=9)))
            if coffee:
                session.add(Activity(citizen_id=user.id, entered_by_id=user.id,
                                     kind=ActivityKind.COFFEE_MEETING, organisation=coffee[0],
                                     person=coffee[1], occurred_on=day - timedelta(days=6),
                                     outcome="Ring igen.", follow_up_on=day))
            for organisation, title in applications:
                session.add(Activity(citizen_id=user.id, entered_by_id=user.id,
                                     kind=ActivityKind.APPLICATION, organisation=organisation,
                                     title=title, occurred_on=day,
                                     method=ApplicationMethod.ADVERTISED,
                                     status=ApplicationStatus.APPLIED))
            session.commit()
            return Citizen(id=user.id, phone=phone, language=language)

    return create


def demo_citizen(live: Live, language: str) -> Citizen:
    """The seeded demo citizen who speaks ``language``."""
    from joblog_app.auth.models import User
    from joblog_app.demo import DEMO_CITIZENS

    demo = next(d for d in DEMO_CITIZENS if d.language == language)
    with live.db() as session:
        user = session.query(User).filter_by(phone=demo.phone).one()
        return Citizen(id=user.id, phone=user.phone, language=user.language)


# ---------------------------------------------------------------------------------------
# Browser
# ---------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `bash tests/support/ensure_browser.sh` "
                    "(never `playwright install`)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@dataclass
class Watch:
    """What went wrong in the page without failing an action: JS errors, CSP refusals,
    dialogs (an ``alert`` from stored text would be an XSS)."""

    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def console(self, msg: Any) -> None:
        # A 404/422 answer is logged by Chromium as "Failed to load resource"; that is
        # expected when a test asks for it. Everything else (CSP refusals, JS errors) is not.
        if msg.type == "error" and "Failed to load resource" not in msg.text:
            self.errors.append(f"console: {msg.text}")

    def page_error(self, exc: Any) -> None:
        self.errors.append(f"pageerror: {exc}")

    def dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()


@dataclass
class Phone:
    page: Any
    watch: Watch
    base: str

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture
def new_page(chromium: Any, live: Live) -> Iterator[Callable[..., Phone]]:
    """Factory: ``new_page(locale="ar", bypass_csp=False)`` → a fresh phone-sized page."""
    contexts: list[Any] = []
    watches: list[Watch] = []

    def open_page(locale: str = "en-US", bypass_csp: bool = False,
                  service_workers: str = "allow", profile: Path | None = None) -> Phone:
        options = dict(viewport=VIEWPORT, screen=VIEWPORT, is_mobile=True, has_touch=True,
                       device_scale_factor=2, locale=locale, base_url=live.url,
                       bypass_csp=bypass_csp, service_workers=service_workers)
        if profile is None:
            context = chromium.new_context(**options)
        else:  # a browser profile on disk: closing and reopening it keeps IndexedDB
            context = chromium.browser_type.launch_persistent_context(
                str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS,
                **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.pages[0] if context.pages else context.new_page()
        watch = Watch()
        page.on("console", watch.console)
        page.on("pageerror", watch.page_error)
        page.on("dialog", watch.dialog)
        watches.append(watch)
        return Phone(page=page, watch=watch, base=live.url)

    yield open_page
    for context in contexts:
        with contextlib.suppress(Exception):  # a test may have closed it already
            context.close()
    problems = [p for w in watches for p in w.errors + w.dialogs]
    assert not problems, "The browser reported problems:\n" + "\n".join(problems)


@pytest.fixture
def phone(new_page: Callable[..., Phone]) -> Phone:
    return new_page()


def today() -> date:
    from joblog_app.core.clock import today as dk_today

    return dk_today()
