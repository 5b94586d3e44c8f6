"""/oai over HTTP: GET and POST alike, the content type, no CSRF token needed, and records
kept in step with changes by the commit hook."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from repository import items
from repository.models import Item, ItemStatus
from tests.oai.conftest import oai_app
from tests.oai.helpers import OAI, add_item, error_codes, identifiers, open_collection
from tests.oai.schemas import validated


@pytest.fixture
def handle(provider_app):
    with provider_app.extensions["khoso"].db.session() as session:
        books = open_collection(session, "sach", "Sách")
        return add_item(session, books, "Truyện Kiều").handle


def without_date(body: bytes) -> bytes:
    return re.sub(rb"<responseDate>[^<]*</responseDate>", b"", body)


@pytest.mark.parametrize("arguments", [
    {"verb": "Identify"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc"},
    {"verb": "ListSets"},
    {"verb": "ListIdentifiers"},
    {"verb": "Nothing"},
])
def test_get_and_post_answer_alike(provider_app, handle, arguments):
    client = provider_app.test_client()
    got = client.get("/oai", query_string=arguments)
    posted = client.post("/oai", data=arguments)
    assert got.status_code == posted.status_code == 200
    assert got.headers["Content-Type"] == "text/xml; charset=utf-8"
    validated(got.data)
    assert without_date(got.data) == without_date(posted.data)


def test_the_commit_hook_exposes_and_withdraws(provider_app, handle):
    client = provider_app.test_client()
    listed = validated(client.get("/oai?verb=ListIdentifiers&metadataPrefix=oai_dc").data)
    assert identifiers(listed) == [f"oai:localhost:{handle}"]
    with provider_app.extensions["khoso"].db.session() as session:
        item = session.scalar(select(Item).where(Item.handle == handle))
        items.change_status(session, item, ItemStatus.WITHDRAWN, reason="hỏng")
    root = validated(client.get(
        f"/oai?verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:localhost:{handle}").data)
    assert root.find(f".//{OAI}header").get("status") == "deleted"


def test_identify_names_the_endpoint(provider_app):
    root = validated(provider_app.test_client().get("/oai?verb=Identify").data)
    assert root.findtext(f".//{OAI}baseURL") == "http://localhost/oai"
    assert root.findtext(f".//{OAI}adminEmail") == "thuvien@example.org"


def test_harvesters_post_without_a_csrf_token(tmp_path, database_url):
    app = oai_app(tmp_path, database_url, WTF_CSRF_ENABLED=True)
    try:
        response = app.test_client().post("/oai", data={"verb": "ListRecords",
                                                        "metadataPrefix": "oai_dc"})
    finally:
        app.extensions["khoso"].db.dispose()
    assert response.status_code == 200
    assert error_codes(validated(response.data)) == ["noRecordsMatch"]
