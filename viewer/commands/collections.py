"""``khoso collection``: create and list collections."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from repository import collections
from repository.errors import RepositoryError
from viewer.extensions import parts

collection_cli = AppGroup("collection", help="Collections: create and list.")


@collection_cli.command("create")
@click.argument("slug")
@click.option("--title", required=True, help="Title in Vietnamese.")
@click.option("--title-en", help="Title in English.")
@click.option("--description", default="", help="A sentence or two about the collection.")
@click.option("--parent", "parent_slug", help="Short name of the parent collection.")
def create(slug: str, title: str, title_en: str | None, description: str,
           parent_slug: str | None) -> None:
    """Create the collection SLUG (a short name: a-z, 0-9 and '-')."""
    try:
        with parts().db.session() as session:
            collections.create_collection(session, slug=slug, title=title, title_en=title_en,
                                          description=description, parent_slug=parent_slug)
    except RepositoryError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"created collection {slug}")


@collection_cli.command("list")
def list_collections() -> None:
    """Print the collection tree."""
    with parts().db.session() as session:
        for collection in collections.top_collections(session):
            _print_tree(collection, 0)


def _print_tree(collection, depth: int) -> None:
    click.echo(f"{'  ' * depth}{collection.slug}\t{collection.title}")
    for child in collection.children:
        _print_tree(child, depth + 1)
