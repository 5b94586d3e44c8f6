"""``khoso user``: create, list and manage accounts from the command line (audited as "system")."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import click
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from repository import accounts
from repository.errors import RepositoryError
from repository.models import AccountStatus, Role
from viewer.extensions import parts

users_cli = AppGroup("user", help="Accounts: create, list, change role, disable.")

ROLES = click.Choice([role.value for role in Role])
STATUSES = click.Choice([status.value for status in AccountStatus])


@contextmanager
def _unit_of_work() -> Iterator[Session]:
    """One committed transaction; domain errors become a message and exit status 1."""
    try:
        with parts().db.session() as session:
            yield session
    except RepositoryError as exc:
        raise click.ClickException(str(exc)) from exc


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=ROLES, required=True, help="admin, staff or reader.")
@click.option("--email", help="Email address.")
@click.option("--card", "card_number", help="Library card number.")
@click.option("--name", "display_name", default="", help="Full name as shown on pages.")
@click.option("--expires", type=click.DateTime(["%Y-%m-%d"]),
              help="Expiry date (YYYY-MM-DD), usually the library card's.")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input.")
def create(username: str, role: str, email: str | None, card_number: str | None,
           display_name: str, expires: datetime | None, password_stdin: bool) -> None:
    """Create the active account USERNAME; the password is asked twice unless piped in."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _unit_of_work() as session:
        user = accounts.create_user(
            session, username=username, password=password, role=role, email=email,
            card_number=card_number, display_name=display_name,
            expires_on=expires.date() if expires else None)
    click.echo(f"created {user.role.value} {user.username}")


@users_cli.command("list")
@click.option("--role", type=ROLES, help="Only accounts with this role.")
@click.option("--status", type=STATUSES, help="Only accounts with this status.")
def list_users(role: str | None, status: str | None) -> None:
    """Print the accounts, one a line: username, role, status, expiry, email, card."""
    with _unit_of_work() as session:
        for user in accounts.list_users(session, role=role, status=status):
            expires = user.expires_on.isoformat() if user.expires_on else "-"
            click.echo("\t".join([user.username, user.role.value, user.status.value, expires,
                                  user.email or "-", user.card_number or "-"]))


@users_cli.command("set-role")
@click.argument("username")
@click.argument("role", type=ROLES)
def set_role(username: str, role: str) -> None:
    """Make USERNAME an admin, staff member or reader."""
    with _unit_of_work() as session:
        accounts.set_role(session, None, accounts.get_user(session, username), role)
    click.echo(f"{username} is now {role}")


@users_cli.command("disable")
@click.argument("username")
def disable(username: str) -> None:
    """Stop USERNAME from signing in (their sessions end at the next request)."""
    _set_status(username, AccountStatus.DISABLED)
    click.echo(f"disabled {username}")


@users_cli.command("enable")
@click.argument("username")
def enable(username: str) -> None:
    """Let a disabled (or pending) USERNAME sign in again."""
    _set_status(username, AccountStatus.ACTIVE)
    click.echo(f"enabled {username}")


def _set_status(username: str, status: AccountStatus) -> None:
    with _unit_of_work() as session:
        accounts.set_status(session, None, accounts.get_user(session, username), status)
