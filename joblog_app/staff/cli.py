"""``flask staff create`` / ``flask staff disable``: staff accounts from the command line."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from ..auth.models import User
from ..extensions import db
from ..permissions import STAFF_ROLES
from . import services

staff = AppGroup("staff", help="Personal staff accounts (helper, caseworker, admin).")


@staff.command("create")
@click.option("--email", required=True, help="Their own work e-mail: the login codes go there.")
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice(sorted(r.value for r in STAFF_ROLES)))
@click.option("--municipality", "code", required=True, help="The municipality's code, e.g. 101.")
def create(email: str, name: str, role: str, code: str) -> None:
    """Create a staff account; it enrols a passkey or an authenticator app on first login."""
    municipality = services.municipality_by_code(code)
    if municipality is None:
        raise click.ClickException(f"no municipality with code {code}")
    try:
        user = services.create_staff(email, name, role, municipality.id)
    except services.StaffError as exc:
        raise click.ClickException(f"{exc.field}: {exc.message}") from None
    db.session.commit()
    click.echo(f"Created {user.role.value} #{user.id} in {municipality.name}.")


def _staff_user(email: str) -> User:
    user = db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    if user is None or user.role not in STAFF_ROLES:
        raise click.ClickException("no staff account with that e-mail")
    return user


@staff.command("disable")
@click.argument("email")
def disable(email: str) -> None:
    """Disable a staff account and end its sessions at once."""
    user = _staff_user(email)
    ended = services.disable_staff(user)
    db.session.commit()
    click.echo(f"Disabled #{user.id}; {ended} session(s) ended.")


@staff.command("reset")
@click.argument("email")
def reset(email: str) -> None:
    """Forget a staff user's passkeys, app and recovery codes (after checking who asks, in
    person): they set up a new second step at their next login."""
    user = _staff_user(email)
    services.reset_second_factor(user)
    db.session.commit()
    click.echo(f"Second factors of #{user.id} removed; they set up a new one at the next login.")
