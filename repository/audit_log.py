"""Reading the audit trail: events filtered by action, actor, target and library calendar
days, a page at a time or streamed for export, and each event's old → new differences."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from repository import accounts
from repository.clock import LIBRARY_TIMEZONE
from repository.models import AuditEvent, Collection, Item, User

TARGET_TYPES = ("user", "group", "collection", "item", "reading_room")


@dataclass(frozen=True)
class AuditQuery:
    """What to look for; empty fields match everything. Days are the library's calendar."""

    action: str = ""        # a prefix: "rights." or "user.role"
    actor: str = ""         # a username, or "system"
    target_type: str = ""
    target: str = ""        # an id, handle, short name or (for accounts) a username
    since: date | None = None
    until: date | None = None


@dataclass(frozen=True)
class EventPage:
    events: list[AuditEvent]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class Change:
    key: str
    old: Any
    new: Any


def find_events(session: Session, query: AuditQuery, page: int = 1, per_page: int = 50,
                zone: tzinfo = LIBRARY_TIMEZONE) -> EventPage:
    """One page of matching events, newest first."""
    page = max(1, page)
    conditions = _conditions(session, query, zone)
    total = session.scalar(select(func.count(AuditEvent.id)).where(*conditions)) or 0
    events = list(session.scalars(_ordered(conditions).limit(per_page)
                                  .offset((page - 1) * per_page)))
    return EventPage(events, total, page, per_page)


def iter_events(session: Session, query: AuditQuery, zone: tzinfo = LIBRARY_TIMEZONE,
                chunk: int = 500) -> Iterator[list[AuditEvent]]:
    """Every matching event, newest first, in lists of ``chunk`` (for exports of any size)."""
    statement = _ordered(_conditions(session, query, zone))
    yield from session.scalars(statement.execution_options(yield_per=chunk)).partitions()


def _ordered(conditions: list[ColumnElement[bool]]):
    return (select(AuditEvent).where(*conditions)
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()))


def _conditions(session: Session, query: AuditQuery, zone: tzinfo) -> list[ColumnElement[bool]]:
    conditions = []
    if query.action.strip():
        conditions.append(AuditEvent.action.startswith(query.action.strip(), autoescape=True))
    if query.actor.strip():
        conditions.append(AuditEvent.actor_name == query.actor.strip().lower())
    if query.target_type:
        conditions.append(AuditEvent.target_type == query.target_type)
    if query.target.strip():
        conditions.append(_target_condition(session, query.target.strip(), query.target_type))
    if query.since is not None:
        conditions.append(AuditEvent.at >= _start_of(query.since, zone))
    if query.until is not None:
        conditions.append(AuditEvent.at < _start_of(query.until + timedelta(days=1), zone))
    return conditions


def _target_condition(session: Session, target: str, target_type: str) -> ColumnElement[bool]:
    """The target as written, or the account a username names, or the item or collection a
    handle or short name names (accounts are logged by id; items and collections by id when
    created, by handle or short name when changed)."""
    options = [AuditEvent.target_id == target]
    user = accounts.find_user(session, target) if target_type in ("", "user") else None
    if user is not None:
        options.append(and_(AuditEvent.target_type == "user",
                            AuditEvent.target_id == str(user.id)))
    for kind, model, name in (("item", Item, Item.handle),
                              ("collection", Collection, Collection.slug)):
        found = session.scalar(select(model.id).where(name == target)) \
            if target_type in ("", kind) else None
        if found is not None:
            options.append(and_(AuditEvent.target_type == kind,
                                AuditEvent.target_id == str(found)))
    return or_(*options)


def _start_of(day: date, zone: tzinfo) -> datetime:
    """Midnight of ``day`` in the library's zone, as the UTC instant the log stores."""
    return datetime.combine(day, time.min, tzinfo=zone)


def changes(event: AuditEvent) -> list[Change]:
    """What the event changed: the keys whose values differ, an empty value ("", [], None)
    counting as no value, so that a creation lists what was set and a deletion what was lost."""
    old, new = event.old or {}, event.new or {}
    keys = list(old) + [key for key in new if key not in old]
    return [Change(key, old.get(key), new.get(key)) for key in keys
            if _blank(old.get(key)) != _blank(new.get(key))]


def _blank(value: Any) -> Any:
    return None if value in ("", [], None) else value


def target_names(session: Session, events: list[AuditEvent]) -> dict[tuple[str, str], str]:
    """Readable names of the accounts, items and collections the events are about, by
    (type, id): the username (kept in the event if the account is gone), else the title."""
    names: dict[tuple[str, str], str] = {}
    user_ids = {int(e.target_id) for e in events if e.target_type == "user" and
                e.target_id.isdigit()}
    for user_id, username in session.execute(
            select(User.id, User.username).where(User.id.in_(user_ids))):
        names["user", str(user_id)] = username
    for event in events:
        gone = (event.old or {}).get("username") or (event.new or {}).get("username")
        if event.target_type == "user" and gone:
            names.setdefault(("user", event.target_id), gone)
    names.update(_item_titles(session, {e.target_id for e in events if e.target_type == "item"}))
    names.update(_collection_titles(
        session, {e.target_id for e in events if e.target_type == "collection"}))
    return names


def _item_titles(session: Session, targets: set[str]) -> dict[tuple[str, str], str]:
    if not targets:
        return {}
    ids = [int(target) for target in targets if target.isdigit()]
    found = session.scalars(select(Item).where(or_(Item.id.in_(ids), Item.handle.in_(targets)))
                            .options(selectinload(Item.dc_values)))
    titles = {}
    for item in found:
        titles["item", str(item.id)] = titles["item", item.handle] = item.title
    return {key: value for key, value in titles.items() if key[1] in targets}


def _collection_titles(session: Session, targets: set[str]) -> dict[tuple[str, str], str]:
    if not targets:
        return {}
    ids = [int(target) for target in targets if target.isdigit()]
    titles = {}
    for collection_id, slug, title in session.execute(
            select(Collection.id, Collection.slug, Collection.title)
            .where(or_(Collection.id.in_(ids), Collection.slug.in_(targets)))):
        titles["collection", str(collection_id)] = titles["collection", slug] = title
    return {key: value for key, value in titles.items() if key[1] in targets}
