"""Rights of single items and of many at once: the rule in force and where it comes from,
overrides set on a selection of items (one audit event each), and overrides removed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from repository import audit
from repository.access import Action, Identity, Policy
from repository.access_rules import (
    RuleChange,
    apply_change,
    describe,
    inherited_rule_id,
    refresh_effective_rules,
)
from repository.errors import N_, InvalidInput, NotFound
from repository.indexing import mark_for_reindex
from repository.models import AccessRule, Collection, Item, Role, User


@dataclass(frozen=True)
class RightsInForce:
    """An item's rule in force: its own override, a collection's default, or none (staff)."""

    rule: AccessRule | None
    own: bool
    source: Collection | None


def get_item(session: Session, handle: str) -> Item:
    """The item with ``handle`` whatever its status (staff pages only)."""
    item = session.scalar(select(Item).where(Item.handle == handle).options(
        selectinload(Item.dc_values), selectinload(Item.collection),
        selectinload(Item.effective_rule).selectinload(AccessRule.groups)))
    if item is None:
        raise NotFound(N_("No such item"))
    return item


def rights_in_force(session: Session, item: Item) -> RightsInForce:
    rule = item.effective_rule
    if rule is None:
        return RightsInForce(None, False, None)
    if rule.item_id == item.id:
        return RightsInForce(rule, True, None)
    return RightsInForce(rule, False, session.get(Collection, rule.collection_id))


def collection_rights_in_force(session: Session, collection: Collection) -> RightsInForce:
    """The default rule the collection's items follow: its own, or the nearest ancestor's."""
    rule_id = inherited_rule_id(session, collection)
    rule = session.get(AccessRule, rule_id) if rule_id is not None else None
    if rule is None:
        return RightsInForce(None, False, None)
    if rule.collection_id == collection.id:
        return RightsInForce(rule, True, None)
    return RightsInForce(rule, False, session.get(Collection, rule.collection_id))


def set_rules_of(session: Session, actor: User | None, collection: Collection,
                 handles: Iterable[str], change: RuleChange) -> int:
    """Give the chosen items of ``collection`` their own rule; returns how many."""
    return len(set_item_rules(session, actor, change, items_of(session, collection, handles)))


def follow_collection(session: Session, actor: User | None, collection: Collection,
                      handles: Iterable[str]) -> int:
    """Let the chosen items of ``collection`` follow its rights; returns how many changed."""
    return remove_item_rules(session, actor, items_of(session, collection, handles))


RIGHTS = (Action.SEE_METADATA, Action.VIEW_PAGES, Action.DOWNLOAD)


def who_may(policy: Policy, item: Item) -> dict[str, dict[str, bool]]:
    """What typical visitors may do with the item as things stand (status, rule, embargo)."""
    rule = item.effective_rule
    visitors = {"anonymous": Identity.anonymous(),
                "reader": Identity(user_id=0, role=Role.READER),
                "onsite": Identity.anonymous(onsite=True)}
    if rule is not None and rule.groups:
        visitors["group_member"] = Identity(
            user_id=0, role=Role.READER, groups=frozenset(group.name for group in rule.groups))
    return {name: {action.value: policy.can(identity, action, item) for action in RIGHTS}
            for name, identity in visitors.items()}


def items_of(session: Session, collection: Collection, handles: Iterable[str]) -> list[Item]:
    """The items of ``collection`` with these handles; any other handle is an error."""
    wanted = sorted({handle for handle in handles if handle})
    if not wanted:
        raise InvalidInput(N_("Please select at least one item."))
    found = list(session.scalars(select(Item).where(
        Item.collection_id == collection.id, Item.handle.in_(wanted)).order_by(Item.id)))
    if len(found) != len(wanted):
        raise NotFound(N_("No such item"))
    return found


def set_item_rules(session: Session, actor: User | None, change: RuleChange,
                   items: list[Item]) -> list[AccessRule]:
    """Give each item its own rule changed by ``change``: one audit event per item.

    Does what ``access_rules.set_rule`` does for one item, for many, with the items pointed
    straight at their own rules instead of a full refresh per item."""
    own = {rule.item_id: rule for rule in session.scalars(
        select(AccessRule).where(AccessRule.item_id.in_([item.id for item in items])))}
    rules = []
    for item in items:
        rule = own.get(item.id) or AccessRule(item_id=item.id)
        old = describe(rule) if rule.id else None
        apply_change(session, rule, change)
        session.add(rule)
        session.flush()
        item.effective_rule = rule
        audit.record(session, actor, "rights.set", "item", item.handle, old=old,
                     new=describe(rule))
        rules.append(rule)
    session.flush()
    mark_for_reindex(session, [item.id for item in items])
    return rules


def remove_item_rules(session: Session, actor: User | None, items: list[Item]) -> int:
    """Let these items follow their collection again; returns how many had an override."""
    rules = list(session.scalars(select(AccessRule).where(
        AccessRule.item_id.in_([item.id for item in items]))
        .options(selectinload(AccessRule.groups))))
    handles = {item.id: item.handle for item in items}
    for rule in rules:
        audit.record(session, actor, "rights.remove", "item", handles[rule.item_id],
                     old=describe(rule))
        session.delete(rule)
    session.flush()
    refresh_effective_rules(session)
    mark_for_reindex(session, handles)
    return len(rules)
