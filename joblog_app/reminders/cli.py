"""``flask push vapid`` (a new key pair) and ``flask push status``."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from . import services
from .vapid import Vapid, check_contact, load_private_key, new_private_key, public_key_of

push = AppGroup("push", help="Web push: VAPID keys and delivery status.")


@push.command("vapid")
@click.option("--contact", required=True,
              help="A real mailto: or https: address for the push services (Apple refuses others).")
def vapid(contact: str) -> None:
    """Make a VAPID key pair and print the settings to put in the environment."""
    problem = check_contact(contact)
    if problem:
        raise click.BadParameter(problem, param_hint="--contact")
    private = new_private_key()
    click.echo("# Keep the private key secret (environment or secret store, never the repository).")
    click.echo(f"JOBLOG_VAPID_PRIVATE_KEY={private}")
    click.echo(f"JOBLOG_VAPID_CONTACT={contact}")
    click.echo(f"# Public key (the browsers' applicationServerKey): "
               f"{public_key_of(load_private_key(private))}")


@push.command("status")
def status() -> None:
    """Configuration, subscriptions, the outbox and what each push service told us."""
    v = Vapid.from_config(current_app.config)
    if v is None:
        click.echo("VAPID: not configured: no push is sent (flask push vapid makes a key).")
    else:
        click.echo(f"VAPID: public key {v.public_key}")
        click.echo(f"VAPID contact: {v.contact}")
    health = services.push_health()
    click.echo(f"subscriptions: {health.subscriptions}")
    click.echo(f"queue depth: {health.queue_depth}")
    for state, n in sorted(services.deliveries_by_state().items()):
        click.echo(f"deliveries {state}: {n}")
    click.echo(f"configuration alerts: {health.alerts}")
    for s in services.services_with_state():
        line = f"  {s.origin}"
        if s.not_before is not None:
            line += f"  wait until {s.not_before:%Y-%m-%d %H:%M:%S} UTC (Retry-After)"
        if s.alert_status is not None:
            line += (f"  ALERT {s.alert_status} at {s.alert_at:%Y-%m-%d %H:%M} UTC: "
                     f"check the VAPID key and contact; {s.alert_detail or ''}")
        click.echo(line)
    if health.alerts:
        raise SystemExit(1)
