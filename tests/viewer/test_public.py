"""The public pages in a browser's terms: Vietnamese first, English on request, no tracebacks."""

import pytest

from repository import items
from repository.access import Identity
from repository.models import Item, ItemStatus, Role
from viewer.demo import load_demo
from viewer.extensions import parts

STAFF = Identity(user_id=1, role=Role.STAFF)


@pytest.fixture
def demo(app):
    with app.app_context(), parts().db.session() as session:
        load_demo(session, parts().store)
    with app.app_context(), parts().db.session() as session:
        return [item.handle for item in session.query(Item).order_by(Item.id)]


def test_home_lists_collections_in_vietnamese(client, demo):
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="vi">' in page
    assert "Tư liệu địa phương" in page
    assert "4 tài liệu" in page
    assert "Đăng nhập" in page


def test_english_is_one_click_away(client, demo):
    response = client.get("/lang/en?next=/")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Local materials" in page and "4 documents" in page


def test_language_switch_refuses_open_redirects(client):
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        response = client.get("/lang/vi", query_string={"next": target})
        assert response.headers["Location"] == "/"


def test_collection_page_lists_published_items(client, demo):
    page = client.get("/collections/tu-lieu-dia-phuong").get_data(as_text=True)
    assert "Truyện Kiều (trích đoạn mở đầu)" in page
    assert "Nguyễn Du" in page
    assert client.get("/collections/khong-co").status_code == 404


def test_item_page_shows_dublin_core(client, demo):
    page = client.get(f"/items/{demo[0]}").get_data(as_text=True)
    assert "<dt>Tác giả</dt>" in page and "Nguyễn Du" in page
    assert "<dt>Ngôn ngữ</dt>" in page and "Tiếng Việt" in page
    assert "Nguyễn Du (1820). Truyện Kiều (trích đoạn mở đầu)." in page
    assert "2 trang" in page


def test_unknown_and_draft_items_are_not_found(app, client, demo):
    assert client.get("/items/doesnotexist").status_code == 404
    with app.app_context(), parts().db.session() as session:
        item = items.find_item(session, demo[1], STAFF, parts().policy)
        items.change_status(session, item, ItemStatus.REVIEW)
    response = client.get(f"/items/{demo[1]}")
    assert response.status_code == 404
    assert "Không tìm thấy trang" in response.get_data(as_text=True)


def test_withdrawn_item_answers_gone_with_citation(app, client, demo):
    with app.app_context(), parts().db.session() as session:
        item = items.find_item(session, demo[2], STAFF, parts().policy)
        items.change_status(session, item, ItemStatus.WITHDRAWN, reason="test")
    response = client.get(f"/items/{demo[2]}")
    assert response.status_code == 410
    assert "Lý Thường Kiệt (1077). Nam quốc sơn hà." in response.get_data(as_text=True)


def test_thumbnail_streams_with_validators(client, demo):
    response = client.get(f"/items/{demo[0]}/thumbnail")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert response.data[:3] == b"\xff\xd8\xff"
    etag = response.headers["ETag"]
    assert client.get(f"/items/{demo[0]}/thumbnail",
                      headers={"If-None-Match": etag}).status_code == 304
    partial = client.get(f"/items/{demo[0]}/thumbnail", headers={"Range": "bytes=0-9"})
    assert partial.status_code == 206 and partial.data == response.data[:10]
    assert partial.headers["Content-Range"] == f"bytes 0-9/{len(response.data)}"


def test_hidden_item_thumbnail_is_not_served(app, client, demo):
    with app.app_context(), parts().db.session() as session:
        item = items.find_item(session, demo[0], STAFF, parts().policy)
        items.change_status(session, item, ItemStatus.REVIEW)
    assert client.get(f"/items/{demo[0]}/thumbnail").status_code == 404


def test_security_headers(client):
    response = client.get("/")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_unexpected_error_shows_no_traceback(app, client):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = client.get("/boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Traceback" not in body and "secret internals" not in body
    assert "Đã có lỗi xảy ra" in body


def test_json_clients_get_json_errors(client):
    response = client.get("/items/nothing", headers={"Accept": "application/json"})
    assert response.status_code == 404 and response.json["status"] == 404


def test_healthz_reports_each_part(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "checks": {"database": "ok", "storage": "ok"}}


def test_healthz_fails_when_the_database_is_unreachable(tmp_path):
    from tests.conftest import make_test_app
    broken = make_test_app(tmp_path, f"sqlite:///{tmp_path}/missing-dir/db.sqlite3")
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["checks"]["database"] == "unavailable"
