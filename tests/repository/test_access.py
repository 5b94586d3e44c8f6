"""The access policy: each level for each identity, embargo, inheritance — and the SQL filter
giving exactly the same answers as the item check, on SQLite and PostgreSQL."""

from datetime import date

import pytest
from sqlalchemy import func, select

from repository import collections, items
from repository.access import Action, Identity, Policy
from repository.access_rules import (
    RuleChange,
    is_onsite,
    reading_room_networks,
    remove_item_rule,
    set_reading_room,
    set_rule,
)
from repository.db import Database
from repository.dublin_core import Statement
from repository.errors import InvalidInput, NotFound
from repository.models import AccessLevel, Group, Item, ItemStatus, Role

IDENTITIES = {
    "anonymous": Identity.anonymous(),
    "anonymous-onsite": Identity.anonymous(onsite=True),
    "reader": Identity(user_id=10, role=Role.READER),
    "researcher": Identity(user_id=11, role=Role.READER, groups=frozenset({"researchers"})),
    "staff": Identity(user_id=12, role=Role.STAFF),
    "admin": Identity(user_id=13, role=Role.ADMIN),
}

# level -> identities granted
GRANTED = {
    AccessLevel.OPEN: set(IDENTITIES),
    AccessLevel.READERS: {"reader", "researcher", "staff", "admin"},
    AccessLevel.GROUPS: {"researcher", "staff", "admin"},
    AccessLevel.ONSITE: {"anonymous-onsite", "staff", "admin"},
    AccessLevel.STAFF: {"staff", "admin"},
}


@pytest.fixture
def database(any_database_url):
    database = Database(any_database_url)
    yield database
    database.dispose()


def published_item(session, collection, title="Tài liệu"):
    item = items.create_item(session, collection, [Statement("title", title)])
    items.change_status(session, item, ItemStatus.PUBLISHED)
    return item


def visible_by_filter(session, policy, identity, action, item) -> bool:
    condition = (Item.id == item.id) & policy.item_filter(identity, action)
    return session.scalar(select(func.count(Item.id)).where(condition)) == 1


def assert_agrees(session, policy, identity, action, item, expected):
    assert policy.can(identity, action, item) is expected
    assert visible_by_filter(session, policy, identity, action, item) is expected


@pytest.mark.parametrize("level", list(AccessLevel), ids=lambda level: level.value)
def test_each_level_grants_exactly_its_identities(database, level):
    policy = Policy()
    with database.session() as session:
        session.add(Group(name="researchers", title="Nhà nghiên cứu"))
        collection = collections.create_collection(session, slug="c", title="C")
        item = published_item(session, collection)
        set_rule(session, None, RuleChange(metadata=AccessLevel.OPEN, view=level, download=level,
                                           groups=["researchers"]), collection=collection)
        session.refresh(item)
        for name, identity in IDENTITIES.items():
            expected = name in GRANTED[level]
            assert_agrees(session, policy, identity, Action.SEE_METADATA, item, True)
            assert_agrees(session, policy, identity, Action.VIEW_PAGES, item, expected)
            assert_agrees(session, policy, identity, Action.DOWNLOAD, item, expected)


def test_rights_build_on_each_other(database):
    """Download granted to all but viewing to staff: nobody else may download either."""
    policy = Policy()
    with database.session() as session:
        collection = collections.create_collection(session, slug="c", title="C")
        item = published_item(session, collection)
        set_rule(session, None, RuleChange(metadata=AccessLevel.READERS, view=AccessLevel.STAFF,
                                           download=AccessLevel.OPEN), collection=collection)
        session.refresh(item)
        reader = IDENTITIES["reader"]
        assert_agrees(session, policy, reader, Action.SEE_METADATA, item, True)
        assert_agrees(session, policy, reader, Action.DOWNLOAD, item, False)
        assert_agrees(session, policy, IDENTITIES["anonymous"], Action.SEE_METADATA, item, False)


def test_items_without_any_rule_are_staff_only(database):
    policy = Policy()
    with database.session() as session:
        collection = collections.create_collection(session, slug="c", title="C")
        item = published_item(session, collection)
        assert item.effective_rule_id is None
        for name, identity in IDENTITIES.items():
            assert_agrees(session, policy, identity, Action.SEE_METADATA, item,
                          name in {"staff", "admin"})


def test_edit_is_for_staff_only(database):
    with database.session() as session:
        collection = collections.create_collection(session, slug="c", title="C")
        set_rule(session, None, RuleChange(metadata=AccessLevel.OPEN, view=AccessLevel.OPEN,
                                           download=AccessLevel.OPEN), collection=collection)
        item = published_item(session, collection)
        assert not Policy().can(IDENTITIES["reader"], Action.EDIT, item)
        assert not visible_by_filter(session, Policy(), IDENTITIES["reader"], Action.EDIT, item)
        assert Policy().can(IDENTITIES["staff"], Action.EDIT, item)


