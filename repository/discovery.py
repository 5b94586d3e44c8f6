"""Searching as a reader: the identity's filter applied inside the engine, hits joined to
their items' handles and collections' titles for display."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from repository.access import Identity, Policy
from repository.indexing import search_filter
from repository.models import Collection, Item
from repository.search import InsideResult, SearchBackend, SearchRequest, SearchResult


@dataclass(frozen=True)
class SearchPage:
    """A results page: the engine's result plus what the page needs to link and label hits."""

    result: SearchResult
    handles: dict[int, str]
    collection_titles: dict[str, str]


def search_items(session: Session, search: SearchBackend, policy: Policy, identity: Identity,
                 request: SearchRequest) -> SearchPage:
    result = search.search(request.bounded(), search_filter(identity, policy))
    ids = [hit.item_id for hit in result.hits]
    handles = dict(session.execute(select(Item.id, Item.handle).where(Item.id.in_(ids))).all())
    slugs = {value.value for value in result.facets.get("collection", ())}
    titles = dict(session.execute(
        select(Collection.slug, Collection.title).where(Collection.slug.in_(slugs))).all())
    return SearchPage(result, handles, titles)


def search_inside(search: SearchBackend, policy: Policy, identity: Identity, item: Item,
                  query: str) -> InsideResult:
    """The pages of ``item`` where ``query`` is, for a reader allowed to view its pages."""
    return search.search_inside(item.id, query, search_filter(identity, policy))
