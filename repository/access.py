"""The access policy: the one place that decides who may do what with an item.

Every question ("may this identity see the metadata / view the pages / download / edit?") is
answered here, from the item's effective AccessRule, and the same rules produce the database
filter for listings and the principals the search index filters on, so that lists, counts,
facets and snippets never reveal what the asker may not see. Anything not granted is denied:
an item without a rule, or an action without a level, is for staff only.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true

from repository.clock import library_today
from repository.models import (
    AccessLevel,
    AccessRule,
    Group,
    Item,
    ItemStatus,
    Role,
    User,
    access_rule_groups,
)


class Action(enum.Enum):
    SEE_METADATA = "see_metadata"
    VIEW_PAGES = "view_pages"
    DOWNLOAD = "download"
    EDIT = "edit"


# Each right needs the ones before it: a page viewer shows the title, a download shows pages.
REQUIRED_LEVELS = {
    Action.SEE_METADATA: ("metadata_level",),
    Action.VIEW_PAGES: ("metadata_level", "view_level"),
    Action.DOWNLOAD: ("metadata_level", "view_level", "download_level"),
}

ANYONE = "any"
SIGNED_IN = "readers"
ON_SITE = "onsite"


@dataclass(frozen=True)
class Identity:
    """Who is asking: an account (or nobody), its groups, and whether it is in a reading room."""

    user_id: int | None = None
    role: Role | None = None
    groups: frozenset[str] = field(default_factory=frozenset)
    address: str | None = None
    onsite: bool = False
    card_number: str | None = None

    @classmethod
    def anonymous(cls, address: str | None = None, onsite: bool = False) -> Identity:
        return cls(address=address, onsite=onsite)

    @classmethod
    def of_user(cls, user: User, address: str | None = None, onsite: bool = False) -> Identity:
        return cls(user_id=user.id, role=user.role,
                   groups=frozenset(group.name for group in user.groups), address=address,
                   onsite=onsite, card_number=user.card_number)

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.STAFF, Role.ADMIN)

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None

    @property
    def principals(self) -> frozenset[str]:
        """What this identity "provides", matched against what an item's levels "need"."""
        provided = {ANYONE} | {f"group:{name}" for name in self.groups}
        if self.is_authenticated:
            provided.add(SIGNED_IN)
        if self.onsite:
            provided.add(ON_SITE)
        return frozenset(provided)


def level_principals(level: AccessLevel, rule: AccessRule) -> frozenset[str]:
    """The principals any one of which grants a right at ``level`` (staff need none)."""
    if level is AccessLevel.OPEN:
        return frozenset({ANYONE})
    if level is AccessLevel.READERS:
        return frozenset({SIGNED_IN})
    if level is AccessLevel.ONSITE:
        return frozenset({ON_SITE})
    if level is AccessLevel.GROUPS:
        return frozenset(f"group:{group.name}" for group in rule.groups)
    return frozenset()


@dataclass(frozen=True)
class IndexPrincipals:
    metadata: frozenset[str]
    view: frozenset[str]
    embargo_until: date | None


class Policy:
    """Staff may do everything; others what the published item's effective rule grants."""

    def __init__(self, today: Callable[[], date] = library_today) -> None:
        self.today = today

    def can(self, identity: Identity, action: Action, item: Item) -> bool:
        if identity.is_staff:
            return True
        if item.status is not ItemStatus.PUBLISHED or action not in REQUIRED_LEVELS:
            return False
        rule = item.effective_rule
        if rule is None or self.is_embargoed(rule):
            return False
        provided = identity.principals
        return all(provided & level_principals(getattr(rule, name), rule)
                   for name in REQUIRED_LEVELS[action])

    def is_embargoed(self, rule: AccessRule) -> bool:
        return rule.embargo_until is not None and self.today() < rule.embargo_until

    def index_principals(self, item: Item) -> IndexPrincipals:
        """What the search index stores to filter on: who may find the item, who may read its
        pages (both must match for page text), and the embargo date. The embargo is not folded
        in: the filter compares it with today, so it lifts in search when it lifts elsewhere."""
        rule = item.effective_rule
        if item.status is not ItemStatus.PUBLISHED or rule is None:
            return IndexPrincipals(frozenset(), frozenset(), None)
        return IndexPrincipals(level_principals(rule.metadata_level, rule),
                               level_principals(rule.view_level, rule), rule.embargo_until)

    def item_filter(self, identity: Identity, action: Action = Action.SEE_METADATA
                    ) -> ColumnElement[bool]:
        """The SQL condition selecting exactly the items for which ``can`` is true."""
        if identity.is_staff:
            return true()
        if action not in REQUIRED_LEVELS:
            return false()
        allowed = [self._level_allows(getattr(AccessRule, name), identity)
                   for name in REQUIRED_LEVELS[action]]
        not_embargoed = or_(AccessRule.embargo_until.is_(None),
                            AccessRule.embargo_until <= self.today())
        granting_rules = select(AccessRule.id).where(and_(not_embargoed, *allowed))
        return and_(Item.status == ItemStatus.PUBLISHED,
                    Item.effective_rule_id.in_(granting_rules))

    @staticmethod
    def _level_allows(column, identity: Identity) -> ColumnElement[bool]:
        options = [column == AccessLevel.OPEN]
        if identity.is_authenticated:
            options.append(column == AccessLevel.READERS)
        if identity.onsite:
            options.append(column == AccessLevel.ONSITE)
        if identity.groups:
            member = exists().where(
                access_rule_groups.c.rule_id == AccessRule.id,
                access_rule_groups.c.group_id == Group.id,
                Group.name.in_(sorted(identity.groups)))
            options.append(and_(column == AccessLevel.GROUPS, member))
        return or_(*options)

    def watermark_text(self, identity: Identity, item: Item) -> str | None:
        """The line stamped on delivered pages when the item's rule asks for a watermark."""
        rule = item.effective_rule
        if rule is None or not rule.watermark:
            return None
        who = identity.card_number or (f"#{identity.user_id}" if identity.user_id else "")
        return f"{who} {self.today().isoformat()}".strip()

    def can_see_tombstone(self, identity: Identity, item: Item) -> bool:
        """A withdrawn item answers 'gone' with its citation to those who could have seen
        its metadata while it was published (others get 'not found': nothing is revealed)."""
        if item.status is not ItemStatus.WITHDRAWN:
            return False
        if identity.is_staff:
            return True
        rule = item.effective_rule
        return rule is not None and bool(
            identity.principals & level_principals(rule.metadata_level, rule))