def test_drafts_are_hidden_whatever_the_rule(database):
    with database.session() as session:
        collection = collections.create_collection(session, slug="c", title="C")
        set_rule(session, None, RuleChange(metadata=AccessLevel.OPEN), collection=collection)
        draft = items.create_item(session, collection, [Statement("title", "Nháp")])
        assert_agrees(session, Policy(), IDENTITIES["reader"], Action.SEE_METADATA, draft, False)
        assert_agrees(session, Policy(), IDENTITIES["staff"], Action.SEE_METADATA, draft, True)


def test_sub_collections_inherit_and_items_override(database):
    policy = Policy()
    anonymous = IDENTITIES["anonymous"]
    with database.session() as session:
        parent = collections.create_collection(session, slug="p", title="P")
        child = collections.create_collection(session, slug="k", title="K", parent_slug="p")
        set_rule(session, None, RuleChange(metadata=AccessLevel.OPEN, view=AccessLevel.OPEN),
                 collection=parent)
        inherited = published_item(session, child, "Kế thừa")
        overridden = published_item(session, child, "Riêng")
        set_rule(session, None, RuleChange(metadata=AccessLevel.STAFF), item=overridden)
        session.refresh(inherited)
        session.refresh(overridden)
        assert_agrees(session, policy, anonymous, Action.VIEW_PAGES, inherited, True)
        assert_agrees(session, policy, anonymous, Action.SEE_METADATA, overridden, False)
        remove_item_rule(session, None, overridden)
        session.refresh(overridden)
        assert_agrees(session, policy, anonymous, Action.SEE_METADATA, overridden, True)


def test_embargo_lifts_at_its_date(database):
    anonymous = IDENTITIES["anonymous"]
    with database.session() as session:
        collection = collections.create_collection(session, slug="c", title="C")
        item = published_item(session, collection)
        set_rule(session, None, RuleChange(metadata=AccessLevel.OPEN, view=AccessLevel.OPEN,
                                           embargo_until=date(2030, 1, 1)), collection=collection)
        session.refresh(item)
        before = Policy(today=lambda: date(2029, 12, 31))
        on_the_day = Policy(today=lambda: date(2030, 1, 1))
        assert_agrees(session, before, anonymous, Action.SEE_METADATA, item, False)
        assert_agrees(session, before, IDENTITIES["staff"], Action.VIEW_PAGES, item, True)
        assert_agrees(session, on_the_day, anonymous, Action.VIEW_PAGES, item, True)


def test_groups_level_needs_groups_that_exist(database):
    with database.session() as session:
        collection = collections.create_collection(session, slug="c", title="C")
        with pytest.raises(InvalidInput, match="at least one group"):
            set_rule(session, None, RuleChange(view=AccessLevel.GROUPS), collection=collection)
        with pytest.raises(NotFound, match="ghosts"):
            set_rule(session, None, RuleChange(view=AccessLevel.GROUPS, groups=["ghosts"]),
                     collection=collection)


def test_rule_changes_are_audited(database):
    from repository.models import AuditEvent
    with database.session() as session:
        collection = collections.create_collection(session, slug="c", title="C")
        set_rule(session, None, RuleChange(view=AccessLevel.READERS), collection=collection)
        set_rule(session, None, RuleChange(view=AccessLevel.STAFF), collection=collection)
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "rights.set")
                                 .order_by(AuditEvent.id)).all()
        assert events[-1].old["view"] == "readers" and events[-1].new["view"] == "staff"


def test_reading_room_networks_ipv4_and_ipv6(database):
    with database.session() as session:
        set_reading_room(session, None, "Phòng đọc tầng 2", ["10.20.0.0/16", "2001:db8:5::/48"])
        with pytest.raises(InvalidInput, match="not a network"):
            set_reading_room(session, None, "Sai", ["10.0.0.300/8"])
        networks = reading_room_networks(session)
    assert is_onsite("10.20.3.4", networks)
    assert is_onsite("::ffff:10.20.3.4", networks)
    assert is_onsite("2001:db8:5::17", networks)
    assert not is_onsite("10.21.0.1", networks)
    assert not is_onsite("2001:db8:6::1", networks)
    assert not is_onsite("not an address", networks)
    assert not is_onsite(None, networks)


def test_watermark_names_the_reader_and_the_day(database):
    with database.session() as session:
        collection = collections.create_collection(session, slug="c", title="C")
        set_rule(session, None, RuleChange(metadata=AccessLevel.OPEN, watermark=True),
                 collection=collection)
        item = published_item(session, collection)
        session.refresh(item)
        policy = Policy(today=lambda: date(2026, 11, 26))
        reader = Identity(user_id=3, role=Role.READER, card_number="HT-0042")
        assert policy.watermark_text(reader, item) == "HT-0042 2026-11-26"
