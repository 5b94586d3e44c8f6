"""Which records the provider exposes, and since when: the public view of each item,
compared with what harvesters were last shown.

An item's record datestamp is the moment its *public view* last changed: its oai_dc
metadata, its set, or whether the public may see it at all. A change nobody outside can
see (page text, a staff note, a rights change that keeps it public) keeps the datestamp.
An item that stops being public (withdrawn, back to review, rights narrowed, deleted)
keeps a tombstone row: a deleted record with its own datestamp, for ever ("persistent").
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session, sessionmaker

from repository.access import Identity, Policy
from repository.dublin_core import DISPLAY_ORDER
from repository.indexing import PENDING_KEY
from repository.models import Collection, DCValue, Item, utcnow
from repository.oai.dates import truncate
from repository.oai.documents import DCStatement
from repository.oai.models import OAIRecord, OAIState

SET_PREFIX = "collection"
MAPPING_VERSION = 1  # bump when the oai_dc mapping changes: every datestamp moves on
SYNC_KEY = "khoso.oai_sync"
CHUNK = 500
_ELEMENT_RANK = {element: rank for rank, element in enumerate(DISPLAY_ORDER)}


@dataclass(frozen=True)
class PublicView:
    """An item as the public sees it through OAI-PMH."""

    item_id: int
    handle: str
    set_spec: str
    fingerprint: str


@dataclass
class SyncReport:
    exposed: int = 0
    changed: int = 0
    deleted: int = 0

    @property
    def total(self) -> int:
        return self.exposed + self.changed + self.deleted


def set_specs(session: Session) -> dict[int, str]:
    """Each collection's setSpec: ``collection:<slug>``, sub-collections ``…:<parent>:<slug>``."""
    rows = {row.id: (row.slug, row.parent_id)
            for row in session.execute(select(Collection.id, Collection.slug,
                                              Collection.parent_id))}
    specs: dict[int, str] = {}
    for collection_id in rows:
        path, current, seen = [], collection_id, set()
        while current is not None and current not in seen:
            seen.add(current)
            slug, current = rows[current]
            path.append(slug)
        specs[collection_id] = ":".join([SET_PREFIX, *reversed(path)])
    return specs


def dublin_core(session: Session, item_ids: Iterable[int]) -> dict[int, list[DCStatement]]:
    """The simple Dublin Core of each item, in display order (qualifiers fold into their
    element, as oai_dc has none)."""
    found: dict[int, list[tuple]] = {}
    for chunk in _chunks(sorted(set(item_ids))):
        for row in session.execute(
                select(DCValue.item_id, DCValue.element, DCValue.value, DCValue.language,
                       DCValue.position).where(DCValue.item_id.in_(chunk))):
            key = (_ELEMENT_RANK.get(row.element, 99), row.element, row.position, row.value)
            found.setdefault(row.item_id, []).append((key, row))
    return {item_id: [DCStatement(row.element, row.value, row.language)
                      for _, row in sorted(rows, key=lambda pair: pair[0])]
            for item_id, rows in found.items()}


def fingerprint(handle: str, set_spec: str, statements: Iterable[DCStatement]) -> str:
    described = [MAPPING_VERSION, handle, set_spec,
                 [[s.element, s.language, s.value] for s in statements]]
    return hashlib.sha256(json.dumps(described, ensure_ascii=False).encode()).hexdigest()


def public_views(session: Session, policy: Policy,
                 item_ids: Iterable[int] | None = None) -> dict[int, PublicView]:
    """The items (all, or those of ``item_ids``) the public may see now, as it sees them."""
    query = select(Item.id, Item.handle, Item.collection_id).where(
        policy.item_filter(Identity.anonymous()))
    if item_ids is None:
        rows = list(session.execute(query))
    else:
        rows = [row for chunk in _chunks(sorted(set(item_ids)))
                for row in session.execute(query.where(Item.id.in_(chunk)))]
    specs = set_specs(session)
    views: dict[int, PublicView] = {}
    for chunk in _chunks(rows):
        metadata = dublin_core(session, [row.id for row in chunk])
        for row in chunk:
            spec = specs[row.collection_id]
            views[row.id] = PublicView(row.id, row.handle, spec,
                                       fingerprint(row.handle, spec, metadata.get(row.id, [])))
    return views


