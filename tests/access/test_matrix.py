"""The enforcement matrix: every route of the URL map, every kind of reader, every policy.

Each route is classified here. A content route gets a check that says whether a response
revealed the item's metadata or content; the answer must be exactly what the access policy
says. A route that nobody classified fails the test, so a new route cannot slip past."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import select

from repository.access import Action, Identity
from repository.access_rules import is_onsite, reading_room_networks
from repository.models import FileRole, Item, User
from tests.access.library import (
    PASSWORD,
    POLICIES,
    READER_CASES,
    Fixture,
    ReaderCase,
    build,
    text_marker,
    title_marker,
)
from viewer.extensions import parts

# Routes that never return any item's metadata or content, whoever asks.
NO_ITEM_CONTENT = {
    "static", "health.healthz", "i18n.choose", "auth.login", "auth.logout", "auth.register",
    "auth.account", "auth.change_password",
    "iiif_image.base_uri",  # a redirect to info.json, which is checked
    "api.docs", "api.openapi_document", "vendor.asset",
    "api.collection_list", "api.collection",  # collections only, no items
}
# Routes for staff only: anyone else is sent to sign in (anonymous) or refused (403).
STAFF_ONLY_PREFIXES = ("auth.pending", "auth.approve", "auth.reject", "admin.", "partners.",
                       "api.batch", "api.patch_item_metadata", "api.replace_item_metadata",
                       "exports.bulk_edit", "exports.collection", "exports.item_bag", "stats.",
                       "ingest.")


@dataclass(frozen=True)
class Check:
    """``reveals(client, fixture, policy, address)`` says whether the response showed what
    ``action`` guards; ``tombstone`` routes may show a withdrawn item's citation."""

    action: Action
    reveals: Callable
    tombstone: bool = False
    public_only: bool = False  # answers as an anonymous visitor whoever asks (OAI-PMH)


@dataclass(frozen=True)
class Fetched:
    status: int
    mimetype: str
    body: str


def fetch(client, url: str, address: str, **args) -> Fetched:
    response = client.get(url, environ_base={"REMOTE_ADDR": address}, **args)
    try:
        data = response.get_data()
    finally:
        response.close()
    return Fetched(response.status_code, response.mimetype, data.decode("utf-8", "replace"))


def unmarked(html: str) -> str:
    """Search results with the highlighting taken out, after the echoing search box."""
    return html.split('<div class="search-layout">')[-1].replace("<mark>", "").replace(
        "</mark>", "")


def item_page(client, fixture, policy, address):
    got = fetch(client, f"/items/{fixture.handle[policy]}", address)
    return got.status in (200, 410) and title_marker(policy) in got.body


def thumbnail(client, fixture, policy, address):
    got = fetch(client, f"/items/{fixture.handle[policy]}/thumbnail", address)
    return got.status == 200 and got.mimetype == "image/jpeg"


def collection_listing(client, fixture, policy, address):
    return title_marker(policy) in fetch(client, "/collections/ma-tran", address).body


def search_metadata(client, fixture, policy, address):
    got = fetch(client, "/search", address, query_string={"q": title_marker(policy)})
    return title_marker(policy) in unmarked(got.body)


def search_text(client, fixture, policy, address):
    got = fetch(client, "/search", address, query_string={"q": text_marker(policy)})
    return text_marker(policy) in unmarked(got.body)


def facet_counts(client, fixture, policy, address):
    """The type facet names each item's type: a hidden item must not add its value."""
    got = fetch(client, "/search", address, query_string={"q": ""})
    return f"Loai{policy}<" in got.body.replace("</a>", "<")


def iiif_info(client, fixture, policy, address):
    got = fetch(client, f"/iiif/3/{fixture.page_uid[policy]}/info.json", address)
    return got.status == 200 and '"width"' in got.body


def iiif_tile(client, fixture, policy, address):
    got = fetch(client, f"/iiif/3/{fixture.page_uid[policy]}/full/max/0/default.png", address)
    return got.status == 200 and got.mimetype == "image/png"


def marker_in(path: str, marker: Callable[[str], str]):
    def reveals(client, fixture, policy, address):
        got = fetch(client, path.format(handle=fixture.handle[policy]), address)
        return marker(policy) in got.body
    reveals.__name__ = f"{marker.__name__}@{path}"
    return reveals


