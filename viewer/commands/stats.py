"""``khoso stats``: usage statistics from the command line."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from repository.models import utcnow
from repository.usage import roll_up
from viewer.extensions import parts

stats_cli = AppGroup("stats", help="Usage statistics.")


@stats_cli.command("rollup")
def rollup_command() -> None:
    """Sum the usage events of closed months for the dashboard (safe to run again)."""
    with parts().db.session() as session:
        months = roll_up(session, utcnow())
    click.echo("summed: " + (", ".join(f"{m:%Y-%m}" for m in months) or "nothing new"))


commands = [stats_cli]
