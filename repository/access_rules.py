"""Setting access rights: collection defaults, item overrides, reading rooms.

Every change is audited and recomputes the effective rule of the items it touches, so that
the policy, the listings and the search index always agree on who may see what.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from repository import audit
from repository.errors import N_, InvalidInput, NotFound
from repository.indexing import mark_for_reindex
from repository.models import (
    AccessLevel,
    AccessRule,
    Collection,
    Group,
    Item,
    ReadingRoom,
    User,
)


@dataclass(frozen=True)
class RuleChange:
    """The rights to set; None leaves a field as it is (or at its default for a new rule)."""

    metadata: AccessLevel | None = None
    view: AccessLevel | None = None
    download: AccessLevel | None = None
    groups: list[str] | None = None
    embargo_until: date | None = None
    clear_embargo: bool = False
    watermark: bool | None = None


def set_rule(session: Session, actor: User | None, change: RuleChange, *,
             collection: Collection | None = None, item: Item | None = None) -> AccessRule:
    """Create or change the rule of ``collection`` or ``item`` and refresh affected items."""
    if (collection is None) == (item is None):
        raise ValueError("set_rule needs exactly one of collection or item")
    rule = _own_rule(session, collection, item) or AccessRule(
        collection_id=collection.id if collection else None, item_id=item.id if item else None)
    old = describe(rule) if rule.id else None
    apply_change(session, rule, change)
    session.add(rule)
    session.flush()
    target = ("collection", collection.slug) if collection else ("item", item.handle)
    audit.record(session, actor, "rights.set", target[0], target[1], old=old, new=describe(rule))
    refresh_effective_rules(session)
    mark_for_reindex(session, session.scalars(
        select(Item.id).where(Item.effective_rule_id == rule.id)))
    return rule


def remove_item_rule(session: Session, actor: User | None, item: Item) -> None:
    """Let the item follow its collection's rule again."""
    rule = _own_rule(session, None, item)
    if rule is None:
        return
    audit.record(session, actor, "rights.remove", "item", item.handle, old=describe(rule))
    session.delete(rule)
    session.flush()
    refresh_effective_rules(session)
    mark_for_reindex(session, [item.id])


def _own_rule(session, collection, item) -> AccessRule | None:
    column, value = ((AccessRule.collection_id, collection.id) if collection
                     else (AccessRule.item_id, item.id))
    return session.scalar(select(AccessRule).where(column == value))


def apply_change(session: Session, rule: AccessRule, change: RuleChange) -> None:
    for field, value in (("metadata_level", change.metadata), ("view_level", change.view),
                         ("download_level", change.download), ("watermark", change.watermark)):
        if value is not None:
            setattr(rule, field, value)
    if change.clear_embargo:
        rule.embargo_until = None
    elif change.embargo_until is not None:
        rule.embargo_until = change.embargo_until
    if change.groups is not None:
        rule.groups = _groups_named(session, change.groups)
    if AccessLevel.GROUPS in (rule.metadata_level, rule.view_level, rule.download_level) \
            and not rule.groups:
        raise InvalidInput(N_("The level 'groups' needs at least one group"))


def _groups_named(session: Session, names: list[str]) -> list[Group]:
    wanted = sorted({name.strip() for name in names if name.strip()})
    found = list(session.scalars(select(Group).where(Group.name.in_(wanted))))
    unknown = sorted(set(wanted) - {group.name for group in found})
    if unknown:
        raise NotFound(N_("No group named '%(name)s'"), name=unknown[0])
    return found


def describe(rule: AccessRule) -> dict:
    """The rule as plain values, for the audit log and `khoso rights show`."""
    return {
        "metadata": rule.metadata_level.value if rule.metadata_level else None,
        "view": rule.view_level.value if rule.view_level else None,
        "download": rule.download_level.value if rule.download_level else None,
        "groups": [group.name for group in rule.groups],
        "embargo_until": rule.embargo_until.isoformat() if rule.embargo_until else None,
        "watermark": bool(rule.watermark),
    }


def refresh_effective_rules(session: Session) -> None:
    """Point every item at the rule in force: its own, else the nearest collection's.

    One UPDATE per collection; the collection tree is small, items may be many."""
    session.flush()
    rules_by_collection = dict(session.execute(
        select(AccessRule.collection_id, AccessRule.id)
        .where(AccessRule.collection_id.is_not(None))).all())
    parents = dict(session.execute(select(Collection.id, Collection.parent_id)).all())
    items_with_own_rule = select(AccessRule.item_id).where(AccessRule.item_id.is_not(None))
    for collection_id in parents:
        session.execute(
            update(Item).where(Item.collection_id == collection_id,
                               Item.id.not_in(items_with_own_rule))
            .values(effective_rule_id=_inherited(collection_id, rules_by_collection, parents)))
    for item_id, rule_id in session.execute(
            select(AccessRule.item_id, AccessRule.id).where(AccessRule.item_id.is_not(None))):
        session.execute(update(Item).where(Item.id == item_id)
                        .values(effective_rule_id=rule_id))
    session.expire_all()


def inherited_rule_id(session: Session, collection: Collection) -> int | None:
    """The rule a new item of ``collection`` follows: the nearest collection rule up the tree."""
    rules_by_collection = dict(session.execute(
        select(AccessRule.collection_id, AccessRule.id)
        .where(AccessRule.collection_id.is_not(None))).all())
    parents = dict(session.execute(select(Collection.id, Collection.parent_id)).all())
    return _inherited(collection.id, rules_by_collection, parents)


def _inherited(collection_id, rules_by_collection, parents) -> int | None:
    seen = set()
    while collection_id is not None and collection_id not in seen:
        if collection_id in rules_by_collection:
            return rules_by_collection[collection_id]
        seen.add(collection_id)
        collection_id = parents.get(collection_id)
    return None


def set_reading_room(session: Session, actor: User | None, name: str,
                     networks: list[str]) -> ReadingRoom:
    """Create or replace a reading room's networks (IPv4 or IPv6 CIDR blocks)."""
    cleaned = [str(_network(text)) for text in networks if text.strip()]
    room = session.scalar(select(ReadingRoom).where(ReadingRoom.name == name))
    old = room.network_list() if room else None
    if room is None:
        room = ReadingRoom(name=name)
        session.add(room)
    room.networks = "\n".join(cleaned)
    session.flush()
    audit.record(session, actor, "reading_room.set", "reading_room", name,
                 old={"networks": old} if old is not None else None, new={"networks": cleaned})
    return room


def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError as exc:
        raise InvalidInput(
            N_("'%(network)s' is not a network such as 10.1.2.0/24 or 2001:db8::/48"),
            network=text.strip()) from exc


def reading_room_networks(session: Session) -> list:
    networks = []
    for room in session.scalars(select(ReadingRoom)):
        networks.extend(ipaddress.ip_network(text) for text in room.network_list())
    return networks


def is_onsite(address: str | None, networks: list) -> bool:
    """True when ``address`` lies in one of the reading rooms' networks (IPv4 or IPv6)."""
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if getattr(ip, "ipv4_mapped", None):
        ip = ip.ipv4_mapped
    return any(ip.version == network.version and ip in network for network in networks)
