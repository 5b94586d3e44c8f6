"""``khoso db``: schema migrations."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

db_cli = AppGroup("db", help="Database schema: upgrade and check.")


@db_cli.command("upgrade")
def upgrade() -> None:
    """Apply every migration not yet applied (safe to run again)."""
    from repository import migrate  # Alembic loads only for these commands

    migrate.upgrade(current_app.config["DATABASE_URL"])
    click.echo(f"database at revision {migrate.head_revision()}")


@db_cli.command("check")
def check() -> None:
    """Fail when the models and the migrations disagree."""
    from repository import migrate

    try:
        migrate.check(current_app.config["DATABASE_URL"])
    except migrate.SchemaDrift as exc:
        raise click.ClickException(f"models and migrations differ: {exc}") from exc
    click.echo("models and migrations agree")
