"""The review queue: items that ingest finished wait here for staff to check, correct, publish.

The suggested Dublin Core that ``describe`` made is kept in the result of the item's "item" task
(not in the item's own description), so that nothing unconfirmed is ever shown to readers;
accepting a suggestion copies it into the description. No Flask here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from repository import audit, items
from repository.dublin_core import Statement
from repository.errors import N_, InvalidInput, NotFound
from repository.models import IngestTask, Item, ItemStatus, Page, TaskState, User

# Suggestions whose element is said once: accepting one replaces the value the item has.
SINGLE = frozenset({"title"})


@dataclass(frozen=True)
class Suggestion:
    index: int
    element: str
    value: str
    source: str
    accepted: bool

    def statement(self) -> Statement:
        return Statement.parse_field(self.element, self.value)


def review_queue(session: Session, page: int = 1, per_page: int = 20) -> items.ItemPage:
    """Items waiting for review, oldest first (the order they were ingested in)."""
    page = max(1, page)
    waiting = Item.status == ItemStatus.REVIEW
    total = session.scalar(select(func.count(Item.id)).where(waiting)) or 0
    found = list(session.scalars(
        select(Item).where(waiting).order_by(Item.id)
        .options(selectinload(Item.dc_values), selectinload(Item.collection),
                 selectinload(Item.pages).selectinload(Page.files))
        .limit(per_page).offset((page - 1) * per_page)))
    return items.ItemPage(found, total, page, per_page)


def item_for_review(session: Session, handle: str) -> Item:
    item = session.scalar(select(Item).where(Item.handle == handle).options(
        selectinload(Item.dc_values), selectinload(Item.pages).selectinload(Page.files)))
    if item is None:
        raise NotFound(N_("No such item"))
    return item


def suggestions(session: Session, item: Item) -> list[Suggestion]:
    """What ingest suggested for the item, each marked if the description already has it."""
    result = session.scalar(select(IngestTask.result).where(
        IngestTask.item_id == item.id, IngestTask.kind == "item",
        IngestTask.state == TaskState.DONE).order_by(IngestTask.id.desc()).limit(1)) or {}
    have = {(value.element, value.qualifier, value.value.casefold()) for value in item.dc_values}
    found = []
    for index, entry in enumerate(result.get("suggestions", [])):
        statement = Statement.parse_field(entry["element"], entry["value"])
        key = (statement.element, statement.qualifier, statement.value.casefold())
        found.append(Suggestion(index, entry["element"], entry["value"], entry["source"],
                                key in have))
    return found


def accept(session: Session, item: Item, index: int, actor: User | None) -> Statement:
    """Copy suggestion ``index`` into the item's description (a title replaces the title)."""
    chosen = next((entry for entry in suggestions(session, item) if entry.index == index), None)
    if chosen is None:
        raise NotFound(N_("No such suggestion"))
    statement = chosen.statement()
    kept = [_statement(value) for value in item.dc_values
            if not (statement.element in SINGLE and value.element == statement.element)]
    update_metadata(session, item, [*kept, statement], actor)
    return statement


def update_metadata(session: Session, item: Item, statements: Iterable[Statement],
                    actor: User | None) -> None:
    """Replace the item's description (validated; a title is required) and record who did."""
    old = [_field(value.element, value.qualifier, value.value) for value in item.dc_values]
    items.replace_metadata(item, statements)
    session.flush()
    new = [_field(value.element, value.qualifier, value.value) for value in item.dc_values]
    if old != new:
        audit.record(session, actor, "item.metadata", "item", item.id,
                     old={"values": old}, new={"values": new})


def publish(session: Session, item: Item, actor: User | None) -> None:
    """Publish a reviewed item (its collection's or its own rights then apply)."""
    if item.status is not ItemStatus.REVIEW and item.status is not ItemStatus.DRAFT:
        raise InvalidInput(N_("Only items waiting for review can be published here."))
    items.change_status(session, item, ItemStatus.PUBLISHED, actor)


def _statement(value) -> Statement:
    return Statement(value.element, value.value, value.qualifier, value.language)


def _field(element: str, qualifier: str | None, value: str) -> str:
    return f"{element}.{qualifier}: {value}" if qualifier else f"{element}: {value}"