def api_search(marker):
    def reveals(client, fixture, policy, address):
        got = fetch(client, "/api/v1/search", address, query_string={"q": marker(policy)})
        hits = json.loads(got.body).get("items", []) if got.status == 200 else []
        return marker(policy) in unmarked(json.dumps(hits, ensure_ascii=False))
    reveals.__name__ = f"api_search_{marker.__name__}"
    return reveals


def api_file(role: FileRole):
    def reveals(client, fixture, policy, address):
        file_id = fixture.files[policy][role]
        got = fetch(client, f"/api/v1/items/{fixture.handle[policy]}/files/{file_id}/content",
                    address)
        return got.status == 200
    reveals.__name__ = f"api_file_{role.value}"
    return reveals


def api_file_list(client, fixture, policy, address):
    return fetch(client, f"/api/v1/items/{fixture.handle[policy]}/files", address).status == 200


def oai_records(client, fixture, policy, address):
    got = fetch(client, "/oai", address,
                query_string={"verb": "ListRecords", "metadataPrefix": "oai_dc"})
    return title_marker(policy) in got.body


def reader_page(client, fixture, policy, address):
    got = fetch(client, f"/items/{fixture.handle[policy]}/read", address)
    return got.status == 200 and fixture.page_uid[policy] in got.body


def pdf_view(client, fixture, policy, address):
    got = fetch(client, f"/items/{fixture.handle[policy]}/pdf-view", address)
    return got.status == 200 and f"/items/{fixture.handle[policy]}/document.pdf" in got.body


def iiif_manifest(client, fixture, policy, address):
    got = fetch(client, f"/iiif/3/{fixture.handle[policy]}/manifest", address)
    return got.status == 200 and fixture.page_uid[policy] in got.body


def content_search(client, fixture, policy, address):
    got = fetch(client, f"/iiif/3/{fixture.handle[policy]}/search", address,
                query_string={"q": text_marker(policy)})
    return got.status == 200 and '"Annotation"' in got.body


def page_words(client, fixture, policy, address):
    got = fetch(client, f"/items/{fixture.handle[policy]}/pages/1/words", address)
    return got.status == 200 and '"words"' in got.body


def pdf_document(client, fixture, policy, address):
    got = fetch(client, f"/items/{fixture.handle[policy]}/document.pdf", address)
    return got.status == 200 and fixture.handle[policy] in got.body


def original_file(client, fixture, policy, address):
    master = fixture.files[policy][FileRole.MASTER]
    got = fetch(client, f"/items/{fixture.handle[policy]}/original/{master}", address)
    return got.status == 200 and got.mimetype == "image/png"


CHECKS: dict[str, list[Check]] = {
    "reader.read": [Check(Action.VIEW_PAGES, reader_page)],
    "reader.pdf_view": [Check(Action.DOWNLOAD, pdf_view)],
    "reader.iiif_manifest": [Check(Action.VIEW_PAGES, iiif_manifest)],
    "reader.content_search": [Check(Action.VIEW_PAGES, content_search)],
    "reader.page_words": [Check(Action.VIEW_PAGES, page_words)],
    "reader.document": [Check(Action.DOWNLOAD, pdf_document)],
    "reader.original": [Check(Action.DOWNLOAD, original_file)],
    "api.items_list": [Check(Action.SEE_METADATA,
                             marker_in("/api/v1/items?per_page=100", title_marker))],
    "api.item": [Check(Action.SEE_METADATA, marker_in("/api/v1/items/{handle}", title_marker),
                       tombstone=True)],
    "api.item_files": [Check(Action.SEE_METADATA, api_file_list)],
    "api.file_content": [Check(Action.VIEW_PAGES, api_file(FileRole.THUMBNAIL)),
                         Check(Action.DOWNLOAD, api_file(FileRole.PDF))],
    "api.search": [Check(Action.SEE_METADATA, api_search(title_marker)),
                   Check(Action.VIEW_PAGES, api_search(text_marker))],
    "exports.item_dublin_core": [Check(Action.SEE_METADATA, marker_in(
        "/items/{handle}/dublin-core.xml", title_marker), tombstone=True)],
    "oai.endpoint": [Check(Action.SEE_METADATA, oai_records, public_only=True)],
    "iiif_image.info": [Check(Action.VIEW_PAGES, iiif_info)],
    "iiif_image.image": [Check(Action.VIEW_PAGES, iiif_tile)],
    "public.item": [Check(Action.SEE_METADATA, item_page, tombstone=True)],
    "public.collection": [Check(Action.SEE_METADATA, collection_listing)],
    "delivery.thumbnail": [Check(Action.VIEW_PAGES, thumbnail)],
    "search.search": [Check(Action.SEE_METADATA, search_metadata),
                      Check(Action.VIEW_PAGES, search_text),
                      Check(Action.SEE_METADATA, facet_counts)],
    "public.home": [],  # counts checked in test_home_counts_only_what_may_be_found
}


