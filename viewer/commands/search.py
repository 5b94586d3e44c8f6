"""``khoso search``: search as the web does, and rebuild the index."""

from __future__ import annotations

import json
import re

import click
from flask.cli import AppGroup

from repository import accounts
from repository.access import Identity
from repository.discovery import search_items
from repository.indexing import all_item_ids, reindex
from repository.search import SearchRequest, SearchUnavailable, Sort
from viewer.extensions import parts

TAG = re.compile(r"<[^>]+>")


class QueryFirstGroup(AppGroup):
    """``khoso search WORDS…`` searches; ``khoso search reindex`` is a subcommand."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["query", *args]
        return super().parse_args(ctx, args)


search_cli = QueryFirstGroup(
    "search", help="Search the collections (khoso search WORDS…) or rebuild the index.")


@search_cli.command("query")
@click.argument("words", nargs=-1, required=True)
@click.option("--as", "username", help="Search as this account (default: anonymous).")
@click.option("--sort", type=click.Choice([s.value for s in Sort]), default="relevance")
@click.option("--page", type=int, default=1, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def query(words, username, sort, page, as_json) -> None:
    """Search like the web: hits with item id, title, pages and snippets, facet counts."""
    request = SearchRequest(query=" ".join(words), sort=Sort(sort), page=page)
    with parts().db.session() as session:
        identity = _identity(session, username)
        try:
            found = search_items(session, parts().search(), parts().policy, identity, request)
        except SearchUnavailable as exc:
            raise click.ClickException(f"search is unavailable: {exc}") from exc
    summary = _summary(found)
    click.echo(json.dumps(summary, ensure_ascii=False, indent=2) if as_json
               else _as_text(summary))


def _identity(session, username: str | None) -> Identity:
    if not username:
        return Identity.anonymous()
    user = accounts.find_user(session, username)
    if user is None:
        raise click.ClickException(f"no account named '{username}'")
    return Identity.of_user(user)


def _summary(found) -> dict:
    result = found.result
    return {
        "query": result.request.query, "total": result.total, "page": result.request.page,
        "notes": [note.text for note in result.notes],
        "hits": [{"item_id": hit.item_id, "handle": found.handles.get(hit.item_id),
                  "title": hit.title, "creators": list(hit.creators), "year": hit.year,
                  "pages": list(hit.pages),
                  "snippets": [{"page": s.page, "text": TAG.sub("", s.html)}
                               for s in hit.snippets]}
                 for hit in result.hits],
        "facets": {name: {value.value: value.count for value in values}
                   for name, values in result.facets.items()},
    }


def _as_text(summary: dict) -> str:
    lines = [f"{summary['total']} items for {summary['query']!r}"]
    lines += [f"note: {note}" for note in summary["notes"]]
    for hit in summary["hits"]:
        lines.append(f"\n[{hit['item_id']}] {hit['title']}  (pages {hit['pages'][:10]})")
        lines += [f"    p.{s['page']}: {s['text']}" for s in hit["snippets"]]
    for name, counts in summary["facets"].items():
        lines.append(f"{name}: " + ", ".join(f"{k} ({v})" for k, v in counts.items()))
    return "\n".join(lines)


@search_cli.command("reindex")
def reindex_command() -> None:
    """Rebuild the index from the database, item by item, while search keeps answering."""
    with parts().db.session() as session:
        ids = list(all_item_ids(session))
    with click.progressbar(length=len(ids), label="indexing") as bar:
        for start in range(0, len(ids), 200):
            chunk = ids[start:start + 200]
            with parts().db.session() as session:
                reindex(session, parts().search(), parts().policy, chunk)
            bar.update(len(chunk))
    click.echo(f"indexed {len(ids)} items")
