"""Administration in the browser: who may enter, every page, every change audited with old →
new, CSRF, bulk rights that the policy then follows, the audit log's filters and CSV."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from repository import accounts, collections, groups, items, reading_rooms
from repository.access import Action, Identity, Policy
from repository.access_rules import RuleChange, set_rule
from repository.dublin_core import Statement
from repository.models import (
    AccessLevel,
    AccountStatus,
    AuditEvent,
    Collection,
    Group,
    Item,
    ItemStatus,
    ReadingRoom,
    Role,
    User,
)
from tests.conftest import make_test_app
from viewer import admin

PASSWORD = "correct horse battery"
HOSTILE = "<script>alert(1)</script>"
OPEN = {"metadata": "open", "view": "open", "download": "open"}


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch) -> None:
    monkeypatch.setattr(accounts, "DEFAULT_HASHER",
                        PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


def build(tmp_path, database_url, **overrides):
    application = make_test_app(tmp_path, database_url, **overrides)
    if "admin" not in application.blueprints:
        application.register_blueprint(admin.bp)
    return application


@pytest.fixture
def app(tmp_path, database_url):
    application = build(tmp_path, database_url)
    seed(application)
    yield application
    application.extensions["khoso"].db.dispose()


def seed(app) -> None:
    """Two staff members, a reader, a group, a small tree with three published items."""
    with app.app_context(), app.extensions["khoso"].db.session() as session:
        for username, role in (("quantri", Role.ADMIN), ("thuthu", Role.STAFF),
                               ("dongnghiep", Role.STAFF), ("docgia", Role.READER)):
            accounts.create_user(session, username=username, password=PASSWORD, role=role,
                                 display_name=f"Tên {username}")
        groups.create_group(session, None, name="researchers", title="Nhà nghiên cứu")
        top = collections.create_collection(session, slug="han-nom", title="Hán Nôm")
        child = collections.create_collection(session, slug="sac-phong", title="Sắc phong",
                                              parent_slug="han-nom")
        set_rule(session, None, RuleChange(**{k: AccessLevel(v) for k, v in OPEN.items()}),
                 collection=top)
        for number in (1, 2, 3):
            item = items.create_item(session, child, [Statement("title", f"Sắc phong {number}")])
            items.change_status(session, item, ItemStatus.PUBLISHED)
        reading_rooms.save_reading_room(session, None, "Phòng đọc tầng 2", "10.1.2.0/24")


def browser(app, username: str | None = "thuthu"):
    client = app.test_client()
    client.get("/lang/en")
    if username:
        response = client.post("/login", data={"username": username, "password": PASSWORD})
        assert response.status_code == 302
    return client


def text(response) -> str:
    return response.get_data(as_text=True)


def query(app, statement):
    with app.extensions["khoso"].db.session() as session:
        return session.scalar(statement)


def query_all(app, statement):
    with app.extensions["khoso"].db.session() as session:
        return list(session.scalars(statement))


def handles(app) -> list[str]:
    return query_all(app, select(Item.handle).order_by(Item.id))


def user_id(app, username) -> int:
    return query(app, select(User.id).where(User.username == username))


def last_event(app, action) -> AuditEvent:
    return query(app, select(AuditEvent).where(AuditEvent.action == action)
                 .order_by(AuditEvent.id.desc()).limit(1))


def room_id(app, name="Phòng đọc tầng 2") -> int:
    return query(app, select(ReadingRoom.id).where(ReadingRoom.name == name))


def admin_pages(app) -> list[str]:
    return ["/admin/", "/admin/users", f"/admin/users/{user_id(app, 'docgia')}",
            "/admin/users/new", "/admin/groups", "/admin/groups/researchers",
            "/admin/collections", "/admin/collections/sac-phong",
            "/admin/collections/sac-phong/items", f"/admin/items/{handles(app)[0]}/rights",
            "/admin/reading-rooms", f"/admin/reading-rooms/{room_id(app)}", "/admin/audit"]


# -- who may enter --------------------------------------------------------------------------

@pytest.mark.parametrize("username", ["thuthu", "quantri"])
def test_every_page_renders_for_staff(app, username):
    client = browser(app, username)
    for path in admin_pages(app):
        response = client.get(path)
        assert response.status_code == 200, path
        page = text(response)
        assert "style=" not in page and "<script>" not in page, path
        assert 'href="/static/admin.css' in page


@pytest.mark.parametrize(("username", "status"), [(None, 302), ("docgia", 403)])
def test_others_are_kept_out(app, username, status):
    client = browser(app, username)
    for path in admin_pages(app):
        response = client.get(path)
        assert response.status_code == status, path
        if username is None:
            assert response.headers["Location"].startswith("/login?next=%2Fadmin")
    response = client.post("/admin/groups", data={"name": "x1", "title": "X"})
    assert response.status_code == status
    assert query(app, select(Group.id).where(Group.name == "x1")) is None


def test_csrf_is_enforced(tmp_path, database_url):
    app = build(tmp_path, database_url, WTF_CSRF_ENABLED=True)
    seed(app)
    client = app.test_client()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      text(client.get("/login"))).group(1)
    client.post("/login", data={"username": "thuthu", "password": PASSWORD,
                                "csrf_token": token})
    data = {"name": "forged", "title": "Forged"}
    assert client.post("/admin/groups", data=data).status_code == 400
    assert client.post(f"/admin/reading-rooms/{room_id(app)}/delete").status_code == 400
    assert query(app, select(Group.id).where(Group.name == "forged")) is None
    page = text(client.get("/admin/groups"))
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/admin/groups", data={**data, "csrf_token": token}).status_code == 302
    assert query(app, select(Group.id).where(Group.name == "forged")) is not None
    app.extensions["khoso"].db.dispose()


# -- accounts -------------------------------------------------------------------------------

def listed(page: str) -> set[str]:
    return set(re.findall(r'<a href="/admin/users/\d+">([^<]+)</a>', page))


def test_users_are_listed_with_filters_and_pages(app):
    client = browser(app)
    assert listed(text(client.get("/admin/users?role=staff"))) == {"thuthu", "dongnghiep"}
    assert listed(text(client.get("/admin/users?q=T%C3%AAn+docgia"))) == {"docgia"}
    assert listed(text(client.get("/admin/users?status=disabled"))) == set()
    # Bad filters are left out, never a 500.
    assert len(listed(text(client.get("/admin/users?status=bogus&role=bogus&page=x")))) == 4


def test_staff_edit_a_readers_account(app):
    client = browser(app)
    reader = user_id(app, "docgia")
    response = client.post(f"/admin/users/{reader}", data={
        "display_name": "Phạm Văn C", "card_number": "tv-2024", "expires_on": "2030-06-30",
        "status": "disabled", "role": "admin"})
    assert response.status_code == 302
    user = query(app, select(User).where(User.id == reader))
    assert (user.display_name, user.card_number, user.expires_on, user.status, user.role) == (
        "Phạm Văn C", "TV-2024", date(2030, 6, 30), AccountStatus.DISABLED, Role.READER)
    update = last_event(app, "user.update")
    assert update.old == {"display_name": "Tên docgia", "card_number": None}
    assert update.new == {"display_name": "Phạm Văn C", "card_number": "TV-2024"}
    assert (last_event(app, "user.expiry").old, last_event(app, "user.expiry").new) == (
        {"expires_on": None}, {"expires_on": "2030-06-30"})
    assert last_event(app, "user.status").new == {"status": "disabled"}
    assert last_event(app, "user.role") is None
    assert last_event(app, "user.update").actor_name == "thuthu"


def test_staff_cannot_manage_staff_or_roles(app):
    client = browser(app)
    colleague = user_id(app, "dongnghiep")
    page = text(client.get(f"/admin/users/{colleague}"))
    assert "Staff can only manage readers' accounts." in page
    assert 'name="role"' not in text(client.get(f"/admin/users/{user_id(app, 'docgia')}"))
    client.post(f"/admin/users/{colleague}", data={"display_name": "X", "status": "disabled"})
    assert query(app, select(User.status).where(User.id == colleague)) is AccountStatus.ACTIVE


def test_an_administrator_changes_a_role(app):
    client = browser(app, "quantri")
    reader = user_id(app, "docgia")
    response = client.post(f"/admin/users/{reader}", data={
        "display_name": "Tên docgia", "status": "active", "role": "staff"})
    assert response.status_code == 302
    event = last_event(app, "user.role")
    assert (event.actor_name, event.old, event.new) == ("quantri", {"role": "reader"},
                                                        {"role": "staff"})


def test_the_last_administrator_is_kept_and_errors_show_on_the_form(app):
    client = browser(app, "quantri")
    response = client.post(f"/admin/users/{user_id(app, 'quantri')}", data={
        "display_name": "", "status": "active", "role": "reader"})
    assert response.status_code == 200
    assert "At least one active administrator must remain." in text(response)
    response = client.post(f"/admin/users/{user_id(app, 'docgia')}", data={
        "display_name": "", "card_number": "có dấu", "status": "active", "role": "reader"})
    assert "A library card number has only letters" in text(response)


def test_creating_accounts(app):
    staff = browser(app)
    form = {"username": "moi", "password": PASSWORD, "confirm": PASSWORD, "role": "admin",
            "display_name": "Người mới"}
    assert 'name="role"' not in text(staff.get("/admin/users/new"))
    assert staff.post("/admin/users/new", data=form).status_code == 302
    assert query(app, select(User.role).where(User.username == "moi")) is Role.READER
    response = staff.post("/admin/users/new", data=form)
    assert "This username is already taken" in text(response)
    admin_client = browser(app, "quantri")
    admin_client.post("/admin/users/new", data={**form, "username": "nhanvien", "role": "staff"})
    assert query(app, select(User.role).where(User.username == "nhanvien")) is Role.STAFF
    assert last_event(app, "user.create").actor_name == "quantri"


# -- groups ---------------------------------------------------------------------------------

def test_groups_are_created_edited_filled_and_deleted(app):
    client = browser(app)
    response = client.post("/admin/groups", data={"name": "card-holders", "title": HOSTILE})
    assert response.headers["Location"] == "/admin/groups/card-holders"
    for path in ("/admin/groups", "/admin/groups/card-holders", "/admin/audit"):
        page = text(client.get(path))
        assert HOSTILE not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    client.post("/admin/groups/card-holders", data={"title": "Bạn đọc có thẻ"})
    assert (last_event(app, "group.update").old, last_event(app, "group.update").new) == (
        {"title": HOSTILE}, {"title": "Bạn đọc có thẻ"})
    client.post("/admin/groups/card-holders/members", data={"username": "docgia"})
    assert "docgia" in text(client.get("/admin/groups/card-holders"))
    response = client.post("/admin/groups/card-holders/members", data={"username": "ai-do"})
    assert "No account named &#39;ai-do&#39;" in text(response)
    client.post("/admin/groups/card-holders/members/docgia/remove")
    assert last_event(app, "group.member_remove").old == {"member": "docgia"}
    client.post("/admin/groups/card-holders/delete")
    assert query(app, select(Group.id).where(Group.name == "card-holders")) is None
    assert client.get("/admin/groups/card-holders").status_code == 404


def test_a_group_in_use_is_not_deleted(app):
    client = browser(app)
    client.post("/admin/collections/sac-phong/rights", data={
        "rule-metadata": "open", "rule-view": "groups", "rule-download": "groups",
        "rule-groups": "researchers"})
    response = client.post("/admin/groups/researchers/delete", follow_redirects=True)
    assert "Change them first." in text(response)
    assert query(app, select(Group.id).where(Group.name == "researchers")) is not None


# -- collections ----------------------------------------------------------------------------

def test_a_collection_is_created_renamed_and_moved(app):
    client = browser(app)
    response = client.post("/admin/collections", data={
        "slug": "dia-ba", "title": "Địa bạ", "parent": "han-nom"})
    assert response.headers["Location"] == "/admin/collections/dia-ba"
    assert last_event(app, "collection.create").new["parent"] == "han-nom"
    client.post("/admin/collections/dia-ba", data={
        "title": "Địa bạ triều Nguyễn", "title_en": "Land registers", "description": "",
        "description_en": ""})
    event = last_event(app, "collection.update")
    assert (event.old, event.new) == (
        {"title": "Địa bạ", "title_en": None},
        {"title": "Địa bạ triều Nguyễn", "title_en": "Land registers"})
    client.post("/admin/collections/dia-ba/move", data={"parent": ""})
    event = last_event(app, "collection.move")
    assert (event.old, event.new) == ({"parent": "han-nom"}, {"parent": None})
    tree = text(client.get("/admin/collections"))
    assert re.search(r'<td class="depth-0">\s*<a href="/admin/collections/dia-ba">', tree)


def test_moving_a_collection_under_itself_is_refused(app):
    client = browser(app)
    page = text(client.get("/admin/collections/han-nom"))
    assert 'value="sac-phong"' not in page  # not offered as a new place
    response = client.post("/admin/collections/han-nom/move", data={"parent": "sac-phong"})
    assert response.status_code == 200
    assert "cannot go under itself or one of its own sub-collections" in text(response)
    assert query(app, select(Collection.parent_id).where(Collection.slug == "han-nom")) is None
    assert last_event(app, "collection.move") is None


def test_default_rights_of_a_collection(app):
    client = browser(app)
    page = text(client.get("/admin/collections/sac-phong"))
    assert "This collection follows the rights of Hán Nôm." in page
    client.post("/admin/collections/sac-phong/rights", data={
        "rule-metadata": "readers", "rule-view": "readers", "rule-download": "staff",
        "rule-embargo_until": "2099-01-01", "rule-watermark": "y"})
    event = last_event(app, "rights.set")
    assert (event.target_type, event.target_id, event.old) == ("collection", "sac-phong", None)
    assert event.new["embargo_until"] == "2099-01-01" and event.new["watermark"] is True
    with app.extensions["khoso"].db.session() as session:
        item = session.scalar(select(Item).limit(1))
        assert not Policy().can(Identity.anonymous(), Action.SEE_METADATA, item)
    response = client.post("/admin/collections/sac-phong/rights", data={
        "rule-metadata": "open", "rule-view": "groups", "rule-download": "groups"})
    assert "The level &#39;groups&#39; needs at least one group" in text(response)
    client.post("/admin/collections/sac-phong/rights/remove")
    assert "This collection follows the rights of Hán Nôm." in text(
        client.get("/admin/collections/sac-phong"))


# -- item rights ----------------------------------------------------------------------------

def test_an_items_own_rights_are_set_and_removed(app):
    client = browser(app)
    handle = handles(app)[0]
    page = text(client.get(f"/admin/items/{handle}/rights"))
    assert "This item follows the rights of the collection Hán Nôm." in page
    client.post(f"/admin/items/{handle}/rights", data={
        "rule-metadata": "open", "rule-view": "onsite", "rule-download": "staff"})
    page = text(client.get(f"/admin/items/{handle}/rights"))
    assert "This item has its own rights." in page
    assert last_event(app, "rights.set").new["view"] == "onsite"
    client.post(f"/admin/items/{handle}/rights/remove")
    assert last_event(app, "rights.remove").old["view"] == "onsite"
    assert client.get("/admin/items/nope/rights").status_code == 404


def test_bulk_rights_apply_to_the_selected_items(app):
    client = browser(app)
    first, second, third = handles(app)
    response = client.post("/admin/collections/sac-phong/items", data={
        "handles": [first, second], "bulk-metadata": "staff", "bulk-view": "staff",
        "bulk-download": "staff", "bulk-apply": "y"})
    assert response.status_code == 302
    anonymous, policy = Identity.anonymous(), Policy()
    with app.extensions["khoso"].db.session() as session:
        found = {item.handle: item for item in session.scalars(select(Item))}
        assert not policy.can(anonymous, Action.SEE_METADATA, found[first])
        assert not policy.can(anonymous, Action.SEE_METADATA, found[second])
        assert policy.can(anonymous, Action.SEE_METADATA, found[third])
    rights = query_all(app, select(AuditEvent).where(AuditEvent.action == "rights.set",
                                                     AuditEvent.target_type == "item"))
    assert sorted(event.target_id for event in rights) == sorted([first, second])
    assert "2 items were given their own rights." in text(
        client.get("/admin/collections/sac-phong/items"))
    assert browser(app, None).get(f"/items/{first}").status_code == 404

    client.post("/admin/collections/sac-phong/items", data={
        "handles": [first], "bulk-metadata": "open", "bulk-view": "open",
        "bulk-download": "open", "bulk-follow": "y"})
    with app.extensions["khoso"].db.session() as session:
        item = session.scalar(select(Item).where(Item.handle == first))
        assert policy.can(anonymous, Action.SEE_METADATA, item)


def test_bulk_rights_need_a_selection(app):
    client = browser(app)
    response = client.post("/admin/collections/sac-phong/items", data={
        "bulk-metadata": "open", "bulk-view": "open", "bulk-download": "open",
        "bulk-apply": "y"})
    assert response.status_code == 200
    assert "Please select at least one item." in text(response)


# -- reading rooms --------------------------------------------------------------------------

def test_reading_rooms_are_added_edited_and_deleted(app):
    client = browser(app)
    client.post("/admin/reading-rooms", data={"name": "Phòng đọc thiếu nhi",
                                              "networks": "192.168.5.0/24\r\n10.9.0.0/16"})
    assert last_event(app, "reading_room.set").new == {
        "networks": ["192.168.5.0/24", "10.9.0.0/16"]}
    response = client.post("/admin/reading-rooms", data={"name": "X", "networks": "hello"})
    assert "&#39;hello&#39; is not a network" in text(response)
    room = room_id(app)
    client.post(f"/admin/reading-rooms/{room}", data={"networks": "10.1.3.0/24"})
    event = last_event(app, "reading_room.set")
    assert (event.old, event.new) == ({"networks": ["10.1.2.0/24"]},
                                      {"networks": ["10.1.3.0/24"]})
    client.post(f"/admin/reading-rooms/{room}/delete")
    assert last_event(app, "reading_room.delete").old == {"networks": ["10.1.3.0/24"]}
    assert f'href="/admin/reading-rooms/{room}"' not in text(client.get("/admin/reading-rooms"))


# -- the audit log --------------------------------------------------------------------------

def add_event(app, **values) -> None:
    with app.extensions["khoso"].db.session() as session:
        session.add(AuditEvent(**values))


def test_the_audit_log_shows_local_time_and_readable_changes(app):
    add_event(app, at=datetime(2024, 1, 1, 17, 30, tzinfo=UTC), actor_name="thuthu",
              action="rights.set", target_type="item", target_id="abc",
              old={"view": "open", "watermark": False}, new={"view": "staff", "watermark": True})
    page = text(browser(app).get("/admin/audit?target=abc"))
    assert "2024-01-02 00:30:00" in page  # Asia/Ho_Chi_Minh is UTC+7
    assert "Read the pages:</span> <del>Everyone</del> → <ins>Library staff only</ins>" in page
    assert "<del>off</del> → <ins>on</ins>" in page


def test_the_audit_log_filters(app):
    client = browser(app)
    client.post("/admin/groups", data={"name": "nhom-a", "title": "Nhóm A"})
    client.post(f"/admin/users/{user_id(app, 'docgia')}", data={
        "display_name": "Đỗ Thị D", "status": "active"})
    page = text(client.get("/admin/audit?action=group."))
    assert "nhom-a" in page and "Đỗ Thị D" not in page
    page = text(client.get("/admin/audit?target_type=user&target=docgia"))
    assert "Đỗ Thị D" in page and "nhom-a" not in page
    page = text(client.get("/admin/audit?actor=thuthu"))
    assert "nhom-a" in page and "han-nom" not in page  # seeded from the command line
    assert "nhom-a" not in text(client.get("/admin/audit?since=2000-01-01&until=2000-12-31"))
    page = text(client.get("/admin/audit?since=31/12/2000"))
    assert "Please give a valid date" in page and "nhom-a" in page


def test_the_audit_log_exports_csv_for_excel(app):
    client = browser(app)
    client.post("/admin/groups", data={"name": "nhom-b", "title": "Người đọc đặc biệt"})
    client.post("/admin/groups", data={"name": "nhom-c", "title": "=HYPERLINK(\"x\")"})
    response = client.get("/admin/audit?format=csv&action=group.&actor=thuthu")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:3] == ["When", "Changed by", "Action"]
    assert len(rows) == 3
    created = next(row for row in rows if row[5] == "nhom-b")
    assert created[1] == "thuthu" and created[3] == "group.create"
    assert "Người đọc đặc biệt" in created[7] and "Người đọc đặc biệt" in created[9]
    formula = next(row for row in rows if row[5] == "nhom-c")
    assert all(not cell.startswith("=") for cell in formula)
