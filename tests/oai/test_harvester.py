"""The harvester: the recorded responses (a resumption chain, a header without identifier,
day granularity, a broken file, an HTTP error) and Khoso's own provider served live, with
re-harvests that update and delete, and the partner records found by search."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from repository import items
from repository.db import Database
from repository.dublin_core import Statement
from repository.errors import Conflict, InvalidInput
from repository.harvest import service
from repository.harvest.client import OAIClient
from repository.harvest.models import Partner, PartnerRecord
from repository.harvest.search import search_partner_records
from repository.models import AccessLevel, Item, ItemStatus
from tests.oai.conftest import live_server, oai_app
from tests.oai.helpers import add_item, open_collection
from tests.oai.recorded import recorded_feeds

CLIENT = OAIClient(timeout=10, retries=0)


@pytest.fixture
def feeds():
    with recorded_feeds() as served:
        yield served


def records(database, partner_name):
    with database.session() as session:
        partner = service.get_partner(session, partner_name)
        return {row.identifier: row for row in session.scalars(
            select(PartnerRecord).where(PartnerRecord.partner_id == partner.id))}


def partner_row(database, name) -> Partner:
    with database.session() as session:
        return service.get_partner(session, name)


def test_the_recorded_chain_is_harvested_then_asked_from_its_last_day(database, feeds):
    base, requests = feeds
    with database.session() as session:
        service.add_partner(session, "Thư viện mẫu", f"{base}/good/oai")
    [first] = service.harvest_all(database, CLIENT)
    [second] = service.harvest_all(database, CLIENT)
    assert (first.ok, first.added, first.updated, first.deleted, first.skipped) == (
        True, 1, 3, 0, 1)  # one record four times; a deleted header without identifier
    assert (second.ok, second.added, second.updated) == (True, 0, 0)
    tokens = [arguments.get("resumptionToken") for _, arguments in requests
              if arguments["verb"] == "ListRecords"]
    assert tokens == [None, "ListRecords2.xml", "ListRecords3.xml", "ListRecords4.xml", None]
    assert requests[-1][1]["from"] == "2011-07-18"  # the partner's granularity is the day
    row = records(database, "Thư viện mẫu")["oai:test.example.com:1585322"]
    assert (row.title, row.link) == ("Sample Title", "http://test.example.com/publication/1585322")
    assert row.dc["publisher"] == ["Sample Publisher"]
    assert row.dc["description"][0].startswith("Lorem ipsum dolor sit amet, consectetur")
    partner = partner_row(database, "Thư viện mẫu")
    assert partner.last_datestamp == datetime(2011, 7, 18, 16, 31, tzinfo=UTC)
    assert (partner.granularity, partner.last_error) == ("YYYY-MM-DD", "")


def test_a_broken_feed_is_reported_and_the_others_are_harvested(database, feeds):
    base, _ = feeds
    with database.session() as session:
        for name, path in (("A hỏng", "broken"), ("B lỗi", "failing"), ("C tốt", "good")):
            service.add_partner(session, name, f"{base}/{path}/oai")
    outcomes = {outcome.partner: outcome for outcome in service.harvest_all(database, CLIENT)}
    assert "not well-formed XML" in outcomes["A hỏng"].error
    assert outcomes["B lỗi"].error == f"HTTP 500 from {base}/failing/oai"
    assert outcomes["C tốt"].ok and len(records(database, "C tốt")) == 1
    broken = partner_row(database, "A hỏng")
    assert "not well-formed XML" in broken.last_error
    assert broken.last_harvest_at is not None and broken.last_datestamp is None


def test_partners_are_checked_when_added(database):
    with database.session() as session:
        service.add_partner(session, "Hà Tĩnh", "https://thuvien.example.vn/oai")
        with pytest.raises(Conflict):
            service.add_partner(session, "Hà Tĩnh", "https://elsewhere.example.vn/oai")
        with pytest.raises(InvalidInput):
            service.add_partner(session, "Tệp", "file:///etc/passwd")
        with pytest.raises(InvalidInput):
            service.add_partner(session, "Tập", "https://x.example.vn/oai", set_spec="a b")


@pytest.fixture
def provider(tmp_path, sqlite_template):
    """Khoso as a partner: its own database, served live, two records a page."""
    path = tmp_path / "provider.sqlite3"
    shutil.copy(sqlite_template, path)
    app = oai_app(tmp_path / "provider", f"sqlite:///{path}", OAI_PAGE_SIZE=2)
    with app.extensions["khoso"].db.session() as session:
        books = open_collection(session, "sach", "Sách")
        closed = open_collection(session, "kho", "Kho", level=AccessLevel.STAFF)
        for title in ("Truyện Kiều", "Văn tế thập loại chúng sinh", "Thác lời trai phường nón"):
            add_item(session, books, title)
        add_item(session, closed, "Hồ sơ mật")
    with live_server(app) as base:
        yield app, base
    app.extensions["khoso"].db.dispose()


def change_provider(app) -> None:
    """A new title, a withdrawal and a new item at the provider."""
    with app.extensions["khoso"].db.session() as session:
        kieu, van_te = (session.scalar(select(Item).where(Item.dc_values.any(value=title)))
                        for title in ("Truyện Kiều", "Văn tế thập loại chúng sinh"))
        items.replace_metadata(kieu, [Statement("title", "Đoạn trường tân thanh"),
                                      Statement("creator", "Nguyễn Du")])
        items.change_status(session, van_te, ItemStatus.WITHDRAWN, reason="trùng")
        add_item(session, session.get(Item, kieu.id).collection, "Chiêu hồn ca")


def test_khoso_harvests_khoso(provider, any_database_url):
    app, base = provider
    database = Database(any_database_url)
    try:
        with database.session() as session:
            partner = service.add_partner(session, "Thư viện Hà Tĩnh", f"{base}/oai")
        first = service.harvest_partner(database, partner.id, CLIENT)
        change_provider(app)
        second = service.harvest_partner(database, partner.id, CLIENT)
        harvested = records(database, "Thư viện Hà Tĩnh")
        with database.session() as session:
            found = search_partner_records(session, "nguyen du")
    finally:
        database.dispose()
    assert (first.ok, first.added, first.deleted) == (True, 3, 0)
    assert (second.ok, second.added, second.deleted) == (True, 1, 1)
    live = sorted(row.title for row in harvested.values() if not row.deleted)
    assert live == ["Chiêu hồn ca", "Thác lời trai phường nón", "Đoạn trường tân thanh"]
    assert [row.deleted for row in harvested.values() if row.title.startswith("Văn tế")] == [True]
    assert all(row.link.startswith(f"{base}/items/") for row in harvested.values())
    assert found.total == 3 and {hit.partner for hit in found.hits} == {"Thư viện Hà Tĩnh"}


def test_partner_records_are_found_without_tone_marks(database, feeds):
    base, _ = feeds
    with database.session() as session:
        partner = service.add_partner(session, "Thư viện mẫu", f"{base}/good/oai")
    service.harvest_all(database, CLIENT)
    with database.session() as session:
        row = session.scalar(select(PartnerRecord))
        row.search_text = service.searchable([["Đại Việt sử ký toàn thư"], ["Ngô Sĩ Liên"]])
        found = [search_partner_records(session, words).total for words in (
            "dai viet", "Đại Việt", "ngo si lien", "sử ký", "viet -dai", "title:toan", "nam")]
        service.set_enabled(session, session.get(Partner, partner.id), False)
        paused = search_partner_records(session, "dai viet").total
    assert found == [1, 1, 1, 1, 1, 1, 0]
    assert paused == 0
