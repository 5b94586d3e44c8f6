"""The administration services on SQLite and PostgreSQL: groups, the collection tree, item
rights one and many at a time, reading rooms, account changes, the audit log query."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from repository import (
    account_admin,
    accounts,
    collection_admin,
    collections,
    groups,
    item_rights,
    items,
    reading_rooms,
)
from repository.access import Action, Identity, Policy
from repository.access_rules import RuleChange, set_rule
from repository.admin_overview import overview
from repository.audit_log import AuditQuery, changes, find_events, iter_events, target_names
from repository.db import Database
from repository.dublin_core import Statement
from repository.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from repository.models import (
    AccessLevel,
    AccountStatus,
    AuditEvent,
    Item,
    ItemStatus,
    Role,
)

ANONYMOUS = Identity.anonymous()
OPEN = RuleChange(metadata=AccessLevel.OPEN, view=AccessLevel.OPEN, download=AccessLevel.OPEN)
STAFF_ONLY = RuleChange(metadata=AccessLevel.STAFF, view=AccessLevel.STAFF,
                        download=AccessLevel.STAFF)


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch) -> None:
    monkeypatch.setattr(accounts, "DEFAULT_HASHER",
                        PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def database(any_database_url):
    database = Database(any_database_url)
    yield database
    database.dispose()


def person(session, username, role=Role.READER, **values):
    return accounts.create_user(session, username=username, password="correct horse battery",
                                role=role, **values)


def published(session, collection, title="Tài liệu"):
    item = items.create_item(session, collection, [Statement("title", title)])
    items.change_status(session, item, ItemStatus.PUBLISHED)
    return item


def events(session, action):
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                .order_by(AuditEvent.id)))


# -- groups ---------------------------------------------------------------------------------

def test_a_group_is_created_described_filled_and_deleted(database):
    with database.session() as session:
        staff = person(session, "thuthu", Role.STAFF)
        reader = person(session, "docgia")
        group = groups.create_group(session, staff, name="Researchers", title="Nhà nghiên cứu")
        assert group.name == "researchers"
        groups.update_group(session, staff, group, title="Nhà nghiên cứu Hán Nôm")
        groups.add_member(session, staff, group, "DocGia")
        groups.add_member(session, staff, group, "docgia")  # already in: no second event
        assert [member.username for member in group.members] == ["docgia"]
        assert [summary.member_count for summary in groups.list_groups(session)] == [1]
        groups.remove_member(session, staff, group, "docgia")
        groups.delete_group(session, staff, group)
        assert groups.list_groups(session) == []
        assert reader.groups == []

        assert events(session, "group.create")[0].new["title"] == "Nhà nghiên cứu"
        update = events(session, "group.update")[0]
        assert (update.old, update.new) == ({"title": "Nhà nghiên cứu"},
                                            {"title": "Nhà nghiên cứu Hán Nôm"})
        assert len(events(session, "group.member_add")) == 1
        assert events(session, "group.member_add")[0].new == {"member": "docgia"}
        assert events(session, "group.member_remove")[0].old == {"member": "docgia"}
        assert events(session, "group.delete")[0].actor_name == "thuthu"


@pytest.mark.parametrize(("name", "title", "error"), [
    ("a", "Tiêu đề", InvalidInput),
    ("có dấu", "Tiêu đề", InvalidInput),
    ("ok-name", "   ", InvalidInput),
    ("taken", "Tiêu đề", Conflict),
])
def test_group_names_and_titles_are_checked(database, name, title, error):
    with database.session() as session:
        groups.create_group(session, None, name="taken", title="Có rồi")
        with pytest.raises(error):
            groups.create_group(session, None, name=name, title=title)


def test_readers_cannot_manage_groups_and_unknown_members_are_reported(database):
    with database.session() as session:
        reader = person(session, "docgia")
        group = groups.create_group(session, None, name="g1", title="G")
        with pytest.raises(PermissionDenied):
            groups.add_member(session, reader, group, "docgia")
        with pytest.raises(NotFound):
            groups.add_member(session, None, group, "nobody")


def test_a_group_named_in_rights_cannot_be_deleted(database):
    with database.session() as session:
        group = groups.create_group(session, None, name="g1", title="G")
        collection = collections.create_collection(session, slug="c", title="C")
        set_rule(session, None, RuleChange(view=AccessLevel.GROUPS, groups=["g1"]),
                 collection=collection)
        with pytest.raises(Conflict):
            groups.delete_group(session, None, group)


# -- the collection tree --------------------------------------------------------------------

def tree(session):
    top = collections.create_collection(session, slug="top", title="Kho")
    middle = collections.create_collection(session, slug="middle", title="Giữa",
                                           parent_slug="top")
    low = collections.create_collection(session, slug="low", title="Dưới",
                                        parent_slug="middle")
    other = collections.create_collection(session, slug="other", title="Sách")
    return top, middle, low, other


def test_the_tree_lists_parents_before_children(database):
    with database.session() as session:
        top, middle, low, other = tree(session)
        published(session, low)
        nodes = collection_admin.collection_tree(session)
        assert [(n.collection.slug, n.depth, n.item_count) for n in nodes] == [
            ("top", 0, 0), ("middle", 1, 0), ("low", 2, 1), ("other", 0, 0)]
        assert collection_admin.subtree_ids(session, middle) == {middle.id, low.id}
        assert [c.slug for c in collection_admin.ancestors(low)] == ["top", "middle"]


@pytest.mark.parametrize("target", ["top", "middle", "low"])
def test_a_collection_cannot_move_under_itself_or_its_descendants(database, target):
    with database.session() as session:
        top, middle, low, _other = tree(session)
        parent = {"top": top, "middle": middle, "low": low}[target]
        with pytest.raises(InvalidInput):
            collection_admin.move_collection(session, None, top, parent)
        assert top.parent_id is None
        assert events(session, "collection.move") == []


def test_moving_a_collection_changes_the_rights_its_items_follow(database):
    with database.session() as session:
        top, middle, low, other = tree(session)
        set_rule(session, None, STAFF_ONLY, collection=top)
        set_rule(session, None, OPEN, collection=other)
        item = published(session, low)
        assert not Policy().can(ANONYMOUS, Action.VIEW_PAGES, item)
        collection_admin.move_collection(session, None, middle, other)
        session.refresh(item)
        assert Policy().can(ANONYMOUS, Action.VIEW_PAGES, item)
        move = events(session, "collection.move")[0]
        assert (move.target_id, move.old, move.new) == (
            "middle", {"parent": "top"}, {"parent": "other"})
        collection_admin.move_collection(session, None, middle, None)
        assert middle.parent_id is None
        session.refresh(item)
        assert item.effective_rule_id is None


def test_renaming_audits_only_what_changed(database):
    with database.session() as session:
        collection = collections.create_collection(session, slug="c", title="Cũ")
        collection_admin.rename_collection(session, None, collection, title="Mới",
                                           title_en="New")
        collection_admin.rename_collection(session, None, collection, title="Mới",
                                           title_en="New")
        renamed = events(session, "collection.update")
        assert len(renamed) == 1
        assert renamed[0].old == {"title": "Cũ", "title_en": None}
        assert renamed[0].new == {"title": "Mới", "title_en": "New"}
        with pytest.raises(InvalidInput):
            collection_admin.rename_collection(session, None, collection, title=" ")


def test_removing_a_collection_rule_lets_items_follow_the_parent(database):
    with database.session() as session:
        top, middle, _low, _other = tree(session)
        set_rule(session, None, OPEN, collection=top)
        set_rule(session, None, STAFF_ONLY, collection=middle)
        item = published(session, middle)
        assert not Policy().can(ANONYMOUS, Action.SEE_METADATA, item)
        in_force = item_rights.collection_rights_in_force(session, middle)
        assert in_force.own
        collection_admin.remove_collection_rule(session, None, middle)
        session.refresh(item)
        assert Policy().can(ANONYMOUS, Action.SEE_METADATA, item)
        in_force = item_rights.collection_rights_in_force(session, middle)
        assert (in_force.own, in_force.source.slug) == (False, "top")
        assert events(session, "rights.remove")[0].old["metadata"] == "staff"


# -- item rights ----------------------------------------------------------------------------

def test_bulk_rights_apply_to_the_chosen_items_only(database):
    with database.session() as session:
        collection = collections.create_collection(session, slug="c", title="C")
        set_rule(session, None, OPEN, collection=collection)
        first, second, third = (published(session, collection, f"Tập {n}") for n in (1, 2, 3))
        count = item_rights.set_rules_of(session, None, collection,
                                         [first.handle, second.handle], STAFF_ONLY)
        assert count == 2
    with database.session() as session:
        policy = Policy()
        found = {item.handle: item for item in session.scalars(select(Item))}
        assert not policy.can(ANONYMOUS, Action.SEE_METADATA, found[first.handle])
        assert not policy.can(ANONYMOUS, Action.SEE_METADATA, found[second.handle])
        assert policy.can(ANONYMOUS, Action.SEE_METADATA, found[third.handle])
        assert session.scalar(select(Item.id).where(
            policy.item_filter(ANONYMOUS), Item.handle == first.handle)) is None
        set_events = [e for e in events(session, "rights.set") if e.target_type == "item"]
        assert sorted(e.target_id for e in set_events) == sorted([first.handle, second.handle])
        assert all(e.old is None and e.new["view"] == "staff" for e in set_events)

        collection = collections.get_collection(session, "c")
        assert item_rights.follow_collection(
            session, None, collection, [first.handle, third.handle]) == 1
        session.expire_all()
        assert policy.can(ANONYMOUS, Action.SEE_METADATA, session.get(Item, first.id))
        assert [e.target_id for e in events(session, "rights.remove")] == [first.handle]


def test_bulk_rights_refuse_an_empty_or_foreign_selection(database):
    with database.session() as session:
        mine = collections.create_collection(session, slug="mine", title="M")
        theirs = collections.create_collection(session, slug="theirs", title="T")
        foreign = published(session, theirs)
        with pytest.raises(InvalidInput):
            item_rights.set_rules_of(session, None, mine, [], OPEN)
        with pytest.raises(NotFound):
            item_rights.set_rules_of(session, None, mine, [foreign.handle], OPEN)


def test_bulk_rights_need_a_group_for_the_groups_level(database):
    with database.session() as session:
        collection = collections.create_collection(session, slug="c", title="C")
        item = published(session, collection)
        with pytest.raises(InvalidInput):
            item_rights.set_rules_of(session, None, collection, [item.handle],
                                     RuleChange(view=AccessLevel.GROUPS, groups=[]))


def test_rights_in_force_and_who_may(database):
    with database.session() as session:
        groups.create_group(session, None, name="researchers", title="Nhà nghiên cứu")
        collection = collections.create_collection(session, slug="c", title="C")
        item = published(session, collection)
        assert item_rights.rights_in_force(session, item).rule is None
        set_rule(session, None, RuleChange(metadata=AccessLevel.OPEN, view=AccessLevel.GROUPS,
                                           download=AccessLevel.STAFF, groups=["researchers"]),
                 collection=collection)
        item = item_rights.get_item(session, item.handle)
        in_force = item_rights.rights_in_force(session, item)
        assert (in_force.own, in_force.source.slug) == (False, "c")
        who = item_rights.who_may(Policy(), item)
        assert who["anonymous"] == {"see_metadata": True, "view_pages": False,
                                    "download": False}
        assert who["group_member"]["view_pages"] is True
        assert who["group_member"]["download"] is False


# -- reading rooms, accounts, overview ------------------------------------------------------

def test_reading_rooms_are_saved_checked_and_deleted(database):
    with database.session() as session:
        room = reading_rooms.save_reading_room(session, None, "Phòng đọc 1",
                                               "10.1.2.0/24\n\n 2001:db8::/48 ")
        assert room.network_list() == ["10.1.2.0/24", "2001:db8::/48"]
        with pytest.raises(InvalidInput):
            reading_rooms.save_reading_room(session, None, "Phòng đọc 2", "10.1.2.300/24")
        with pytest.raises(InvalidInput):
            reading_rooms.save_reading_room(session, None, "  ", "10.0.0.0/8")
        reading_rooms.delete_reading_room(session, None, room)
        assert reading_rooms.list_reading_rooms(session) == []
        deleted = events(session, "reading_room.delete")[0]
        assert deleted.old == {"networks": ["10.1.2.0/24", "2001:db8::/48"]}


def test_an_account_change_is_audited_part_by_part(database):
    with database.session() as session:
        admin = person(session, "quantri", Role.ADMIN)
        reader = person(session, "docgia")
        change = account_admin.AccountChange(
            display_name="Lê Thị B", card_number="tv-42", expires_on=date(2031, 1, 31),
            status=AccountStatus.DISABLED, role=Role.STAFF)
        account_admin.update_account(session, admin, reader, change)
        assert (reader.card_number, reader.role, reader.status) == (
            "TV-42", Role.STAFF, AccountStatus.DISABLED)
        actions = [e.action for e in session.scalars(
            select(AuditEvent).where(AuditEvent.target_id == str(reader.id))
            .order_by(AuditEvent.id))]
        assert actions == ["user.create", "user.update", "user.expiry", "user.status",
                           "user.role"]
        update = events(session, "user.update")[0]
        assert update.new == {"display_name": "Lê Thị B", "card_number": "TV-42"}


def test_staff_change_readers_but_not_roles_or_staff(database):
    with database.session() as session:
        staff = person(session, "thuthu", Role.STAFF)
        colleague = person(session, "dongnghiep", Role.STAFF)
        reader = person(session, "docgia")
        person(session, "khac", card_number="TV-1")
        keep = dict(display_name="", card_number=None, expires_on=None,
                    status=AccountStatus.ACTIVE)
        with pytest.raises(accounts.AccountForbidden):
            account_admin.update_account(session, staff, reader,
                                         account_admin.AccountChange(**keep, role=Role.ADMIN))
        with pytest.raises(accounts.AccountForbidden):
            account_admin.update_account(session, staff, colleague,
                                         account_admin.AccountChange(**keep))
        with pytest.raises(accounts.AccountConflict) as taken:
            account_admin.update_account(session, staff, reader, account_admin.AccountChange(
                **{**keep, "card_number": "tv-1"}))
        assert taken.value.field == "card_number"
        assert account_admin.may_manage(staff, reader)
        assert not account_admin.may_manage(staff, colleague)


def test_a_pending_account_set_active_is_approved(database):
    with database.session() as session:
        staff = person(session, "thuthu", Role.STAFF)
        waiting = person(session, "cho", status=AccountStatus.PENDING)
        account_admin.update_account(session, staff, waiting, account_admin.AccountChange(
            display_name="", card_number=None, expires_on=None, status=AccountStatus.ACTIVE))
        assert waiting.status is AccountStatus.ACTIVE
        assert len(events(session, "user.approve")) == 1


def test_users_are_found_by_role_status_and_text(database):
    with database.session() as session:
        person(session, "nguyen", display_name="Nguyễn Văn A", card_number="TV-7")
        person(session, "tran", display_name="Trần Thị B", status=AccountStatus.DISABLED)
        person(session, "thuthu", Role.STAFF)
        find = account_admin.find_users

        def names(query, **kwargs):
            return [u.username for u in find(session, query, **kwargs).users]

        assert names(account_admin.UserQuery(text="Nguyễn")) == ["nguyen"]
        assert names(account_admin.UserQuery(text="tv-7")) == ["nguyen"]
        assert names(account_admin.UserQuery(text="%")) == []
        assert names(account_admin.UserQuery(role=Role.STAFF)) == ["thuthu"]
        assert names(account_admin.UserQuery(status=AccountStatus.DISABLED)) == ["tran"]
        page = find(session, account_admin.UserQuery(), page=2, per_page=2)
        assert (page.total, page.pages, [u.username for u in page.users]) == (3, 2, ["tran"])


def test_the_overview_counts(database):
    with database.session() as session:
        person(session, "cho", status=AccountStatus.PENDING)
        collection = collections.create_collection(session, slug="c", title="C")
        published(session, collection)
        items.create_item(session, collection, [Statement("title", "Nháp")])
        figures = overview(session)
        assert (figures.pending_registrations, figures.users, figures.collections) == (1, 1, 1)
        assert figures.items_by_status["published"] == 1
        assert figures.items_by_status["draft"] == 1
        assert figures.items == 2


# -- the audit log --------------------------------------------------------------------------

def logged(session, action, at, actor="thuthu", target_type="group", target_id="g1",
           old=None, new=None):
    session.add(AuditEvent(action=action, at=at, actor_name=actor, target_type=target_type,
                           target_id=target_id, old=old, new=new))


def test_the_audit_log_filters(database):
    with database.session() as session:
        reader = person(session, "docgia")
        logged(session, "rights.set", datetime(2024, 1, 1, 16, 59, tzinfo=UTC))  # 23:59 VN
        logged(session, "rights.remove", datetime(2024, 1, 1, 17, 0, tzinfo=UTC))  # 2 Jan VN
        logged(session, "group.create", datetime(2024, 1, 3, 3, 0, tzinfo=UTC), actor="khac")
        logged(session, "user_role", datetime(2024, 1, 4, tzinfo=UTC))  # "_" is not a wildcard
        logged(session, "user.role", datetime(2024, 1, 5, tzinfo=UTC), target_type="user",
               target_id=str(reader.id), old={"role": "reader"}, new={"role": "staff"})

        def found(**query):
            return [e.action for e in find_events(session, AuditQuery(**query)).events
                    if e.actor_name != "system"]

        assert found(action="rights.") == ["rights.remove", "rights.set"]
        assert found(action="user.") == ["user.role"]
        assert found(actor="KHAC") == ["group.create"]
        assert found(target="docgia") == ["user.role"]
        assert found(target_type="group", target="g1", since=date(2024, 1, 2),
                     until=date(2024, 1, 3)) == ["group.create", "rights.remove"]
        assert found(until=date(2024, 1, 1)) == ["rights.set"]
        chunks = list(iter_events(session, AuditQuery(action="rights."), chunk=1))
        assert [len(chunk) for chunk in chunks] == [1, 1]
        role_event = find_events(session, AuditQuery(action="user.role")).events
        assert [(c.key, c.old, c.new) for c in changes(role_event[0])] == [
            ("role", "reader", "staff")]
        assert target_names(session, role_event) == {("user", str(reader.id)): "docgia"}


def test_changes_show_only_what_differs():
    event = AuditEvent(old={"view": "open", "download": "readers", "watermark": False},
                       new={"view": "staff", "download": "readers", "watermark": True})
    assert [(c.key, c.old, c.new) for c in changes(event)] == [
        ("view", "open", "staff"), ("watermark", False, True)]
    created = AuditEvent(old=None, new={"title": "Mới", "reason": "", "groups": [],
                                        "watermark": False})
    assert [(c.key, c.old, c.new) for c in changes(created)] == [
        ("title", None, "Mới"), ("watermark", None, False)]


def test_items_are_named_and_found_by_handle_in_the_log(database):
    with database.session() as session:
        collection = collections.create_collection(session, slug="c", title="C")
        item = published(session, collection, "Đại Nam nhất thống chí")
        set_rule(session, None, OPEN, item=item)
        found = find_events(session, AuditQuery(target=item.handle)).events
        assert sorted(e.action for e in found) == ["item.create", "item.status", "rights.set"]
        names = target_names(session, found)
        assert set(names.values()) == {"Đại Nam nhất thống chí"}
        collection_admin.rename_collection(session, None, collection, title="Địa chí")
        found = find_events(session, AuditQuery(target="c", target_type="collection")).events
        assert sorted(e.action for e in found) == ["collection.create", "collection.update"]
        assert set(target_names(session, found).values()) == {"Địa chí"}
