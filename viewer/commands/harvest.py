"""``khoso partner`` and ``khoso harvest``: partner repositories and their harvest."""

from __future__ import annotations

import click
from flask.cli import AppGroup, with_appcontext

from repository.errors import RepositoryError
from repository.harvest import service
from viewer.commands.oai import oai_cli
from viewer.extensions import parts
from viewer.partners import harvest_client

partner_cli = AppGroup("partner", help="Partner repositories harvested over OAI-PMH.")


@partner_cli.command("add")
@click.argument("name")
@click.argument("url")
@click.option("--set", "set_spec", help="Harvest only this set of the partner's.")
def add(name: str, url: str, set_spec: str | None) -> None:
    """Register the partner NAME whose OAI-PMH base URL is URL."""
    try:
        with parts().db.session() as session:
            service.add_partner(session, name, url, set_spec)
    except RepositoryError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"added partner {name}")


@partner_cli.command("list")
def list_partners() -> None:
    """Print each partner: name, records, last harvest, last error."""
    with parts().db.session() as session:
        for summary in service.list_partners(session):
            partner = summary.partner
            when = partner.last_harvest_at.isoformat() if partner.last_harvest_at else "never"
            state = "" if partner.enabled else " (paused)"
            click.echo(f"{partner.name}{state}\t{partner.base_url}\t{summary.records} records"
                       f"\tlast harvest {when}\t{partner.last_error or 'ok'}")


@partner_cli.command("enable")
@click.argument("name")
def enable(name: str) -> None:
    """Resume harvesting NAME."""
    _set_enabled(name, True)


@partner_cli.command("disable")
@click.argument("name")
def disable(name: str) -> None:
    """Pause harvesting NAME and hide its records from search."""
    _set_enabled(name, False)


def _set_enabled(name: str, enabled: bool) -> None:
    try:
        with parts().db.session() as session:
            service.set_enabled(session, service.get_partner(session, name), enabled)
    except RepositoryError as exc:
        raise click.ClickException(str(exc)) from exc


@click.command("harvest")
@click.option("--partner", "name", help="Harvest only this partner.")
@with_appcontext
def harvest_command(name: str | None) -> None:
    """Harvest the partners' new, changed and deleted records (exit 1 if any failed)."""
    try:
        outcomes = service.harvest_all(parts().db, harvest_client(), only=name)
    except RepositoryError as exc:
        raise click.ClickException(str(exc)) from exc
    for outcome in outcomes:
        click.echo(describe(outcome), err=not outcome.ok)
    if not all(outcome.ok for outcome in outcomes):
        raise SystemExit(1)


def describe(outcome: service.HarvestOutcome) -> str:
    if not outcome.ok:
        return f"{outcome.partner}: failed: {outcome.error}"
    return (f"{outcome.partner}: {outcome.added} added, {outcome.updated} updated, "
            f"{outcome.deleted} deleted, {outcome.skipped} skipped")


commands = [partner_cli, harvest_command, oai_cli]
