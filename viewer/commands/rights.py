"""``khoso rights``: set and show access rights of collections and items."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from repository import access_rules, collections
from repository.access import Action, Identity, Policy
from repository.errors import RepositoryError
from repository.models import AccessLevel, AccessRule, Item
from viewer.extensions import parts

rights_cli = AppGroup("rights", help="Access rights: who may find, read and download.")

LEVEL = click.Choice([level.value for level in AccessLevel])


def _target(session, collection_slug: str | None, item_ref: str | None):
    if bool(collection_slug) == bool(item_ref):
        raise click.UsageError("give exactly one of --collection SLUG or --item ID")
    if collection_slug:
        return {"collection": collections.get_collection(session, collection_slug)}
    condition = Item.id == int(item_ref) if item_ref.isdigit() else Item.handle == item_ref
    item = session.scalar(select(Item).where(condition))
    if item is None:
        raise click.ClickException(f"no item with id or handle '{item_ref}'")
    return {"item": item}


@rights_cli.command("set")
@click.option("--collection", "collection_slug", help="The collection's short name.")
@click.option("--item", "item_ref", help="The item's id or handle.")
@click.option("--metadata", type=LEVEL, help="Who may find it and see its description.")
@click.option("--view", type=LEVEL, help="Who may read its pages.")
@click.option("--download", type=LEVEL, help="Who may download the PDF and originals.")
@click.option("--groups", help="Comma-separated group names, for the 'groups' level.")
@click.option("--embargo", type=click.DateTime(["%Y-%m-%d"]),
              help="Nothing but staff until this date (YYYY-MM-DD).")
@click.option("--no-embargo", is_flag=True, help="Lift the embargo now.")
@click.option("--watermark", type=click.Choice(["on", "off"]),
              help="Stamp the reader's card number and the date on delivered pages.")
def set_rights(collection_slug, item_ref, metadata, view, download, groups, embargo,
               no_embargo, watermark) -> None:
    """Set rights; levels: open, readers, groups, onsite, staff."""
    change = access_rules.RuleChange(
        metadata=AccessLevel(metadata) if metadata else None,
        view=AccessLevel(view) if view else None,
        download=AccessLevel(download) if download else None,
        groups=groups.split(",") if groups is not None else None,
        embargo_until=embargo.date() if embargo else None, clear_embargo=no_embargo,
        watermark={"on": True, "off": False}.get(watermark))
    try:
        with parts().db.session() as session:
            rule = access_rules.set_rule(session, None, change,
                                         **_target(session, collection_slug, item_ref))
            _print_rule(access_rules.describe(rule))
    except RepositoryError as exc:
        raise click.ClickException(str(exc)) from exc


@rights_cli.command("show")
@click.option("--collection", "collection_slug", help="The collection's short name.")
@click.option("--item", "item_ref", help="The item's id or handle.")
def show_rights(collection_slug, item_ref) -> None:
    """Print the rights in force (an item's own or inherited rule, and who it lets in)."""
    try:
        with parts().db.session() as session:
            target = _target(session, collection_slug, item_ref)
            rule = _rule_in_force(session, target)
            if rule is None:
                click.echo("no rule: staff only")
                return
            _print_rule(access_rules.describe(rule))
            if "item" in target:
                _print_who(target["item"])
    except RepositoryError as exc:
        raise click.ClickException(str(exc)) from exc


def _rule_in_force(session, target) -> AccessRule | None:
    if "item" in target:
        return target["item"].effective_rule
    rule_id = access_rules.inherited_rule_id(session, target["collection"])
    return session.get(AccessRule, rule_id) if rule_id else None


def _print_rule(described: dict) -> None:
    for key in ("metadata", "view", "download"):
        click.echo(f"{key:10} {described[key]}")
    click.echo(f"{'groups':10} {', '.join(described['groups']) or '-'}")
    click.echo(f"{'embargo':10} {described['embargo_until'] or '-'}")
    click.echo(f"{'watermark':10} {'on' if described['watermark'] else 'off'}")


def _print_who(item: Item) -> None:
    policy = Policy()
    anonymous = Identity.anonymous()
    for action in (Action.SEE_METADATA, Action.VIEW_PAGES, Action.DOWNLOAD):
        verdict = "yes" if policy.can(anonymous, action, item) else "no"
        click.echo(f"anonymous may {action.value}: {verdict} (today {policy.today()})")
