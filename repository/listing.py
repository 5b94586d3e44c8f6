"""Paged listings for machine clients: collections, items across collections, ingest batches.

Item listings take the access policy's SQL filter, so that totals and pages never count what the
asker may not see; batches are staff business and the caller checks that first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from repository.access import Identity, Policy
from repository.errors import N_, NotFound
from repository.models import (
    Collection,
    IngestBatch,
    IngestTask,
    Item,
    ItemStatus,
    TaskState,
)

T = TypeVar("T")
MAX_PER_PAGE = 100


@dataclass(frozen=True)
class Paging:
    """Which page of a listing, ``per_page`` between 1 and MAX_PER_PAGE."""

    page: int = 1
    per_page: int = 20

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


@dataclass(frozen=True)
class Paged(Generic[T]):
    entries: list[T]
    total: int
    paging: Paging

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.paging.per_page))


def _paged(session: Session, query: Select, paging: Paging) -> Paged:
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    entries = list(session.scalars(query.limit(paging.per_page).offset(paging.offset)))
    return Paged(entries, total, paging)


def list_collections(session: Session, paging: Paging) -> Paged[Collection]:
    """Every collection: the top level first, each level in the tree's own order."""
    query = (select(Collection).options(selectinload(Collection.children),
                                        selectinload(Collection.parent))
             .order_by(Collection.parent_id.is_not(None), Collection.position, Collection.title,
                       Collection.id))
    return _paged(session, query, paging)


def list_items(session: Session, identity: Identity, policy: Policy, paging: Paging, *,
               collection: Collection | None = None,
               statuses: Sequence[ItemStatus] = ()) -> Paged[Item]:
    """The items ``identity`` may find, newest first, optionally of one collection and status."""
    query = select(Item).where(policy.item_filter(identity))
    if collection is not None:
        query = query.where(Item.collection_id == collection.id)
    if statuses:
        query = query.where(Item.status.in_(list(statuses)))
    query = (query.options(selectinload(Item.dc_values), selectinload(Item.collection))
             .order_by(Item.id.desc()))
    return _paged(session, query, paging)


def list_batches(session: Session, paging: Paging) -> Paged[IngestBatch]:
    query = (select(IngestBatch).options(selectinload(IngestBatch.collection),
                                         selectinload(IngestBatch.created_by))
             .order_by(IngestBatch.id.desc()))
    return _paged(session, query, paging)


def get_batch(session: Session, batch_id: int) -> IngestBatch:
    batch = session.get(IngestBatch, batch_id)
    if batch is None:
        raise NotFound(N_("No such batch"))
    return batch


def task_counts(session: Session, batch_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """For each batch, how many of its tasks are in each state (every state present, maybe 0)."""
    counts = {batch_id: {state.value: 0 for state in TaskState} for batch_id in batch_ids}
    rows = session.execute(
        select(IngestTask.batch_id, IngestTask.state, func.count(IngestTask.id))
        .where(IngestTask.batch_id.in_(list(batch_ids)))
        .group_by(IngestTask.batch_id, IngestTask.state))
    for batch_id, state, count in rows:
        counts[batch_id][state.value] = count
    return counts


def failed_tasks(session: Session, batch: IngestBatch, limit: int = 200) -> list[IngestTask]:
    return list(session.scalars(
        select(IngestTask).where(IngestTask.batch_id == batch.id,
                                 IngestTask.state == TaskState.FAILED)
        .order_by(IngestTask.id).limit(limit)))
