"""Opening backends: the factory's URLs, and SearchUnavailable when an engine cannot answer."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy

from repository.search import (
    AccessFilter,
    ItemDocument,
    SearchRequest,
    SearchUnavailable,
    open_search,
    tantivy_backend,
)
from repository.search.postgres_backend import PostgresSearch
from repository.search.tantivy_backend import TantivySearch


def test_factory_opens_an_embedded_index(tmp_path):
    backend = open_search(f"tantivy://{tmp_path / 'index'}")
    assert isinstance(backend, TantivySearch)
    assert backend.search(SearchRequest("kieu"), AccessFilter()).total == 0


@pytest.mark.parametrize("url", [
    "tantivy://relative/dir", "tantivy:///proc/khoso-index", "elastic://localhost:9200",
    "postgresql+psycopg://postgres@127.0.0.1:1/test", "postgresql://postgres@127.0.0.1:1/t",
    "postgresql+nodriver://x/y", ""])
def test_unusable_urls_raise_search_unavailable(url):
    with pytest.raises(SearchUnavailable):
        open_search(url)


def test_an_index_of_another_layout_is_refused(tmp_path):
    TantivySearch(tmp_path)
    (tmp_path / "khoso-search-version").write_text("0")
    with pytest.raises(SearchUnavailable, match="rebuild"):
        TantivySearch(tmp_path)


def test_a_locked_index_raises_search_unavailable(tmp_path, monkeypatch):
    monkeypatch.setattr(tantivy_backend.time, "sleep", lambda seconds: None)
    first, second = TantivySearch(tmp_path), TantivySearch(tmp_path)
    item = ItemDocument(1, "Truyện Kiều", metadata_principals=frozenset({"any"}))
    with first._writers(20_000_000), pytest.raises(SearchUnavailable, match="busy"):
        second.index(item, [])
    second.index(item, [])  # the lock is free again
    assert second.search(SearchRequest("kieu"), AccessFilter()).total == 1


def test_a_database_that_goes_away_raises_search_unavailable():
    backend = PostgresSearch.__new__(PostgresSearch)
    backend.schema = "khoso_search"
    backend.engine = sqlalchemy.create_engine(
        "postgresql+psycopg://postgres@127.0.0.1:1/test")
    with pytest.raises(SearchUnavailable):
        backend.search(SearchRequest("kieu"), AccessFilter())


def test_access_filter_reference_semantics():
    item = ItemDocument(1, "x", metadata_principals=frozenset({"any"}),
                        view_principals=frozenset({"onsite"}), embargo_until=date(2030, 1, 1))
    before = AccessFilter(frozenset({"any", "onsite"}), today=date(2029, 12, 31))
    after = AccessFilter(frozenset({"any"}), today=date(2030, 1, 1))
    assert not before.may_find(item) and after.may_find(item) and not after.may_read(item)
    assert AccessFilter(frozenset({"any", "onsite"}), today=date(2030, 1, 2)).may_read(item)
    assert AccessFilter.staff(date(2000, 1, 1)).may_read(item)
    assert not AccessFilter(frozenset()).may_find(ItemDocument(2, "y"))  # deny by default


def test_items_from_dublin_core():
    item = ItemDocument.from_dublin_core(
        7, {"title": ["Truyện Kiều"], "creator": ["Nguyễn Du"], "date": ["khoảng 1820"],
            "language": ["vi"], "type": ["sách"], "publisher": ["Quan Văn Đường"]},
        collection="van-hoc")
    assert (item.title, item.creators, item.year, item.decade) == (
        "Truyện Kiều", ("Nguyễn Du",), 1820, "1820")
    assert item.other_metadata == ("Quan Văn Đường",) and item.collection == "van-hoc"
