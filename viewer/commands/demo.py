"""``khoso demo load`` and ``khoso setup``: first-run set-up of a working portal."""

from __future__ import annotations

import secrets

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from repository import accounts
from repository.models import Role, User
from viewer.demo import load_demo
from viewer.extensions import parts

demo_cli = AppGroup("demo", help="The demo collection.")


@demo_cli.command("load")
def load() -> None:
    """Add the demo collection (does nothing when it is there already)."""
    _load_demo()


@click.command("setup")
@click.option("--no-demo", is_flag=True, help="Do not add the demo collection.")
@with_appcontext
def setup_command(no_demo: bool) -> None:
    """Upgrade the database, create the first administrator, add the demo collection.

    Safe to run again: nothing is duplicated, and the administrator's password is printed only
    when the account is created (set KHOSO_ADMIN_PASSWORD to choose it).
    """
    from repository import migrate  # Alembic loads only for set-up and db commands

    migrate.upgrade(current_app.config["DATABASE_URL"])
    _ensure_admin()
    if not no_demo:
        _load_demo()


def _ensure_admin() -> None:
    username = current_app.config["ADMIN_USERNAME"]
    with parts().db.session() as session:
        if session.scalar(select(User.id).where(User.role == Role.ADMIN)) is not None:
            return
        password = current_app.config.get("ADMIN_PASSWORD")
        chosen = bool(password)
        password = password or secrets.token_urlsafe(12)
        accounts.create_user(session, username=username, password=password, role=Role.ADMIN,
                             display_name="Quản trị viên")
    click.echo(f"administrator account: {username}")
    if not chosen:
        click.echo(f"administrator password (shown once, change it after signing in): {password}")


def _load_demo() -> None:
    with parts().db.session() as session:
        created = load_demo(session, parts().store)
    click.echo("demo collection added" if created else "demo collection already present")