def sync_records(session: Session, policy: Policy, item_ids: Iterable[int] | None = None,
                 now: datetime | None = None) -> SyncReport:
    """Bring the exposed records in line with the public view of all items (or of
    ``item_ids``): new and changed ones get a new datestamp and change number, those the
    public can no longer see become tombstones. The caller commits."""
    wanted = None if item_ids is None else set(item_ids)
    views = public_views(session, policy, wanted)
    state = _lock_state(session)
    stamp = truncate(now or utcnow())
    if state.last_datestamp is not None and state.last_datestamp > stamp:
        stamp = state.last_datestamp  # never go back in time, even if a clock does
    report = SyncReport()
    stored = _stored(session, wanted)
    by_item = {row.item_id: row for row in stored if row.item_id is not None}
    for view in sorted(views.values(), key=lambda v: v.item_id):
        row = by_item.get(view.item_id)
        if row is None:
            row = OAIRecord(item_id=view.item_id)
            session.add(row)
            report.exposed += 1
        elif row.deleted or (row.fingerprint, row.handle) != (view.fingerprint, view.handle):
            report.changed += 1
        else:
            continue
        _stamp(row, state, stamp, deleted=False, handle=view.handle, set_spec=view.set_spec,
               fingerprint=view.fingerprint)
    for row in stored:
        if not row.deleted and (row.item_id is None or row.item_id not in views):
            _stamp(row, state, stamp, deleted=True)
            report.deleted += 1
    state.synced_at = utcnow()
    session.flush()
    return report


def _lock_state(session: Session) -> OAIState:
    """The provider's state row, locked for this transaction (it orders change numbers)."""
    locked = session.execute(update(OAIState).where(OAIState.id == 1)
                             .values(last_seq=OAIState.last_seq)
                             .execution_options(synchronize_session=False))
    if locked.rowcount == 0:
        session.add(OAIState(id=1, last_seq=0))
        session.flush()
    return session.get(OAIState, 1, populate_existing=True)


def _stored(session: Session, wanted: set[int] | None) -> list[OAIRecord]:
    orphans = (OAIRecord.item_id.is_(None)) & (OAIRecord.deleted.is_(False))
    if wanted is None:
        return list(session.scalars(select(OAIRecord)))
    rows = list(session.scalars(select(OAIRecord).where(orphans)))
    for chunk in _chunks(sorted(wanted)):
        rows += session.scalars(select(OAIRecord).where(OAIRecord.item_id.in_(chunk)))
    return rows


def _stamp(row: OAIRecord, state: OAIState, stamp: datetime, *, deleted: bool,
           **fields: str) -> None:
    state.last_seq += 1
    state.last_datestamp = stamp
    row.seq = state.last_seq
    row.datestamp = stamp
    row.deleted = deleted
    for name, value in fields.items():
        setattr(row, name, value)


def _chunks(values: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def sync_after_commit(factory: sessionmaker, policy: Policy,
                      on_error: Callable[[Exception], None]) -> None:
    """Install the hook: after a session commits, sync the records of the items it marked
    for re-indexing (the same marks: a change to an item or to its rights)."""

    @event.listens_for(factory, "before_commit")
    def _remember(session: Session) -> None:
        pending = session.info.get(PENDING_KEY)
        if pending:
            session.info.setdefault(SYNC_KEY, set()).update(pending)

    @event.listens_for(factory, "after_commit")
    def _sync(session: Session) -> None:
        pending = session.info.pop(SYNC_KEY, None)
        if not pending:
            return
        try:
            with factory() as fresh:
                sync_records(fresh, policy, pending)
                fresh.commit()
        except Exception as exc:  # noqa: BLE001 - reported; the commit must stand
            on_error(exc)

    @event.listens_for(factory, "after_rollback")
    def _forget(session: Session) -> None:
        session.info.pop(SYNC_KEY, None)


def sync_all(factory: sessionmaker, policy: Policy) -> SyncReport:
    """A full sync in its own transaction: for the scheduled job and ``khoso oai sync``
    (embargoes lift at midnight without any write that the hook would see)."""
    with factory() as session:
        report = sync_records(session, policy)
        session.commit()
    return report

