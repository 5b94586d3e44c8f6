"""The access policy: the one place that decides who may do what with an item.

Every question ("may this identity see the metadata / view the pages / download / edit?") is
answered here, and the same rules produce the database filter for listings, so that lists,
counts and paging never reveal what the asker may not see. Anything not granted is denied.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, true

from repository.models import Item, ItemStatus, Role, User


class Action(enum.Enum):
    SEE_METADATA = "see_metadata"
    VIEW_PAGES = "view_pages"
    DOWNLOAD = "download"
    EDIT = "edit"


@dataclass(frozen=True)
class Identity:
    """Who is asking: an account (or nobody) and the address the request came from."""

    user_id: int | None = None
    role: Role | None = None
    groups: frozenset[str] = field(default_factory=frozenset)
    address: str | None = None

    @classmethod
    def anonymous(cls, address: str | None = None) -> Identity:
        return cls(address=address)

    @classmethod
    def of_user(cls, user: User, address: str | None = None) -> Identity:
        return cls(user_id=user.id, role=user.role,
                   groups=frozenset(group.name for group in user.groups), address=address)

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.STAFF, Role.ADMIN)

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None


PUBLIC_ACTIONS = frozenset({Action.SEE_METADATA, Action.VIEW_PAGES, Action.DOWNLOAD})


class Policy:
    """Rules: staff may do everything; others may read published items and nothing else."""

    def can(self, identity: Identity, action: Action, item: Item) -> bool:
        if identity.is_staff:
            return True
        return item.status is ItemStatus.PUBLISHED and action in PUBLIC_ACTIONS

    def item_filter(self, identity: Identity, action: Action = Action.SEE_METADATA
                    ) -> ColumnElement[bool]:
        """The SQL condition selecting exactly the items for which ``can`` is true."""
        if identity.is_staff:
            return true()
        if action not in PUBLIC_ACTIONS:
            return ~true()
        return Item.status == ItemStatus.PUBLISHED

    def is_withdrawn_citation_visible(self, item: Item) -> bool:
        """Withdrawn items answer 'gone' with their citation rather than 'not found'."""
        return item.status is ItemStatus.WITHDRAWN
