"""The provider's six verbs and every error code it can answer, on SQLite and PostgreSQL;
every response is validated against the OAI-PMH and oai_dc schemas."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from repository import items
from repository.access_rules import RuleChange, set_rule
from repository.dublin_core import Statement
from repository.models import AccessLevel, Item, ItemStatus
from tests.oai.helpers import (
    BASE_URL,
    DC,
    OAI,
    add_item,
    ask,
    error_codes,
    identifier,
    identifiers,
    open_collection,
    sync,
    token_of,
)

T0 = datetime(2026, 3, 1, 8, 0, 0, tzinfo=UTC)
T1 = datetime(2026, 3, 2, 9, 30, 15, tzinfo=UTC)


@pytest.fixture
def library(database):
    """Two open collections (one inside the other), a staff-only one; published, draft,
    restricted and withdrawn items; synced at T0, the withdrawal at T1."""
    with database.session() as session:
        books = open_collection(session, "sach", "Sách")
        open_collection(session, "sach-co", "Sách cổ", parent="sach")
        closed = open_collection(session, "kho", "Kho lưu", level=AccessLevel.STAFF)
        session.flush()
        handles = {
            "kieu": add_item(session, books, "Truyện Kiều", date="1820").handle,
            "luc": add_item(session, books.children[0], "Lục Vân Tiên").handle,
            "draft": add_item(session, books, "Bản nháp", publish=False).handle,
            "secret": add_item(session, closed, "Hồ sơ mật").handle,
            "gone": add_item(session, books, "Sách bị rút").handle,
        }
        sync(session, T0)
    with database.session() as session:
        withdraw(session, handles["gone"])
        sync(session, T1)
    return handles


def withdraw(session, handle):
    items.change_status(session, _item(session, handle), ItemStatus.WITHDRAWN,
                        reason="trùng lặp")


def test_identify_describes_the_repository(database, library):
    with database.session() as session:
        root = ask(session, verb="Identify")
    identify = root.find(f"{OAI}Identify")
    assert identify.findtext(f"{OAI}baseURL") == BASE_URL
    assert identify.findtext(f"{OAI}protocolVersion") == "2.0"
    assert identify.findtext(f"{OAI}earliestDatestamp") == "2026-03-01T08:00:00Z"
    assert identify.findtext(f"{OAI}deletedRecord") == "persistent"
    assert identify.findtext(f"{OAI}granularity") == "YYYY-MM-DDThh:mm:ssZ"
    assert root.find(f"{OAI}request").get("verb") == "Identify"


@pytest.mark.parametrize("pairs", [
    [], [("verb", "Harvest")], [("verb", "Identify"), ("verb", "Identify")],
    [("verb", "")], [("metadataPrefix", "oai_dc")],
])
def test_bad_verb(database, pairs):
    with database.session() as session:
        root = ask(session, pairs=pairs)
    assert error_codes(root) == ["badVerb"]
    assert root.find(f"{OAI}request").attrib == {}  # no arguments echoed after badVerb


@pytest.mark.parametrize("pairs", [
    [("verb", "Identify"), ("set", "x")],
    [("verb", "ListRecords")],
    [("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("metadataPrefix", "oai_dc")],
    [("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("resumptionToken", "x")],
    [("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("from", "2026-03-01T08:00Z")],
    [("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("from", "2026-02-30")],
    [("verb", "ListIdentifiers"), ("metadataPrefix", "oai_dc"), ("from", "2026-03-01"),
     ("until", "2026-03-02T00:00:00Z")],
    [("verb", "ListIdentifiers"), ("metadataPrefix", "oai_dc"), ("from", "2026-03-02"),
     ("until", "2026-03-01")],
    [("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("set", "collection::sach")],
    [("verb", "ListRecords"), ("metadataPrefix", "oai dc")],
    [("verb", "GetRecord"), ("metadataPrefix", "oai_dc")],
    [("verb", "GetRecord"), ("identifier", ""), ("metadataPrefix", "oai_dc")],
    [("verb", "ListMetadataFormats"), ("metadataPrefix", "oai_dc")],
])
def test_bad_argument(database, pairs):
    with database.session() as session:
        root = ask(session, pairs=pairs)
    assert error_codes(root) == ["badArgument"]
    assert root.find(f"{OAI}request").attrib == {}


def test_list_metadata_formats(database, library):
    with database.session() as session:
        every = ask(session, verb="ListMetadataFormats")
        one = ask(session, verb="ListMetadataFormats", identifier=identifier(library["kieu"]))
        hidden = ask(session, verb="ListMetadataFormats", identifier=identifier(library["secret"]))
        deleted = ask(session, verb="ListMetadataFormats", identifier=identifier(library["gone"]))
    for root in (every, one):
        assert [e.text for e in root.iter(f"{OAI}metadataPrefix")] == ["oai_dc"]
    assert error_codes(hidden) == ["idDoesNotExist"]
    assert error_codes(deleted) == ["noMetadataFormats"]
    assert deleted.find(f"{OAI}request").get("identifier") == identifier(library["gone"])


def test_list_sets_follows_the_collection_tree(database, library):
    with database.session() as session:
        root = ask(session, verb="ListSets")
        resumed = ask(session, verb="ListSets", resumptionToken="anything")
    specs = [e.text for e in root.iter(f"{OAI}setSpec")]
    assert specs == ["collection", "collection:kho", "collection:sach", "collection:sach:sach-co"]
    assert "Sách cổ" in [e.text for e in root.iter(f"{OAI}setName")]
    assert "Mô tả Sách" in [e.text for e in root.iter(f"{DC}description")]
    assert error_codes(resumed) == ["badResumptionToken"]


def test_get_record_disseminates_oai_dc(database, library):
    with database.session() as session:
        root = ask(session, verb="GetRecord", identifier=identifier(library["kieu"]),
                   metadataPrefix="oai_dc")
    header = root.find(f"{OAI}GetRecord/{OAI}record/{OAI}header")
    assert header.findtext(f"{OAI}datestamp") == "2026-03-01T08:00:00Z"
    assert header.findtext(f"{OAI}setSpec") == "collection:sach"
    title = next(root.iter(f"{DC}title"))
    assert title.text == "Truyện Kiều"
    assert title.get("{http://www.w3.org/XML/1998/namespace}lang") == "vi"
    assert [e.text for e in root.iter(f"{DC}date")] == ["1820"]
    assert f"http://thuvien.example.org/items/{library['kieu']}" in [
        e.text for e in root.iter(f"{DC}identifier")]


@pytest.mark.parametrize("which", ["draft", "secret", None])
def test_get_record_of_what_the_public_cannot_see_does_not_exist(database, library, which):
    wanted = identifier(library[which]) if which else "oai:elsewhere.example.org:kieu"
    with database.session() as session:
        root = ask(session, verb="GetRecord", identifier=wanted, metadataPrefix="oai_dc")
    assert error_codes(root) == ["idDoesNotExist"]


def test_get_record_of_a_withdrawn_item_is_a_deleted_header(database, library):
    with database.session() as session:
        root = ask(session, verb="GetRecord", identifier=identifier(library["gone"]),
                   metadataPrefix="oai_dc")
    record = root.find(f"{OAI}GetRecord/{OAI}record")
    assert record.find(f"{OAI}header").get("status") == "deleted"
    assert record.findtext(f"{OAI}header/{OAI}datestamp") == "2026-03-02T09:30:15Z"
    assert record.find(f"{OAI}metadata") is None


def test_cannot_disseminate_other_formats(database, library):
    with database.session() as session:
        listed = ask(session, verb="ListRecords", metadataPrefix="marc21")
        one = ask(session, verb="GetRecord", identifier=identifier(library["kieu"]),
                  metadataPrefix="mods")
    assert error_codes(listed) == error_codes(one) == ["cannotDisseminateFormat"]
    assert listed.find(f"{OAI}request").get("metadataPrefix") == "marc21"


@pytest.mark.parametrize("verb", ["ListRecords", "ListIdentifiers"])
def test_lists_show_public_records_and_tombstones_only(database, library, verb):
    with database.session() as session:
        root = ask(session, verb=verb, metadataPrefix="oai_dc")
    listed = identifiers(root)
    assert sorted(listed) == sorted(identifier(library[k]) for k in ("kieu", "luc", "gone"))
    deleted = [h.findtext(f"{OAI}identifier") for h in root.iter(f"{OAI}header")
               if h.get("status") == "deleted"]
    assert deleted == [identifier(library["gone"])]
    assert token_of(root) is None  # one page: no resumptionToken at all


@pytest.mark.parametrize(("set_spec", "expected"), [
    ("collection", {"kieu", "luc", "gone"}),
    ("collection:sach", {"kieu", "luc", "gone"}),
    ("collection:sach:sach-co", {"luc"}),
])
def test_sets_hold_their_sub_collections(database, library, set_spec, expected):
    with database.session() as session:
        root = ask(session, verb="ListIdentifiers", metadataPrefix="oai_dc", set=set_spec)
    assert set(identifiers(root)) == {identifier(library[key]) for key in expected}


@pytest.mark.parametrize("arguments", [
    {"set": "collection:kho"}, {"set": "collection:khong-co"},
    {"from": "2030-01-01"}, {"until": "2026-02-28T23:59:59Z"},
])
def test_no_records_match(database, library, arguments):
    with database.session() as session:
        root = ask(session, verb="ListRecords", metadataPrefix="oai_dc", **arguments)
    assert error_codes(root) == ["noRecordsMatch"]


@pytest.mark.parametrize(("arguments", "expected"), [
    ({"from": "2026-03-02T09:30:15Z"}, {"gone"}),
    ({"from": "2026-03-02"}, {"gone"}),
    ({"until": "2026-03-01T08:00:00Z"}, {"kieu", "luc"}),
    ({"until": "2026-03-01"}, {"kieu", "luc"}),
    ({"from": "2026-03-01T08:00:01Z", "until": "2026-03-02T09:30:14Z"}, set()),
    ({"from": "2026-03-01", "until": "2026-03-02"}, {"kieu", "luc", "gone"}),
])
def test_from_and_until_select_by_datestamp(database, library, arguments, expected):
    with database.session() as session:
        root = ask(session, verb="ListIdentifiers", metadataPrefix="oai_dc", **arguments)
    assert set(identifiers(root)) == {identifier(library[key]) for key in expected}
    if not expected:
        assert error_codes(root) == ["noRecordsMatch"]


def test_rights_that_hide_an_item_make_it_deleted_and_back(database, library):
    with database.session() as session:
        kieu = _item(session, library["kieu"])
        set_rule(session, None, RuleChange(metadata=AccessLevel.READERS), item=kieu)
        sync(session, datetime(2026, 3, 3, tzinfo=UTC))
        hidden = ask(session, verb="GetRecord", identifier=identifier(kieu.handle),
                     metadataPrefix="oai_dc")
        set_rule(session, None, RuleChange(metadata=AccessLevel.OPEN), item=kieu)
        sync(session, datetime(2026, 3, 4, tzinfo=UTC))
        shown = ask(session, verb="GetRecord", identifier=identifier(kieu.handle),
                    metadataPrefix="oai_dc")
    assert hidden.find(f".//{OAI}header").get("status") == "deleted"
    assert hidden.findtext(f".//{OAI}datestamp") == "2026-03-03T00:00:00Z"
    assert shown.find(f".//{OAI}header").get("status") is None
    assert shown.findtext(f".//{OAI}datestamp") == "2026-03-04T00:00:00Z"


def test_changes_the_public_cannot_see_keep_the_datestamp(database, library):
    with database.session() as session:
        kieu = _item(session, library["kieu"])
        set_rule(session, None, RuleChange(download=AccessLevel.STAFF), item=kieu)
        kieu.withdrawal_reason = "ghi chú nội bộ"
        report = sync(session, datetime(2026, 3, 5, tzinfo=UTC))
        items.replace_metadata(kieu, [*_statements(kieu), _statement("subject", "Thơ")])
        changed = sync(session, datetime(2026, 3, 6, tzinfo=UTC))
        root = ask(session, verb="ListIdentifiers", metadataPrefix="oai_dc",
                   **{"from": "2026-03-05"})
    assert report.total == 0
    assert (changed.changed, changed.exposed, changed.deleted) == (1, 0, 0)
    assert identifiers(root) == [identifier(kieu.handle)]


def test_tombstones_outlive_deleted_items(database, library):
    with database.session() as session:
        session.delete(_item(session, library["luc"]))
        session.commit()
        sync(session, datetime(2026, 3, 7, tzinfo=UTC))
        root = ask(session, verb="GetRecord", identifier=identifier(library["luc"]),
                   metadataPrefix="oai_dc")
    assert root.find(f".//{OAI}header").get("status") == "deleted"


def test_text_xml_cannot_carry_is_dropped(database):
    with database.session() as session:
        books = open_collection(session, "sach", "Sách")
        item = add_item(session, books, "Bell\x07 and\x0b tab", description="ok\x1b")
        sync(session, T0)
        root = ask(session, verb="GetRecord", identifier=identifier(item.handle),
                   metadataPrefix="oai_dc")
    assert next(root.iter(f"{DC}title")).text == "Bell and tab"


def _item(session, handle):
    return session.scalar(select(Item).where(Item.handle == handle))


def _statements(item):
    return [Statement(v.element, v.value, v.qualifier, v.language) for v in item.dc_values]


def _statement(element, value):
    return Statement(element, value)
