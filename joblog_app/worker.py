"""The background worker: a registry of jobs and the loop that runs them (``flask worker``).

A job is a function that handles everything due now in small batches and returns how many
rows it handled; it stops early when ``stopping()`` says so. Jobs keep their state in the
database rows they work on (a transactional outbox), so a killed worker loses nothing and a
restarted one resumes. A job is a commit boundary, like a request: it commits per batch.

A feature registers its jobs when the app is created (``register_job(app, Job(...))`` in the
feature's ``init_app``); the worker runs every registered job in registration order, round
after round, until SIGTERM (the batch in hand is finished first) or, with ``once``, after one
round.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app

from .extensions import db

log = logging.getLogger("joblog.worker")

Stopping = Callable[[], bool]
EXTENSION_KEY = "joblog_jobs"


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
    try:
        while not stopping:
            handled = run_round(jobs, lambda: stopping)
            for name, n in handled.items():
                totals[name] += n
            if once or stopping:
                break
            if not any(handled.values()):
                time.sleep(interval)
    finally:
        signal.signal(signal.SIGTERM, previous)
    return totals
