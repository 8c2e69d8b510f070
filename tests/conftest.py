"""Shared fixtures: the app on SQLite and on the PostgreSQL server, clients, citizens.

Every test that takes ``app`` runs twice: on SQLite and on PostgreSQL (127.0.0.1:5432,
trust auth, database ``test``, a schema of its own per run). Without a reachable
PostgreSQL those runs are skipped with one clear reason.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from joblog_app import create_app
from joblog_app.activities.models import Channel
from joblog_app.auth.models import Municipality, Role, User
from joblog_app.citizens.models import BenefitGroup
from joblog_app.citizens.services import new_profile
from joblog_app.extensions import db
from joblog_app.permissions import Actor

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = os.environ.get("JOBLOG_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def pytest_sessionstart(session: pytest.Session) -> None:
    # Compiled catalogs are build output (make test compiles them); make sure they exist.
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "-q", "compile", "-d",
                    str(ROOT / "translations")], check=True)


class CodeOutbox(logging.Handler):
    """Reads the development sender's log lines: the codes a phone would receive."""

    def __init__(self) -> None:
        super().__init__()
        self.codes: list[tuple[int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        m = re.search(r"login code for \S+ \(user #(\d+)\): (\d{6})", record.getMessage())
        if m:
            self.codes.append((int(m.group(1)), m.group(2)))

    def last_for(self, user_id: int) -> str:
        return next(code for uid, code in reversed(self.codes) if uid == user_id)


@pytest.fixture
def outbox() -> Iterator[CodeOutbox]:
    handler = CodeOutbox()
    logger = logging.getLogger("joblog.login")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def _pg_available() -> str | None:
    try:
        engine = sa.create_engine(PG_SERVER)
        with engine.connect():
            pass
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return f"PostgreSQL not reachable at {PG_SERVER.split('@')[-1]}: {type(exc).__name__}"


@pytest.fixture(scope="session")
def pg_schema_url() -> Iterator[str]:
    reason = _pg_available()
    if reason:
        pytest.skip(f"PostgreSQL tests skipped — {reason}")
    schema = f"t_{secrets.token_hex(4)}"
    engine = sa.create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    yield f"{PG_SERVER}?options=-csearch_path%3D{schema}"
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


_migrated: set[str] = set()


def make_app(url: str, **overrides: object) -> Flask:
    config = {"ENV_NAME": "testing", "SECRET_KEY": "test-" + secrets.token_hex(8),
              "DATABASE_URL": url, **overrides}
    return create_app(config)


def _migrate_once(app: Flask, url: str) -> None:
    if url in _migrated:
        return
    import flask_migrate

    with app.app_context():
        flask_migrate.upgrade()
    _migrated.add(url)


def _empty_tables() -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "postgresql":
        return request.getfixturevalue("pg_schema_url")
    return "sqlite:///" + str(tmp_path_factory.getbasetemp() / "joblog-test.sqlite")


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    application = make_app(database_url)
    _migrate_once(application, database_url)
    with application.app_context():
        _empty_tables()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app_ctx(app: Flask) -> Iterator[Flask]:
    with app.app_context():
        yield app


@pytest.fixture
def municipality(app_ctx: Flask) -> Municipality:
    m = Municipality(code="101", name="Testkommune")
    db.session.add(m)
    db.session.commit()
    return m


CitizenFactory = Callable[..., User]


def acting(user: User, channel: Channel = Channel.WEB) -> Actor:
    """The acting context of ``user`` (as ``permissions.current_actor`` gives a request)."""
    return Actor.of(user, channel)


@pytest.fixture
def make_citizen(app_ctx: Flask, municipality: Municipality) -> CitizenFactory:
    counter = iter(range(1, 10_000))

    def create(language: str = "da", group: BenefitGroup = BenefitGroup.KONTANTHJAELP,
               phone: str | None = None, email: str | None = None, role: Role = Role.CITIZEN,
               active: bool = True) -> User:
        n = next(counter)
        user = User(name=f"Citizen {n}", phone=phone or f"+453000{n:04d}", email=email,
                    language=language, role=role, municipality_id=municipality.id,
                    is_active=active)
        db.session.add(user)
        db.session.flush()
        if role == Role.CITIZEN:
            db.session.add(new_profile(user.id, group))
        db.session.commit()
        return user

    return create


@pytest.fixture
def citizen(make_citizen: CitizenFactory) -> User:
    return make_citizen()


class _FreshContextClient(FlaskClient):
    """Each request in its own app context, as in production.

    Without this, a request would reuse the app context that a test holds open, and with
    it ``g`` (Flask-Login's cached user, Flask-WTF's cached token) from earlier requests.
    """

    def open(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        with self.application.app_context():
            return super().open(*args, **kwargs)


class Client:
    """The Flask test client plus the steps a citizen takes: log in, post forms with CSRF."""

    def __init__(self, client: FlaskClient, outbox: CodeOutbox) -> None:
        self.http = client
        self.outbox = outbox

    def csrf_token(self) -> str:
        page = self.http.get("/accessibility").get_data(as_text=True)
        return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]

    def post(self, url: str, data: dict[str, str] | None = None, htmx: bool = True,
             target: str = "entry-form", csrf: bool = True, **kwargs):  # type: ignore[no-untyped-def]
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.csrf_token())
        headers = {"HX-Request": "true", "HX-Target": target} if htmx else {}
        return self.http.post(url, data=data, headers=headers, **kwargs)

    def get(self, url: str, **kwargs):  # type: ignore[no-untyped-def]
        return self.http.get(url, **kwargs)

    def login(self, user: User) -> None:
        identifier = user.phone[3:] if user.phone else user.email
        r = self.post("/login", {"identifier": identifier}, target="login-form")
        assert r.status_code == 200, r.get_data(as_text=True)
        r = self.post("/login/code", {"code": self.outbox.last_for(user.id)}, target="code-form")
        assert r.headers.get("HX-Redirect") == "/", r.get_data(as_text=True)

    def new_entry(self, kind: str, **fields: str):  # type: ignore[no-untyped-def]
        fields.setdefault("client_uuid", str(uuid.uuid4()))
        return self.post(f"/activities/new/{kind}", fields)


@pytest.fixture
def client(app: Flask, outbox: CodeOutbox) -> Client:
    app.test_client_class = _FreshContextClient
    return Client(app.test_client(), outbox)


@pytest.fixture
def logged_in(client: Client, citizen: User) -> Client:
    client.login(citizen)
    return client
