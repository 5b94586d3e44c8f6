"""Items: creation with Dublin Core, the lifecycle (draft → review → published → withdrawn)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session, selectinload

from repository import audit
from repository.access import Action, Identity, Policy
from repository.access_rules import inherited_rule_id
from repository.citation import cite
from repository.dublin_core import Statement, validate
from repository.errors import N_, Conflict, Gone, InvalidInput, NotFound
from repository.indexing import mark_for_reindex
from repository.models import (
    AccessRule,
    Collection,
    DCValue,
    FileRole,
    Item,
    ItemFile,
    ItemStatus,
    User,
    utcnow,
)

ALLOWED_TRANSITIONS = {
    ItemStatus.DRAFT: {ItemStatus.REVIEW, ItemStatus.PUBLISHED},
    ItemStatus.REVIEW: {ItemStatus.DRAFT, ItemStatus.PUBLISHED},
    ItemStatus.PUBLISHED: {ItemStatus.WITHDRAWN, ItemStatus.REVIEW},
    ItemStatus.WITHDRAWN: {ItemStatus.PUBLISHED},
}


def create_item(session: Session, collection: Collection, statements: Iterable[Statement],
                actor: User | None = None) -> Item:
    """A new draft item in ``collection`` described by ``statements`` (a title is required)."""
    item = Item(collection=collection, status=ItemStatus.DRAFT,
                effective_rule_id=inherited_rule_id(session, collection))
    session.add(item)
    replace_metadata(item, statements)
    session.flush()
    mark_for_reindex(session, [item.id])
    audit.record(session, actor, "item.create", "item", item.id,
                 new={"handle": item.handle, "collection": collection.slug})
    return item


def replace_metadata(item: Item, statements: Iterable[Statement]) -> None:
    """Validate every statement first, then replace the item's description in one go."""
    cleaned = [validate(statement) for statement in statements]
    session = object_session(item)
    if session is not None and item.id is not None:
        mark_for_reindex(session, [item.id])
    if not any(statement.element == "title" for statement in cleaned):
        raise InvalidInput(N_("An item needs a title"))
    positions: dict[tuple[str, str | None], int] = {}
    item.dc_values.clear()
    for statement in cleaned:
        key = (statement.element, statement.qualifier)
        positions[key] = positions.get(key, -1) + 1
        item.dc_values.append(DCValue(
            element=statement.element, qualifier=statement.qualifier, value=statement.value,
            language=statement.language, position=positions[key]))


def change_status(session: Session, item: Item, status: ItemStatus, actor: User | None = None,
                  reason: str = "") -> Item:
    """Move an item along its lifecycle; a withdrawal keeps the item and records why."""
    if status is item.status:
        return item
    if status not in ALLOWED_TRANSITIONS[item.status]:
        raise Conflict(N_("An item cannot go from %(old)s to %(new)s"),
                       old=item.status.value, new=status.value)
    old = item.status
    item.status = status
    if status is ItemStatus.PUBLISHED:
        item.published_at = utcnow()
    if status is ItemStatus.WITHDRAWN:
        item.withdrawn_at = utcnow()
        item.withdrawal_reason = reason
    audit.record(session, actor, "item.status", "item", item.id,
                 old={"status": old.value}, new={"status": status.value, "reason": reason})
    mark_for_reindex(session, [item.id])
    return item


def find_item(session: Session, handle: str, identity: Identity, policy: Policy) -> Item:
    """The item with ``handle`` if ``identity`` may see its metadata.

    Raises Gone for a withdrawn item (its citation stays public) and NotFound both when there
    is no such item and when it may not be seen, so that hidden items cannot be probed.
    """
    item = session.scalar(
        select(Item).where(Item.handle == handle)
        .options(selectinload(Item.dc_values), selectinload(Item.collection),
                 selectinload(Item.effective_rule).selectinload(AccessRule.groups)))
    if item is None:
        raise NotFound(N_("No such item"))
    ensure_visible(item, identity, policy)
    return item


def ensure_visible(item: Item, identity: Identity, policy: Policy) -> None:
    """Raise unless ``identity`` may see the item's metadata: Gone (with the citation) for a
    withdrawn item it could have seen, NotFound otherwise, so hidden items cannot be probed."""
    if policy.can(identity, Action.SEE_METADATA, item):
        return
    if policy.can_see_tombstone(identity, item):
        raise Gone(N_("This item has been withdrawn: %(citation)s"), citation=cite(item))
    raise NotFound(N_("No such item"))


@dataclass(frozen=True)
class ItemPage:
    items: list[Item]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def list_items(session: Session, collection: Collection, identity: Identity, policy: Policy,
               page: int = 1, per_page: int = 20) -> ItemPage:
    """The items of a collection that ``identity`` may find, newest first, one page of them."""
    page = max(1, page)
    condition = (Item.collection_id == collection.id) & policy.item_filter(identity)
    total = session.scalar(select(func.count(Item.id)).where(condition)) or 0
    items = list(session.scalars(
        select(Item).where(condition).options(selectinload(Item.dc_values))
        .order_by(Item.published_at.desc().nulls_last(), Item.id.desc())
        .limit(per_page).offset((page - 1) * per_page)))
    return ItemPage(items, total, page, per_page)


def first_page_file(item: Item, role: FileRole) -> ItemFile | None:
    """The file with ``role`` of the item's first page (its cover), if there is one."""
    for page in item.pages:
        for stored in page.files:
            if stored.role is role:
                return stored
        return None
    return None
