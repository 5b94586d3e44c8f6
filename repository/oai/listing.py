"""Queries over the exposed records: one record, a page of a list, its size. Live records
are also checked against the access policy as they are served, so that a record whose item
was hidden a moment ago (before the sync turned it into a tombstone) is not shown."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from repository.access import Identity, Policy
from repository.models import Item
from repository.oai.models import OAIRecord
from repository.oai.tokens import ListQuery


def visible(policy: Policy) -> ColumnElement[bool]:
    """Tombstones, and live records of items the public may see."""
    public = select(Item.id).where(policy.item_filter(Identity.anonymous()))
    return or_(OAIRecord.deleted.is_(True), OAIRecord.item_id.in_(public))


def in_set(set_spec: str) -> ColumnElement[bool]:
    """Records of the set and of every set below it (``a`` holds ``a:b``)."""
    return or_(OAIRecord.set_spec == set_spec, OAIRecord.set_spec.startswith(f"{set_spec}:"))


def selection(policy: Policy, query: ListQuery) -> list[ColumnElement[bool]]:
    conditions = [visible(policy)]
    if query.set_spec:
        conditions.append(in_set(query.set_spec))
    if query.since is not None:
        conditions.append(OAIRecord.datestamp >= query.since)
    if query.until is not None:
        conditions.append(OAIRecord.datestamp <= query.until)
    return conditions


def find_record(session: Session, policy: Policy, handle: str) -> OAIRecord | None:
    return session.scalar(select(OAIRecord).where(OAIRecord.handle == handle, visible(policy)))


def list_page(session: Session, policy: Policy, query: ListQuery, after_seq: int,
              limit: int) -> list[OAIRecord]:
    """Up to ``limit`` records after change number ``after_seq``, in change order."""
    return list(session.scalars(
        select(OAIRecord).where(*selection(policy, query), OAIRecord.seq > after_seq)
        .order_by(OAIRecord.seq).limit(limit)))


def count(session: Session, policy: Policy, query: ListQuery) -> int:
    return session.scalar(select(func.count(OAIRecord.id)).where(*selection(policy, query))) or 0


def earliest_datestamp(session: Session) -> datetime | None:
    return session.scalar(select(func.min(OAIRecord.datestamp)))
