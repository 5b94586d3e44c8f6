"""Looking after the collection tree: the tree with counts and rules, renaming, moving
(never under itself), and dropping a collection's default rights. Every change is audited."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from repository import audit
from repository.access_rules import describe, refresh_effective_rules
from repository.errors import N_, InvalidInput
from repository.indexing import mark_for_reindex
from repository.items import ItemPage
from repository.models import AccessRule, Collection, Item, ItemStatus, User

TITLE_MAX_LENGTH = 255


@dataclass(frozen=True)
class TreeNode:
    """One collection in the tree, in display order, with how deep it sits."""

    collection: Collection
    depth: int
    item_count: int
    own_rule: AccessRule | None


def collection_tree(session: Session) -> list[TreeNode]:
    """The whole tree, parents before their children, each with its items and own rule."""
    counts = dict(session.execute(
        select(Item.collection_id, func.count(Item.id)).group_by(Item.collection_id)).all())
    rules = {rule.collection_id: rule for rule in session.scalars(
        select(AccessRule).where(AccessRule.collection_id.is_not(None))
        .options(selectinload(AccessRule.groups)))}
    everything = list(session.scalars(select(Collection).options(
        selectinload(Collection.children))))
    roots = sorted((c for c in everything if c.parent_id is None),
                   key=lambda c: (c.position, c.title))
    return [TreeNode(collection, depth, counts.get(collection.id, 0), rules.get(collection.id))
            for root in roots for collection, depth in _walk(root, 0)]


def _walk(collection: Collection, depth: int) -> Iterator[tuple[Collection, int]]:
    yield collection, depth
    for child in collection.children:
        yield from _walk(child, depth + 1)


def subtree_ids(session: Session, collection: Collection) -> set[int]:
    """The ids of ``collection`` and of every collection below it."""
    parents = dict(session.execute(select(Collection.id, Collection.parent_id)).all())
    children: dict[int | None, list[int]] = {}
    for child, parent in parents.items():
        children.setdefault(parent, []).append(child)
    found, waiting = set(), [collection.id]
    while waiting:
        current = waiting.pop()
        if current not in found:
            found.add(current)
            waiting.extend(children.get(current, []))
    return found


def ancestors(collection: Collection) -> list[Collection]:
    """From the top of the tree down to the parent of ``collection``."""
    chain, current = [], collection.parent
    while current is not None and current not in chain:
        chain.append(current)
        current = current.parent
    return chain[::-1]


def rename_collection(session: Session, actor: User | None, collection: Collection, *,
                      title: str, title_en: str | None = None, description: str = "",
                      description_en: str = "") -> None:
    """Change the titles and descriptions (the short name, part of links, stays)."""
    title = (title or "").strip()
    if not title:
        raise InvalidInput(N_("A collection needs a title"))
    if len(title) > TITLE_MAX_LENGTH or len(title_en or "") > TITLE_MAX_LENGTH:
        raise InvalidInput(N_("The title must have at most %(max)d characters."),
                           max=TITLE_MAX_LENGTH)
    before = {"title": collection.title, "title_en": collection.title_en,
              "description": collection.description, "description_en": collection.description_en}
    after = {"title": title, "title_en": (title_en or "").strip() or None,
             "description": (description or "").strip(),
             "description_en": (description_en or "").strip()}
    old, new = audit.changed(before, after)
    if not new:
        return
    for key, value in new.items():
        setattr(collection, key, value)
    audit.record(session, actor, "collection.update", "collection", collection.slug,
                 old=old, new=new)


def move_collection(session: Session, actor: User | None, collection: Collection,
                    new_parent: Collection | None) -> None:
    """Put ``collection`` (with everything below it) under ``new_parent``, or at the top.

    Refuses to put a collection under itself or one of its own sub-collections. Items that
    follow inherited rights then follow the rights of their new ancestors."""
    if new_parent is not None and new_parent.id in subtree_ids(session, collection):
        raise InvalidInput(N_("'%(slug)s' cannot go under itself or one of its own "
                              "sub-collections."), slug=collection.slug)
    old_parent = collection.parent
    if old_parent is new_parent:
        return
    collection.parent = new_parent
    session.flush()
    audit.record(session, actor, "collection.move", "collection", collection.slug,
                 old={"parent": old_parent.slug if old_parent else None},
                 new={"parent": new_parent.slug if new_parent else None})
    _refresh_subtree(session, collection)


def remove_collection_rule(session: Session, actor: User | None,
                           collection: Collection) -> None:
    """Drop the collection's own default rights: its items then follow the parent's."""
    rule = session.scalar(select(AccessRule).where(AccessRule.collection_id == collection.id))
    if rule is None:
        return
    audit.record(session, actor, "rights.remove", "collection", collection.slug,
                 old=describe(rule))
    session.delete(rule)
    session.flush()
    _refresh_subtree(session, collection)


def _refresh_subtree(session: Session, collection: Collection) -> None:
    refresh_effective_rules(session)
    mark_for_reindex(session, session.scalars(
        select(Item.id).where(Item.collection_id.in_(subtree_ids(session, collection)))))


def collection_items(session: Session, collection: Collection, *,
                     status: ItemStatus | None = None, page: int = 1,
                     per_page: int = 50) -> ItemPage:
    """Every item of the collection whatever its status or rights (for staff), newest first."""
    page = max(1, page)
    condition = Item.collection_id == collection.id
    if status is not None:
        condition = condition & (Item.status == status)
    total = session.scalar(select(func.count(Item.id)).where(condition)) or 0
    found = list(session.scalars(
        select(Item).where(condition)
        .options(selectinload(Item.dc_values),
                 selectinload(Item.effective_rule).selectinload(AccessRule.groups))
        .order_by(Item.id.desc()).limit(per_page).offset((page - 1) * per_page)))
    return ItemPage(found, total, page, per_page)
