"""The JSON API: every endpoint, paging, and the access policy on every path that carries
content (lists, details, files, file content, search)."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate
from sqlalchemy import select

from repository.models import AuditEvent
from tests.api.library import bearer
from viewer.extensions import parts

API = "/api/v1"


def get(client, path, token=None, **args):
    return client.get(API + path, query_string=args, headers=bearer(token) if token else {})


def handles(response) -> set[str]:
    assert response.status_code == 200, response.json
    return {entry["handle"] for entry in response.json["items"]}


# -- collections --------------------------------------------------------------------------

def test_collections_are_listed_with_what_each_caller_may_find(client, library):
    response = get(client, "/collections")
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.json
    assert body["total"] == 3 and body["page"] == 1 and body["pages"] == 1
    counts = {entry["slug"]: entry["item_count"] for entry in body["items"]}
    assert counts == {"sach": 3, "noi-bo": 0, "xem": 1}  # no draft, no staff-only item
    staff = get(client, "/collections", library.staff_token).json
    assert {entry["slug"]: entry["item_count"] for entry in staff["items"]}["noi-bo"] == 1


def test_one_collection_and_an_unknown_one(client, library):
    body = get(client, "/collections/sach").json
    assert body["title"] == "Sách cổ" and body["links"]["items"].endswith("collection=sach")
    missing = get(client, "/collections/khong-co")
    assert missing.status_code == 404 and missing.json["status"] == 404


# -- items and paging ---------------------------------------------------------------------

def test_anonymous_lists_only_published_items_it_may_find(client, library):
    found = handles(get(client, "/items"))
    assert set(library.open_items) <= found and library.view_only in found
    assert library.hidden not in found and library.draft not in found
    assert handles(get(client, "/items", collection="noi-bo")) == set()
    assert handles(get(client, "/items", status="draft")) == set()


def test_staff_filter_by_collection_and_status(client, library):
    token = library.staff_token
    assert handles(get(client, "/items", token, collection="noi-bo")) == {library.hidden}
    assert handles(get(client, "/items", token, status="draft")) == {library.draft}
    assert get(client, "/items", token, status="lost").status_code == 400
    assert get(client, "/items", collection="khong-co").status_code == 404


def test_paging_with_link_headers(client, library):
    first = get(client, "/items", per_page=2)
    assert first.json["total"] == 4 and first.json["pages"] == 2 and len(first.json["items"]) == 2
    links = first.headers["Link"]
    assert 'rel="next"' in links and 'rel="prev"' not in links and 'rel="last"' in links
    assert "page=2" in links and "per_page=2" in links
    second = get(client, "/items", per_page=2, page=2)
    assert 'rel="prev"' in second.headers["Link"] and 'rel="next"' not in second.headers["Link"]
    assert not handles(first) & handles(second)


@pytest.mark.parametrize("args", [{"per_page": 101}, {"per_page": 0}, {"page": 0},
                                  {"page": "x"}, {"per_page": "-1"}])
def test_bad_paging_is_a_json_400(client, library, args):
    response = get(client, "/items", **args)
    assert response.status_code == 400 and response.json["status"] == 400
    assert response.json["message"]


def test_item_description_as_a_list_of_statements(client, library):
    body = get(client, f"/items/{library.open_items[0]}").json
    assert body["title"] == "Truyện Kiều" and body["status"] == "published"
    assert {"element": "title", "qualifier": None, "value": "Truyện Kiều",
            "language": "vi"} in body["metadata"]
    assert {"element": "date", "qualifier": "issued", "value": "1820",
            "language": None} in body["metadata"]
    assert body["rights"] == {"view_pages": True, "download": True, "edit": False}


def test_withdrawn_item_is_gone(app, client, library):
    headers = bearer(library.staff_token)
    client.put(f"{API}/items/{library.open_items[1]}/metadata", headers=headers, json={
        "metadata": [{"element": "title", "value": "Lục Vân Tiên"}]})
    from repository import items
    from repository.access import Identity
    from repository.models import ItemStatus, Role
    with app.app_context(), parts().db.session() as session:
        item = items.find_item(session, library.open_items[1], Identity(user_id=1, role=Role.STAFF),
                               parts().policy)
        items.change_status(session, item, ItemStatus.WITHDRAWN, reason="bản quyền")
    response = get(client, f"/items/{library.open_items[1]}")
    assert response.status_code == 410 and "Lục Vân Tiên" in response.json["message"]


# -- the policy on every content path ------------------------------------------------------

def hidden_paths(library) -> list[str]:
    pdf = library.files[f"{library.hidden}.pdf"]
    return [f"/items/{library.hidden}", f"/items/{library.hidden}/files",
            f"/items/{library.hidden}/files/{pdf}/content"]


def test_staff_only_item_is_invisible_to_anonymous(client, library):
    for path in hidden_paths(library):
        response = get(client, path)
        assert response.status_code == 404, path
        assert "Hoàng Sa" not in response.get_data(as_text=True)
    assert get(client, "/search", q="Hoàng Sa").json["total"] == 0


def test_staff_token_reaches_the_staff_only_item(client, library):
    for path in hidden_paths(library):
        assert get(client, path, library.staff_token).status_code == 200, path
    assert get(client, "/search", library.staff_token, q="Hoàng Sa").json["total"] == 1


def test_view_only_item_lists_files_but_keeps_the_pdf(client, library):
    files = get(client, f"/items/{library.view_only}/files").json["files"]
    by_role = {entry["role"]: entry for entry in files}
    assert by_role["pdf"]["content_url"] is None
    assert by_role["master"]["content_url"] is None          # full resolution is a download
    assert by_role["derivative"]["content_url"] is not None  # a page image: viewing is enough
    assert by_role["text"]["content_url"] is not None and by_role["derivative"]["page"] == 1
    pdf = library.files[f"{library.view_only}.pdf"]
    assert get(client, f"/items/{library.view_only}/files/{pdf}/content").status_code == 403


def test_page_image_content_streams_with_ranges(client, library):
    image = library.files[f"{library.view_only}.derivative1"]
    path = f"/items/{library.view_only}/files/{image}/content"
    whole = get(client, path)
    assert whole.status_code == 200 and whole.mimetype == "image/png"
    assert whole.data.startswith(b"\x89PNG") and "Content-Disposition" not in whole.headers
    assert "public" in whole.headers["Cache-Control"]
    part = client.get(API + path, headers={"Range": "bytes=0-7"})
    assert part.status_code == 206 and part.data == whole.data[:8]
    assert client.get(API + path, headers={"If-None-Match": whole.headers["ETag"]}
                      ).status_code == 304


def test_staff_download_the_pdf_as_an_attachment(client, library):
    pdf = library.files[f"{library.view_only}.pdf"]
    response = get(client, f"/items/{library.view_only}/files/{pdf}/content", library.staff_token)
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert "attachment" in response.headers["Content-Disposition"]
    assert "private" in response.headers["Cache-Control"]


def test_watermarked_item_is_not_handed_out_raw(client, library):
    pdf = library.files[f"{library.watermarked}.pdf"]
    files = get(client, f"/items/{library.watermarked}/files").json["files"]
    assert [entry["content_url"] for entry in files] == [None]
    assert get(client, f"/items/{library.watermarked}/files/{pdf}/content").status_code == 403


def test_a_file_of_another_item_is_not_found(client, library):
    image = library.files[f"{library.view_only}.derivative1"]
    path = f"/items/{library.open_items[0]}/files/{image}/content"
    assert get(client, path).status_code == 404
    assert get(client, f"/items/{library.open_items[0]}/files/999999/content").status_code == 404


# -- search --------------------------------------------------------------------------------

def test_search_as_the_portal_does(client, library):
    response = get(client, "/search", q="nguyen du", per_page=5)
    body = response.json
    assert response.status_code == 200 and body["total"] == 1 and body["per_page"] == 5
    [hit] = body["items"]
    assert hit["handle"] == library.open_items[0] and hit["title"] == "Truyện Kiều"
    assert hit["links"]["self"].endswith(f"/api/v1/items/{library.open_items[0]}")
    assert "collection" in body["facets"] and "Link" in response.headers
    assert get(client, "/search", q="x", per_page=500).status_code == 400


# -- editing (staff, with a token) ----------------------------------------------------------

def test_put_replaces_the_description_and_is_audited(app, client, library):
    handle = library.open_items[0]
    response = client.put(f"{API}/items/{handle}/metadata", headers=bearer(library.staff_token),
                          json={"metadata": [
                              {"element": "title", "value": "Đoạn trường tân thanh",
                               "language": "vi"},
                              {"element": "creator", "value": "Nguyễn Du"}]})
    assert response.status_code == 200, response.json
    assert response.json["title"] == "Đoạn trường tân thanh"
    assert [entry["element"] for entry in response.json["metadata"]] == ["title", "creator"]
    with app.app_context(), parts().db.session() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "item.metadata"))
        assert event.actor_name == "thuthu"
        assert event.new["dc.title[vi]"] == ["Đoạn trường tân thanh"]
        assert event.old["dc.subject"] == ["Thơ"] and event.new["dc.subject"] == []
    assert get(client, "/search", q="doan truong").json["total"] == 1  # re-indexed


def test_patch_replaces_named_fields_and_removes_others(client, library):
    handle = library.open_items[1]
    response = client.patch(f"{API}/items/{handle}/metadata", headers=bearer(library.staff_token),
                            json={"metadata": [{"element": "subject", "value": "Truyện thơ"},
                                               {"element": "subject", "value": "Nam Bộ"}],
                                  "remove": [{"element": "date", "qualifier": "issued"}]})
    assert response.status_code == 200, response.json
    metadata = response.json["metadata"]
    assert [m["value"] for m in metadata if m["element"] == "subject"] == ["Truyện thơ", "Nam Bộ"]
    assert not [m for m in metadata if m["element"] == "date"]
    assert response.json["title"] == "Lục Vân Tiên"


@pytest.mark.parametrize(("body", "status"), [
    ({"metadata": [{"element": "author", "value": "x"}]}, 400),
    ({"metadata": [{"element": "title"}]}, 400),
    ({"metadata": "title"}, 400),
    ([], 400),
    ({"metadata": [{"element": "title", "value": "x", "language": "v i"}]}, 422),
    ({"metadata": [{"element": "creator", "value": "Nguyễn Du"}]}, 422),  # no title
    ({"metadata": [{"element": "title", "value": "   "}]}, 422),
])
def test_bad_descriptions_are_refused(client, library, body, status):
    response = client.put(f"{API}/items/{library.open_items[0]}/metadata",
                          headers=bearer(library.staff_token), json=body)
    assert response.status_code == status, response.json
    assert get(client, f"/items/{library.open_items[0]}").json["title"] == "Truyện Kiều"


def test_hidden_item_cannot_be_edited_by_probing(client, library):
    response = client.put(f"{API}/items/nosuchitem/metadata", headers=bearer(library.staff_token),
                          json={"metadata": [{"element": "title", "value": "x"}]})
    assert response.status_code == 404


# -- batches ----------------------------------------------------------------------------------

def test_batches_are_for_staff(client, library):
    assert get(client, "/batches").status_code == 401
    body = get(client, "/batches", library.staff_token).json
    [batch] = body["items"]
    assert batch["status"] == "partial" and batch["tasks"]["failed"] == 1
    assert batch["tasks"]["done"] == 1 and batch["problem_count"] == 1
    detail = get(client, f"/batches/{library.batch_id}", library.staff_token).json
    assert detail["failures"][0]["error_code"] == "image-truncated"
    assert detail["failures"][0]["item"] == library.hidden
    assert detail["problems"][0]["code"] == "not-a-page"
    assert get(client, "/batches/999", library.staff_token).status_code == 404


def test_a_signed_in_reader_may_not_see_batches(client, library):
    client.post("/login", data={"username": "docgia", "password": "mat-khau-kiem-thu-1"})
    assert get(client, "/batches").status_code == 403


# -- the document ----------------------------------------------------------------------------

def test_openapi_document_describes_every_route(app, client):
    document = client.get(f"{API}/openapi.json").json
    assert document["openapi"] == "3.0.3"
    validate(document)  # against the OpenAPI 3.0 meta-schema
    routes = {rule.rule.removeprefix(API).replace("<int:", "{").replace("<", "{")
              .replace(">", "}") for rule in app.url_map.iter_rules()
              if rule.endpoint.startswith("api.")}
    routes -= {"/openapi.json", "/docs"}
    assert routes == set(document["paths"])


def test_reference_page(client):
    page = client.get(f"{API}/docs").get_data(as_text=True)
    assert "PUT /items/{handle}/metadata" in page and "<script" not in page
