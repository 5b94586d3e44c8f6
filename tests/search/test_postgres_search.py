"""What is particular to the PostgreSQL backend: how it checks phrases, what its item table of
words holds, and a schema of an older layout."""

from __future__ import annotations

import pytest
import sqlalchemy

from repository.search import postgres_backend
from repository.search.postgres_backend import LAYOUT_VERSION, text_lexemes, word_chunks
from tests.search.conftest import open_backend
from tests.search.corpus import collection
from tests.search.test_conformance import GUEST, ONSITE, READER, STAFF, search

pytestmark = pytest.mark.postgres
# ruff: noqa: S608 - schema names below are the tests' own identifiers


@pytest.fixture(scope="module")
def postgres(tmp_path_factory):
    backend = open_backend("postgres", tmp_path_factory.mktemp("search"))
    backend.index_many(collection())
    yield backend
    backend.destroy()


PHRASES = ['"chu tai chu menh"', '"menh chu tai"', '"nhau trai qua"', '"ha tinh"',
           '"an giang" -"long xuyen"', '"mật mã"', '"dong bang song cuu long" "an giang"']


@pytest.mark.parametrize("access", [READER, GUEST, ONSITE, STAFF],
                         ids=["reader", "guest", "onsite", "staff"])
def test_a_common_phrase_checked_item_by_item_finds_the_same(postgres, monkeypatch, access):
    by_pages = {text: _found(search(postgres, text, access)) for text in PHRASES}
    monkeypatch.setattr(postgres_backend, "COMMON_PHRASE_PAGES", 1)  # every phrase is common
    assert {text: _found(search(postgres, text, access)) for text in PHRASES} == by_pages
    assert any(total for total, _ in by_pages.values())


def _found(result):
    return result.total, [(hit.item_id, hit.pages) for hit in result.hits]


def test_the_words_of_an_item_say_how_much_of_it_holds_each():
    lexemes = text_lexemes(["Gốm men lam", "gốm Bát Tràng", "Làng Bát Tràng", "làng"])
    assert {"gom", "gom#1", "gom#2", "gom#3", "gốm#x", "lam", "lam#1", "lam#2"} <= set(lexemes)
    assert "lam#3" not in lexemes and "lang#3" in lexemes and "men#x" not in lexemes
    chunks = word_chunks(lexemes, limit=4)
    assert len(chunks) == -(-len(lexemes) // 4) and chunks[0].startswith("'bat'")


def test_a_schema_of_an_older_layout_is_made_again(postgres):
    url = postgres.engine.url.render_as_string(hide_password=False)
    other = postgres_backend.PostgresSearch(url, schema=postgres.schema + "_old")
    try:
        other.index_many(collection()[:2])
        with other.engine.begin() as connection:
            connection.exec_driver_sql(
                f"UPDATE {other.schema}.search_layout SET version = {LAYOUT_VERSION - 1}")
        again = postgres_backend.PostgresSearch(url, schema=other.schema)
        assert search(again, "", STAFF).total == 0  # dropped, to be filled by a reindex
        with again.engine.begin() as connection:
            assert connection.execute(sqlalchemy.text(
                f"SELECT version FROM {other.schema}.search_layout")).scalar_one() == \
                LAYOUT_VERSION
        again.close()
    finally:
        other.destroy()
