"""The staff ingest pages through HTTP: upload with a bad file among good ones, the batch page
with every file's state and reason, live progress, retry, the review queue and publishing."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from ingest import web
from ingest.tasks import recover, run_serially
from repository import accounts
from repository.models import (
    BatchStatus,
    DCValue,
    IngestBatch,
    IngestTask,
    Item,
    ItemStatus,
    Role,
    TaskState,
)
from tests.ingest.conftest import SHORT_TEXT, Station, station_app
from tests.ingest.helpers import render_page

PASSWORD = "correct horse battery"
PAGES = ["/staff/upload", "/staff/batches", "/staff/review"]


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch) -> None:
    monkeypatch.setattr(accounts, "DEFAULT_HASHER",
                        PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


def build(tmp_path, database_url, **overrides):
    app = station_app(tmp_path, database_url, **overrides)
    if "ingest" not in app.blueprints:
        app.register_blueprint(web.bp)
    with app.app_context(), app.extensions["khoso"].db.session() as session:
        for username, role in (("thuthu", Role.STAFF), ("docgia", Role.READER)):
            accounts.create_user(session, username=username, password=PASSWORD, role=role)
    return Station(app)


@pytest.fixture
def station(tmp_path, database_url):
    built = build(tmp_path, database_url,
                  INGEST_COLLECTION_OPTIONS={"sach": {"ocr": False, "dpi": 72}})
    yield built
    built.app.extensions["khoso"].db.dispose()


def browser(app, username: str | None = "thuthu", language: str = "en"):
    client = app.test_client()
    client.get(f"/lang/{language}")
    if username:
        response = client.post("/login", data={"username": username, "password": PASSWORD})
        assert response.status_code == 302
    return client


def png(text: str = SHORT_TEXT) -> bytes:
    buffer = io.BytesIO()
    render_page(text, dpi=150).save(buffer, "PNG", dpi=(150, 150))
    return buffer.getvalue()


def upload(client, files: list[tuple[str, bytes]], **fields):
    data = {"collection": "sach", "layout": "items", "languages": "vie", **fields,
            "files": [(io.BytesIO(content), name) for name, content in files]}
    return client.post("/staff/upload", data=data, content_type="multipart/form-data")


def work(station: Station) -> None:
    """What a worker would do: every queued task, in this process."""
    with station.app.app_context():
        run_serially(station.rt, recover(station.rt))


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.mark.parametrize("path", PAGES)
def test_staff_pages_render_for_staff_only(station, path):
    assert browser(station.app, None).get(path).status_code == 302
    assert browser(station.app, "docgia").get(path).status_code == 403
    page = browser(station.app).get(path)
    assert page.status_code == 200
    assert "style=" not in text(page) and "<script>" not in text(page)
    assert 'src="/static/ingest.js"' in text(page)


def test_upload_with_a_bad_file_ingests_the_good_ones(station):
    client = browser(station.app)
    response = upload(client, [("trang 1.png", png()), ("trang 2.png", png()),
                               ("hỏng.jpg", b"\x00not an image at all"),
                               ("ghi chú.txt", "việc cần làm: quét báo năm 1945".encode())])
    assert response.status_code == 303
    batch_url = response.headers["Location"]
    assert re.fullmatch(r"/staff/batches/\d+", batch_url)
    assert client.get(batch_url + "/progress.json").json["status"] == "planning"
    work(station)
    assert client.get(batch_url + "/progress.json").json == {
        "status": "partial", "total": 6, "done": 4, "failed": 2, "running": 0, "percent": 100,
        "finished": True}
    page = text(client.get(batch_url))
    assert page.count('class="state state-done"') == 2
    assert "hỏng.jpg" in page and "This kind of file is not accepted" in page
    assert "ghi chú.txt cannot be ingested" in page
    assert "Retry the failed files" in page
    with station.session() as session:
        statuses = session.scalars(select(Item.status).order_by(Item.id)).all()
    assert statuses == [ItemStatus.REVIEW, ItemStatus.REVIEW, ItemStatus.DRAFT]


def test_the_pages_of_one_item_and_a_zip(station):
    client = browser(station.app)
    upload(client, [("b.png", png()), ("a.png", png())], layout="pages", title="Gia phả")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("Tập 1/1.png", png())
        zipped.writestr("Tập 2/1.png", png())
    upload(client, [("sach.zip", archive.getvalue())])
    work(station)
    with station.session() as session:
        made = [(item.title, len(item.pages)) for item in
                session.scalars(select(Item).order_by(Item.id))]
    assert made == [("Gia phả", 2), ("Tập 1", 1), ("Tập 2", 1)]


def test_an_upload_needs_files_and_a_known_collection(station):
    client = browser(station.app)
    page = text(upload(client, []))
    assert "Choose at least one file." in page
    assert upload(client, [("a.png", png())], collection="khong-co").status_code == 200
    with station.session() as session:
        assert session.scalar(select(IngestBatch.id)) is None


def test_the_upload_form_needs_its_csrf_token(tmp_path, database_url):
    station = build(tmp_path, database_url, WTF_CSRF_ENABLED=True)
    client = station.app.test_client()
    form = text(client.get("/login"))
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
    client.post("/login", data={"username": "thuthu", "password": PASSWORD,
                                "csrf_token": token})
    assert upload(client, [("a.png", png())]).status_code == 400
    with station.session() as session:
        assert session.scalar(select(IngestBatch.id)) is None


def test_failed_files_can_be_retried(station, monkeypatch):
    client = browser(station.app)
    batch_url = upload(client, [("a.png", png())]).headers["Location"]
    from ingest import pipeline
    real = pipeline.process_page
    monkeypatch.setattr(pipeline, "process_page", lambda ctx, engine: 1 / 0)
    work(station)
    assert client.get(batch_url + "/progress.json").json["status"] == "failed"
    assert "unexpected error stopped this task" in text(client.get(batch_url))
    monkeypatch.setattr(pipeline, "process_page", real)
    retried = client.post(batch_url + "/retry")
    assert retried.status_code == 303
    assert "The failed files were queued again." in text(client.get(batch_url))
    work(station)
    assert client.get(batch_url + "/progress.json").json["status"] == "done"


@pytest.fixture
def reviewed(tmp_path, database_url):
    """An item that went through OCR, waiting for review."""
    station = build(tmp_path, database_url)
    upload(browser(station.app), [("Thư viện.png", png())])
    work(station)
    with station.session() as session:
        handle = session.scalar(select(Item.handle))
    yield station, handle
    station.app.extensions["khoso"].db.dispose()


def test_the_review_queue_shows_pages_text_and_suggestions(reviewed):
    station, handle = reviewed
    client = browser(station.app)
    queue = text(client.get("/staff/review"))
    assert "1 item is waiting for review" in queue and f"/staff/review/{handle}" in queue
    thumbnail = client.get(f"/staff/review/{handle}/pages/1/thumbnail")
    assert thumbnail.status_code == 200 and thumbnail.mimetype == "image/jpeg"
    page = text(client.get(f"/staff/review/{handle}"))
    assert "Thư viện" in page and "viện" in page.split("page-text", 1)[1]
    assert "from text recognition" in page and "Accept" in page
    assert browser(station.app, "docgia").get(f"/staff/review/{handle}").status_code == 403


def test_accept_a_suggestion_edit_and_publish(reviewed):
    station, handle = reviewed
    client = browser(station.app)
    with station.session() as session:
        item = session.scalar(select(Item))
        result = session.scalar(select(IngestTask.result).where(IngestTask.kind == "item"))
    index = next(number for number, entry in enumerate(result["suggestions"])
                 if entry["element"] == "format.extent")
    client.post(f"/staff/review/{handle}/accept", data={"index": str(index)})
    saved = client.post(f"/staff/review/{handle}/metadata", data={
        "rows-0-element": "title", "rows-0-value": "Thư viện tỉnh",
        "rows-1-element": "creator", "rows-1-value": "Nguyễn Văn A",
        "rows-2-element": "format", "rows-2-qualifier": "extent", "rows-2-value": "1 trang"})
    assert saved.status_code == 303
    with station.session() as session:
        values = {(value.element, value.qualifier, value.value)
                  for value in session.scalars(select(DCValue))}
    assert values == {("title", None, "Thư viện tỉnh"), ("creator", None, "Nguyễn Văn A"),
                      ("format", "extent", "1 trang")}
    refused = client.post(f"/staff/review/{handle}/metadata", data={"rows-0-element": "creator",
                                                                    "rows-0-value": "X"})
    assert refused.status_code == 422 and "An item needs a title" in text(refused)
    published = client.post(f"/staff/review/{handle}/publish")
    assert published.headers["Location"] == "/staff/review"
    with station.session() as session:
        assert session.get(Item, item.id).status is ItemStatus.PUBLISHED
    assert "Nothing is waiting for review." in text(client.get("/staff/review"))


def test_pages_render_in_vietnamese(reviewed):
    station, handle = reviewed
    client = browser(station.app, language="vi")
    for path in [*PAGES, f"/staff/review/{handle}", "/staff/batches/1"]:
        assert client.get(path).status_code == 200, path


def test_a_batch_page_of_a_finished_batch_does_not_poll(reviewed):
    station, _ = reviewed
    page = text(browser(station.app).get("/staff/batches/1"))
    assert "data-progress-url" not in page
    with station.session() as session:
        assert session.get(IngestBatch, 1).status is BatchStatus.DONE
        assert set(session.scalars(select(IngestTask.state))) == {TaskState.DONE}
    assert browser(station.app).get("/staff/batches/99").status_code == 404

