"""The background worker: a registry of jobs and the loop that runs them (``flask worker``).

A job is a function that handles everything due now in small batches and returns how many
rows it handled; it stops early when ``stopping()`` says so. Jobs keep their state in the
database rows they work on (a transactional outbox), so a killed worker loses nothing and a
restarted one resumes. A job is a commit boundary, like a request: it commits per batch.

A feature registers its jobs when the app is created (``register_job(app, Job(...))`` in the
feature's ``init_app``); the worker runs every registered job in registration order, round
after round, until SIGTERM (the batch in hand is finished first) or, with ``once``, after one
round.

An idle worker does not poll slowly for login codes: on PostgreSQL it LISTENs on
``WAKE_CHANNEL`` and a request that queues urgent work calls ``wake()`` (a NOTIFY, delivered
when the request commits), so the worker starts a round within milliseconds; it still looks
every couple of seconds for work that fell due by itself (retries). SQLite has no
notifications: the worker looks every ``interval`` seconds (1 s by default).
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Flask, current_app

from .extensions import db

log = logging.getLogger("joblog.worker")

Stopping = Callable[[], bool]
EXTENSION_KEY = "joblog_jobs"
WAKE_CHANNEL = "joblog_worker"
# With notifications, an idle PostgreSQL worker still looks this often for work that fell
# due by itself (a retry), and notices SIGTERM.
LISTENING_POLL_SECONDS = 2.0


def wake() -> None:
    """Tell idle workers that urgent work is queued (PostgreSQL: NOTIFY, sent at commit).
    Call it inside the transaction that queued the work. Nothing to do on SQLite."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("SELECT pg_notify(:channel, '')"), {"channel": WAKE_CHANNEL})


class Waiter:
    """Waits between idle rounds: until a NOTIFY on PostgreSQL, else a plain sleep."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.conn = None
        if db.engine.dialect.name == "postgresql":
            self.listen()

    def listen(self) -> None:
        import psycopg

        try:
            url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
            self.conn = psycopg.connect(url, autocommit=True)
            self.conn.execute(f"LISTEN {WAKE_CHANNEL}")
        except psycopg.Error as exc:
            log.warning("worker cannot LISTEN (%s): polling every %s s", type(exc).__name__,
                        self.interval)
            self.conn = None

    def wait(self) -> bool:
        """Sleep until woken or the poll interval passed; True when a notification came."""
        if self.conn is None:
            time.sleep(self.interval)
            return False
        import psycopg

        try:
            return any(True for _ in self.conn.notifies(
                timeout=max(self.interval, LISTENING_POLL_SECONDS), stop_after=1))
        except psycopg.Error:
            self.close()
            time.sleep(self.interval)
            self.listen()
            return False

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            finally:
                self.conn = None


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[Stopping], int]  # handles what is due now; returns how many rows it handled


def register_job(app: Flask, job: Job) -> None:
    jobs: dict[str, Job] = app.extensions.setdefault(EXTENSION_KEY, {})
    if job.name in jobs:
        raise ValueError(f"a worker job named {job.name!r} is already registered")
    jobs[job.name] = job


def registered_jobs(app: Flask | None = None) -> list[Job]:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    return list(app.extensions.get(EXTENSION_KEY, {}).values())


def run_round(jobs: list[Job], stopping: Stopping) -> dict[str, int]:
    """Run each job once. A job that fails is logged and rolled back; the others still run."""
    handled: dict[str, int] = {}
    for job in jobs:
        if stopping():
            break
        try:
            handled[job.name] = job.run(stopping)
        except Exception:  # noqa: BLE001 - one broken job must not stop the others
            db.session.rollback()
            log.exception("worker job %s failed", job.name)
            handled[job.name] = 0
        finally:
            db.session.remove()
    return handled


def run(once: bool = False, interval: float = 1.0, only: list[str] | None = None) -> dict[str, int]:
    """Run the registered jobs until SIGTERM (or one round with ``once``); returns the total
    handled per job."""
    jobs = [j for j in registered_jobs() if not only or j.name in only]
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True  # finish the batch in hand, then leave

    previous = signal.signal(signal.SIGTERM, stop)
    totals = {job.name: 0 for job in jobs}
    waiter = None if once else Waiter(interval)
    try:
        while not stopping:
            handled = run_round(jobs, lambda: stopping)
            for name, n in handled.items():
                totals[name] += n
            if once or stopping:
                break
            if not any(handled.values()) and waiter is not None:
                waiter.wait()
    finally:
        signal.signal(signal.SIGTERM, previous)
        if waiter is not None:
            waiter.close()
    return totals
