"""The search page and command: Vietnamese queries, access filtering inside the engine, and
an index kept true after each commit."""

import json
import uuid

import pytest

from repository import collections, items
from repository.access_rules import RuleChange, set_rule
from repository.dublin_core import Statement
from repository.models import AccessLevel, ItemStatus, Page
from tests.conftest import make_test_app
from viewer.cli import main
from viewer.demo import load_demo
from viewer.extensions import parts

SECRET_WORDS = "mật thư Hoàng Sa"


@pytest.fixture(params=["tantivy", pytest.param("postgres", marks=pytest.mark.postgres)])
def app(request, tmp_path, database_url):
    """The portal on each search backend: the embedded index, and PostgreSQL full text as
    several web nodes share it (a schema of this test's own)."""
    overrides = {}
    if request.param == "postgres":
        from repository.search import SearchUnavailable
        from repository.search.postgres_backend import PostgresSearch
        from tests.backends import POSTGRES_URL, service_missing

        schema = f"search_web_{uuid.uuid4().hex[:10]}"
        try:
            PostgresSearch(POSTGRES_URL, schema=schema).close()
        except SearchUnavailable as exc:
            service_missing("PostgreSQL", str(exc))
        overrides["SEARCH_URL"] = f"{POSTGRES_URL}?search_schema={schema}"
    application = make_test_app(tmp_path, database_url, **overrides)
    yield application
    if request.param == "postgres":
        application.extensions["khoso"].search().destroy()
    application.extensions["khoso"].db.dispose()


@pytest.fixture
def library(app):
    """The demo (open) plus a collection whose text is for staff and whose titles are for
    signed-in readers only."""
    with app.app_context(), parts().db.session() as session:
        load_demo(session, parts().store)
        hidden = collections.create_collection(session, slug="mat", title="Hồ sơ mật")
        set_rule(session, None, RuleChange(metadata=AccessLevel.READERS, view=AccessLevel.STAFF),
                 collection=hidden)
        item = items.create_item(session, hidden, [Statement("title", "Công văn lưu trữ"),
                                                   Statement("type", "Hồ sơ")])
        session.add(Page(item=item, sequence=1, text=f"Bản báo cáo về {SECRET_WORDS} năm 1938."))
        items.change_status(session, item, ItemStatus.PUBLISHED)
    return app


def search_page(client, **args):
    response = client.get("/search", query_string=args)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def results_of(page: str) -> str:
    """The facets and hits, without the search box that echoes the query."""
    return page[page.index('<div class="search-layout">'):]


@pytest.mark.parametrize("query", ["nguyen du", "Nguyễn Du", "NGUYỄN DU", "Nguye\u0302\u0303n Du"])
def test_with_or_without_tone_marks(client, library, query):
    page = search_page(client, q=query)
    assert "Truyện Kiều" in page
    assert 'class="hit"' in page


def test_snippet_links_to_the_page_with_the_words(client, library):
    page = search_page(client, q='"bể dâu"')
    assert "<mark>" in page
    assert "page=1" in page


def test_hidden_text_never_leaks_to_anonymous(client, library):
    for query in (SECRET_WORDS, "hoang sa", "công văn", "1938"):
        page = results_of(search_page(client, q=query))
        assert "Hoàng Sa" not in page and "Công văn" not in page
        assert "Hồ sơ mật" not in page  # not even as a facet label
    facets = search_page(client, q="")
    assert "Hồ sơ" not in facets


def test_metadata_visible_but_text_hidden_for_readers(app, library):
    from repository.accounts import create_user
    from repository.models import Role
    with app.app_context(), parts().db.session() as session:
        create_user(session, username="docgia", password="mat-khau-dai-1", role=Role.READER)
    result = app.test_cli_runner().invoke(main, ["search", "--as", "docgia", "--json",
                                                 "công văn"])
    found = json.loads(result.output)
    assert [hit["title"] for hit in found["hits"]] == ["Công văn lưu trữ"]
    assert found["hits"][0]["snippets"] == []
    by_text = json.loads(app.test_cli_runner().invoke(
        main, ["search", "--as", "docgia", "--json", "hoang sa"]).output)
    assert by_text["total"] == 0


def test_rights_change_is_reflected_after_commit(client, app, library):
    assert "Công văn" not in results_of(search_page(client, q="công văn"))
    with app.app_context(), parts().db.session() as session:
        hidden = collections.get_collection(session, "mat")
        set_rule(session, None, RuleChange(metadata=AccessLevel.OPEN, view=AccessLevel.OPEN),
                 collection=hidden)
    assert "<mark>Hoàng</mark> <mark>Sa</mark>" in search_page(client, q="hoang sa")


def test_withdrawn_items_leave_anonymous_search(client, app, library):
    with app.app_context(), parts().db.session() as session:
        from sqlalchemy import select

        from repository.models import Item
        kieu = session.scalars(select(Item)).first()
        items.change_status(session, kieu, ItemStatus.WITHDRAWN, reason="test")
    assert 'class="hit"' not in search_page(client, q="nguyen du")


@pytest.mark.parametrize("query", ['"unbalanced', "-", "OR", "title:", "year:abc", "x" * 10_000,
                                   "<script>alert(1)</script>", "' OR 1=1 --"])
def test_bad_queries_get_an_answer(client, library, query):
    page = search_page(client, q=query, sort="nonsense", page="-4")
    assert "<script>alert(1)</script>" not in page


def test_facet_filter_narrows_results(client, library):
    page = search_page(client, q="", type="Báo")
    assert "Báo Tin Làng" in page and "Truyện Kiều" not in page


def test_unavailable_search_degrades_to_a_message(tmp_path, database_url):
    from tests.conftest import make_test_app
    broken = make_test_app(tmp_path, database_url, SEARCH_URL="tantivy://relative/path")
    response = broken.test_client().get("/search", query_string={"q": "sách"})
    assert response.status_code == 503
    assert "Traceback" not in response.get_data(as_text=True)
    assert 'role="alert"' in response.get_data(as_text=True)


def test_reindex_command_rebuilds(app, library):
    runner = app.test_cli_runner()
    result = runner.invoke(main, ["search", "reindex"])
    assert result.exit_code == 0 and "indexed 5 items" in result.output


def test_embargo_lifts_in_anonymous_search_at_its_date(app, client):
    """The index keeps the embargo date; the filter compares it with the policy's today."""
    from datetime import date

    from repository.access import Policy
    with app.app_context(), parts().db.session() as session:
        shelf = collections.create_collection(session, slug="cam", title="Tạm cấm")
        set_rule(session, None, RuleChange(metadata=AccessLevel.OPEN, view=AccessLevel.OPEN,
                                           embargo_until=date(2030, 1, 1)), collection=shelf)
        item = items.create_item(session, shelf, [Statement("title", "Gia phả họ Đặng")])
        items.change_status(session, item, ItemStatus.PUBLISHED)
    khoso = app.extensions["khoso"]
    khoso.policy = Policy(today=lambda: date(2029, 12, 31))
    assert "họ Đặng" not in results_of(search_page(client, q="gia pha"))
    khoso.policy = Policy(today=lambda: date(2030, 1, 1))
    assert "họ Đặng" in results_of(search_page(client, q="gia pha"))
