"""Collections and items: validation, the lifecycle, and what each identity may find."""

import pytest

from repository import collections, items
from repository.access import Identity, Policy
from repository.access_rules import RuleChange, set_rule
from repository.db import Database
from repository.dublin_core import Statement
from repository.errors import Conflict, Gone, InvalidInput, NotFound
from repository.models import AccessLevel, ItemStatus, Role

STAFF = Identity(user_id=1, role=Role.STAFF)
READER = Identity(user_id=2, role=Role.READER)
ANONYMOUS = Identity.anonymous()


@pytest.fixture
def database(any_database_url):
    database = Database(any_database_url)
    yield database
    database.dispose()


def open_collection(session, slug="sach", title="Sách"):
    collection = collections.create_collection(session, slug=slug, title=title)
    set_rule(session, None, RuleChange(metadata=AccessLevel.OPEN, view=AccessLevel.OPEN),
             collection=collection)
    return collection


def make_item(session, collection, title="Địa chí Hà Tĩnh", **extra):
    statements = [Statement("title", title, language="vi"), Statement("creator", "Nguyễn Du")]
    statements += [Statement(element, value) for element, value in extra.items()]
    return items.create_item(session, collection, statements)


def test_collection_slugs_are_checked_and_unique(database):
    with database.session() as session:
        collections.create_collection(session, slug="dia-chi", title="Địa chí")
        with pytest.raises(InvalidInput, match="short name"):
            collections.create_collection(session, slug="Địa chí", title="x")
        with pytest.raises(Conflict):
            collections.create_collection(session, slug="dia-chi", title="again")


def test_sub_collections_form_a_tree(database):
    with database.session() as session:
        collections.create_collection(session, slug="bao-chi", title="Báo chí")
        child = collections.create_collection(session, slug="bao-tieng-dan",
                                              title="Tiếng Dân", parent_slug="bao-chi")
        assert child.parent.slug == "bao-chi"
        assert [c.slug for c in collections.top_collections(session)] == ["bao-chi"]
        with pytest.raises(NotFound):
            collections.create_collection(session, slug="x", title="x", parent_slug="missing")


def test_item_needs_a_title_and_valid_elements(database):
    with database.session() as session:
        collection = collections.create_collection(session, slug="sach", title="Sách")
        with pytest.raises(InvalidInput, match="title"):
            items.create_item(session, collection, [Statement("creator", "Nguyễn Du")])
        with pytest.raises(InvalidInput, match="not a Dublin Core element"):
            items.create_item(session, collection, [Statement("title", "x"),
                                                    Statement("author", "y")])
        with pytest.raises(InvalidInput, match="language tag"):
            items.create_item(session, collection, [Statement("title", "x", language="v i")])


def test_repeatable_values_keep_their_order(database):
    with database.session() as session:
        collection = collections.create_collection(session, slug="sach", title="Sách")
        item = items.create_item(session, collection, [
            Statement("title", "Truyện Kiều"), Statement("subject", "Thơ"),
            Statement("subject", "Văn học"), Statement("subject", "Nôm")])
        handle = item.handle
    with database.session() as session:
        found = items.find_item(session, handle, STAFF, Policy())
        assert found.values("subject") == ["Thơ", "Văn học", "Nôm"]


def test_qualified_field_names_parse():
    statement = Statement.parse_field("dc.date.issued", "1938")
    assert (statement.element, statement.qualifier) == ("date", "issued")
    assert Statement.parse_field("dc:creator", "x").element == "creator"


def test_drafts_are_seen_by_staff_only(database):
    policy = Policy()
    with database.session() as session:
        collection = open_collection(session)
        draft = make_item(session, collection)
        published = make_item(session, collection, title="Truyện Kiều")
        items.change_status(session, published, ItemStatus.PUBLISHED)
    with database.session() as session:
        assert items.find_item(session, draft.handle, STAFF, policy).title == "Địa chí Hà Tĩnh"
        for identity in (ANONYMOUS, READER):
            with pytest.raises(NotFound):
                items.find_item(session, draft.handle, identity, policy)
        listing = items.list_items(session, collection, ANONYMOUS, policy)
        assert [i.handle for i in listing.items] == [published.handle]
        assert listing.total == 1
        assert items.list_items(session, collection, STAFF, policy).total == 2


def test_withdrawn_item_is_gone_with_its_citation(database):
    with database.session() as session:
        collection = open_collection(session)
        item = make_item(session, collection, date="1938")
        items.change_status(session, item, ItemStatus.PUBLISHED)
        items.change_status(session, item, ItemStatus.WITHDRAWN, reason="bản quyền")
    with database.session() as session:
        with pytest.raises(Gone) as caught:
            items.find_item(session, item.handle, ANONYMOUS, Policy())
        assert "Nguyễn Du (1938). Địa chí Hà Tĩnh." in str(caught.value)


def test_lifecycle_refuses_impossible_moves(database):
    with database.session() as session:
        collection = collections.create_collection(session, slug="sach", title="Sách")
        item = make_item(session, collection)
        with pytest.raises(Conflict):
            items.change_status(session, item, ItemStatus.WITHDRAWN)
        items.change_status(session, item, ItemStatus.REVIEW)
        items.change_status(session, item, ItemStatus.PUBLISHED)
        assert item.published_at is not None


def test_listing_pages(database):
    with database.session() as session:
        collection = open_collection(session)
        for number in range(25):
            items.change_status(session, make_item(session, collection, title=f"Số {number}"),
                                ItemStatus.PUBLISHED)
    with database.session() as session:
        second = items.list_items(session, collection, ANONYMOUS, Policy(), page=2, per_page=20)
        assert (second.total, second.pages, len(second.items)) == (25, 2, 5)
