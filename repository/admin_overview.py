"""The figures on the administration dashboard: what waits for staff and how much there is."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from repository.models import AccountStatus, Collection, Group, Item, ItemStatus, User


@dataclass(frozen=True)
class Overview:
    pending_registrations: int
    users: int
    groups: int
    collections: int
    items_by_status: dict[str, int]

    @property
    def items(self) -> int:
        return sum(self.items_by_status.values())


def overview(session: Session) -> Overview:
    """Counts of accounts, groups, collections, and items per lifecycle status."""
    by_status = dict(session.execute(
        select(Item.status, func.count(Item.id)).group_by(Item.status)).all())
    return Overview(
        pending_registrations=_count(session, User.id, User.status == AccountStatus.PENDING),
        users=_count(session, User.id),
        groups=_count(session, Group.id),
        collections=_count(session, Collection.id),
        items_by_status={status.value: by_status.get(status, 0) for status in ItemStatus},
    )


def _count(session: Session, column, *conditions) -> int:
    return session.scalar(select(func.count(column)).where(*conditions)) or 0
