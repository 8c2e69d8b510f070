"""``flask worker``: every registered job runs; one broken job does not stop the others."""

from __future__ import annotations

import signal

from joblog_app import worker
from joblog_app.worker import Job, register_job


def test_once_runs_every_registered_job_and_reports_what_each_handled(app, app_ctx):
    calls: list[str] = []
    register_job(app, Job("test-a", lambda stopping: calls.append("a") or 3))
    register_job(app, Job("test-b", lambda stopping: calls.append("b") or 0))
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert calls == ["a", "b"]
    assert "record-relay: 0" in result.output and "test-a: 3" in result.output


def test_a_failing_job_is_logged_and_the_others_still_run(app, app_ctx, caplog):
    calls: list[str] = []

    def broken(_stopping):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    register_job(app, Job("broken", broken))
    register_job(app, Job("fine", lambda stopping: calls.append("fine") or 1))
    totals = worker.run(once=True)
    assert calls == ["fine"] and totals["broken"] == 0 and totals["fine"] == 1
    assert "worker job broken failed" in caplog.text


def test_only_named_jobs_and_unknown_names_refused(app, app_ctx):
    calls: list[str] = []
    register_job(app, Job("picked", lambda stopping: calls.append("picked") or 0))
    register_job(app, Job("skipped", lambda stopping: calls.append("skipped") or 0))
    assert app.test_cli_runner().invoke(args=["worker", "--once", "--job", "picked"]).exit_code == 0
    assert calls == ["picked"]
    result = app.test_cli_runner().invoke(args=["worker", "--once", "--job", "nope"])
    assert result.exit_code != 0 and "no such job: nope" in result.output


def test_sigterm_finishes_the_round_in_hand_and_stops(app, app_ctx):
    """The loop (not --once) leaves after SIGTERM, once the job in hand has finished."""
    seen: list[bool] = []

    def job(stopping):  # type: ignore[no-untyped-def]
        signal.raise_signal(signal.SIGTERM)  # as systemd or the container runtime would
        seen.append(stopping())
        return 1

    register_job(app, Job("terminated", job))
    totals = worker.run(only=["terminated"], interval=0.01)
    assert totals == {"terminated": 1} and seen == [True]


def test_a_job_name_is_registered_once(app):
    import pytest

    with pytest.raises(ValueError):
        register_job(app, Job("record-relay", lambda stopping: 0))
