"""Reminders as web push notifications in the citizen's own language."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The settings pages, ``flask push``, the worker jobs ``reminders-plan`` and
    ``push-deliver`` (planned first, so a round delivers what it planned) and the push
    figures of ``/healthz``."""
    from ..worker import Job, register_job
    from .cli import push

    _configure_vapid(app)
    from .jobs import DeliverJob, PlanJob
    from .views import bp

    app.register_blueprint(bp)
    app.cli.add_command(push)
    register_job(app, Job("reminders-plan", PlanJob()))
    register_job(app, Job("push-deliver", DeliverJob()))
    from ..core.health import register_figures

    register_figures(app, _push_figures)


def _push_figures() -> dict[str, object]:
    """The push outbox's depth and how many push services refuse our messages (a
    configuration fault: ``flask push status``)."""
    from .services import push_health

    push = push_health()
    return {"push_queue_depth": push.queue_depth, "push_config_alerts": push.alerts}


def _configure_vapid(app: Flask) -> None:
    """Push needs a VAPID key and a contact Apple accepts (otherwise it answers 403).

    Production without a key simply sends no push (``flask push status`` says so); a key
    with a missing or wrong contact is refused at start, not at the first send."""
    from ..config import ConfigError, instance_secret
    from .vapid import check_contact, new_private_key

    cfg = app.config
    if not cfg.get("VAPID_PRIVATE_KEY") and cfg["IS_LOCAL"]:
        cfg["VAPID_PRIVATE_KEY"] = instance_secret(app.instance_path, "vapid_private_key",
                                                    new_private_key)
        cfg["VAPID_CONTACT"] = cfg.get("VAPID_CONTACT") or "mailto:push@joblog.invalid"
    if cfg.get("VAPID_PRIVATE_KEY"):
        problem = check_contact(str(cfg.get("VAPID_CONTACT") or ""))
        if problem:
            raise ConfigError(f"JOBLOG_VAPID_CONTACT: {problem}")