@pytest.fixture
def matrix_app(tmp_path, database_url):
    from tests.conftest import make_test_app
    app = make_test_app(tmp_path, database_url)
    fixture = build(app, tmp_path)
    yield app, fixture
    app.extensions["khoso"].db.dispose()


def signed_in(app, reader: ReaderCase):
    client = app.test_client()
    if reader.username:
        client.post("/login", data={"username": reader.username, "password": PASSWORD},
                    environ_base={"REMOTE_ADDR": reader.address})
    return client


def identity_of(app, reader: ReaderCase) -> Identity:
    """What the policy sees: expired readers cannot sign in, so they are anonymous."""
    with app.app_context(), parts().db.session() as session:
        onsite = is_onsite(reader.address, reading_room_networks(session))
        user = session.scalar(select(User).where(User.username == reader.username)) \
            if reader.username else None
        if user is None or user.is_expired(date.today()):
            return Identity.anonymous(reader.address, onsite)
        return Identity.of_user(user, reader.address, onsite)


def expected(app, identity: Identity, check: Check, fixture: Fixture, policy: str) -> bool:
    if check.public_only:
        identity = Identity.anonymous()
    with app.app_context(), parts().db.session() as session:
        item = session.scalar(select(Item).where(Item.handle == fixture.handle[policy]))
        if parts().policy.can(identity, check.action, item):
            return True
        return check.tombstone and parts().policy.can_see_tombstone(identity, item)


def test_every_route_is_classified(matrix_app):
    app, _ = matrix_app
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    known = set(CHECKS) | NO_ITEM_CONTENT
    unclassified = sorted(e for e in endpoints
                          if e not in known and not e.startswith(STAFF_ONLY_PREFIXES))
    assert unclassified == [], "classify these routes in tests/access/test_matrix.py"


@pytest.mark.parametrize("reader", READER_CASES, ids=lambda reader: reader.name)
def test_no_route_reveals_more_or_less_than_the_policy(matrix_app, reader):
    app, fixture = matrix_app
    client = signed_in(app, reader)
    identity = identity_of(app, reader)
    wrong = []
    for endpoint, checks in CHECKS.items():
        for check in checks:
            for case in POLICIES:
                want = expected(app, identity, check, fixture, case.name)
                got = check.reveals(client, fixture, case.name, reader.address)
                if got != want:
                    wrong.append(f"{endpoint}/{check.reveals.__name__} {case.name}: "
                                 f"revealed={got} policy={want}")
    assert wrong == []


def test_home_counts_only_what_may_be_found(matrix_app):
    app, fixture = matrix_app
    for reader in READER_CASES:
        identity = identity_of(app, reader)
        visible = sum(expected(app, identity, Check(Action.SEE_METADATA, item_page), fixture,
                               case.name) for case in POLICIES)
        page = fetch(signed_in(app, reader), "/", reader.address).body
        assert f"{visible} tài liệu" in page, reader.name


@pytest.mark.parametrize("endpoint_prefix", STAFF_ONLY_PREFIXES)
def test_staff_routes_refuse_everyone_else(matrix_app, endpoint_prefix):
    app, _ = matrix_app
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith(endpoint_prefix)]
    for rule in rules:
        url = re.sub(r"<(?:int:)?(\w+)>", "1", rule.rule)
        method = "get" if "GET" in rule.methods else sorted(rule.methods - {"OPTIONS"})[0].lower()
        for reader in READER_CASES:
            if reader.username in ("canbo", "quantri"):
                continue
            response = getattr(signed_in(app, reader), method)(url)
            response.close()
            assert response.status_code in (302, 401, 403, 404), (url, reader.name)
