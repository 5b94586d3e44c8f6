"""Collections: a tree of named groupings that items belong to."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from repository import audit
from repository.access import Identity, Policy
from repository.errors import N_, Conflict, InvalidInput, NotFound
from repository.models import Collection, Item, User

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?$")


def create_collection(session: Session, *, slug: str, title: str, title_en: str | None = None,
                      description: str = "", parent_slug: str | None = None,
                      actor: User | None = None) -> Collection:
    """Add a collection under ``parent_slug`` (or at the top); slugs are unique and URL-safe."""
    if not SLUG.match(slug):
        raise InvalidInput(N_("'%(slug)s' is not a valid short name: use a-z, 0-9 and '-'"),
                           slug=slug)
    if not title.strip():
        raise InvalidInput(N_("A collection needs a title"))
    if session.scalar(select(Collection.id).where(Collection.slug == slug)) is not None:
        raise Conflict(N_("A collection named '%(slug)s' exists already"), slug=slug)
    parent = get_collection(session, parent_slug) if parent_slug else None
    collection = Collection(slug=slug, title=title.strip(), title_en=title_en,
                            description=description, parent=parent)
    session.add(collection)
    session.flush()
    audit.record(session, actor, "collection.create", "collection", collection.id,
                 new={"slug": slug, "title": collection.title, "parent": parent_slug})
    return collection


def get_collection(session: Session, slug: str) -> Collection:
    collection = session.scalar(select(Collection).where(Collection.slug == slug))
    if collection is None:
        raise NotFound(N_("No collection named '%(slug)s'"), slug=slug)
    return collection


def top_collections(session: Session) -> list[Collection]:
    return list(session.scalars(
        select(Collection).where(Collection.parent_id.is_(None))
        .order_by(Collection.position, Collection.title)))


@dataclass(frozen=True)
class CollectionSummary:
    collection: Collection
    item_count: int


def summarize(session: Session, collections: list[Collection], identity: Identity,
              policy: Policy) -> list[CollectionSummary]:
    """Each collection with the number of items in it that ``identity`` may find."""
    ids = [collection.id for collection in collections]
    counts = dict(session.execute(
        select(Item.collection_id, func.count(Item.id))
        .where(Item.collection_id.in_(ids), policy.item_filter(identity))
        .group_by(Item.collection_id)).all())
    return [CollectionSummary(c, counts.get(c.id, 0)) for c in collections]
