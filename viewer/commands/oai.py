"""``khoso oai``: the OAI-PMH provider's exposed records."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from repository.oai.records import sync_all
from viewer.extensions import parts

oai_cli = AppGroup("oai", help="The OAI-PMH provider at /oai.")


@oai_cli.command("sync")
def sync() -> None:
    """Bring the exposed records and tombstones in line with what the public may see now
    (run it on a schedule: embargoes lift without any change that the portal would see)."""
    report = sync_all(parts().db.sessionmaker, parts().policy)
    click.echo(f"exposed {report.exposed}, changed {report.changed}, deleted {report.deleted}")
