"""``flask record ...``: delivery to the municipal record, for administrators."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from ..extensions import db
from . import services

record = AppGroup("record", help="Delivery to the municipal record: status and retries.")


@record.command("status")
def record_status() -> None:
    """Counts by state, queue health and the failed entries with their reasons."""
    for state, count in sorted(services.counts_by_state().items()):
        click.echo(f"{state:10} {count}")
    health = services.queue_health()
    age = "-" if health.oldest_pending_seconds is None else f"{health.oldest_pending_seconds:.0f}s"
    click.echo(f"queue depth {health.depth}, oldest pending {age}, "
               f"waiting for staff {health.waiting}")
    for a in services.failed_entries():
        click.echo(f"failed #{a.id} citizen #{a.citizen_id} {a.kind.value}: {a.record_error}")


@record.command("retry")
@click.argument("activity_ids", nargs=-1, type=int)
def record_retry(activity_ids: tuple[int, ...]) -> None:
    """Send failed entries again (all, or the given ids)."""
    n = services.retry_failed(list(activity_ids) or None)
    db.session.commit()
    click.echo(f"{n} entries will be sent again.")


@record.command("gateway")
@click.argument("municipality_code")
@click.argument("kind", type=click.Choice(["http", "export", "none"]))
def record_gateway(municipality_code: str, kind: str) -> None:
    """Choose how a municipality's entries reach the record."""
    from ..auth.models import Municipality

    m = db.session.scalar(sa.select(Municipality).where(Municipality.code == municipality_code))
    if m is None:
        raise click.ClickException(f"no municipality with code {municipality_code}")
    services.set_gateway(m, services.RecordGatewayKind(kind))
    db.session.commit()
    click.echo(f"{m.name}: gateway {kind}")
