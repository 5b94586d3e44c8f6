"""A small library for the API and export tests: items under each kind of rule, files of each
role, a staff account with a token, a reader, an ingest batch."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask

from repository import accounts, api_tokens, collections, items
from repository.access_rules import RuleChange, set_rule
from repository.dublin_core import Statement
from repository.files import add_file
from repository.models import (
    AccessLevel,
    BatchStatus,
    FileRole,
    IngestBatch,
    IngestTask,
    ItemStatus,
    Page,
    Role,
    TaskState,
)
from viewer.extensions import csrf, parts

OPEN, STAFF = AccessLevel.OPEN, AccessLevel.STAFF
PASSWORD = "mat-khau-kiem-thu-1"
PDF_BYTES = b"%PDF-1.4\n% khoso test\n" + b"0" * 2000 + b"\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 500


def register_blueprints(app: Flask) -> Flask:
    """Until the app factory registers them: the API (CSRF-exempt) and the export pages."""
    from viewer import exports
    from viewer.api import bp as api_bp
    if "api" not in app.blueprints:
        csrf.exempt(api_bp)
        app.register_blueprint(api_bp)
    if "exports" not in app.blueprints:
        app.register_blueprint(exports.bp)
    return app


@dataclass
class Library:
    open_items: list[str] = field(default_factory=list)
    draft: str = ""
    hidden: str = ""
    view_only: str = ""
    watermarked: str = ""
    files: dict[str, int] = field(default_factory=dict)   # "view_only.pdf" -> file id
    staff_token: str = ""
    staff_token_id: int = 0
    batch_id: int = 0


def build_library(app: Flask, tmp_path: Path) -> Library:
    library = Library()
    tmp_path.mkdir(parents=True, exist_ok=True)
    with app.app_context(), parts().db.session() as session:
        store = parts().store
        sach = _collection(session, "sach", "Sách cổ", OPEN, OPEN, OPEN)
        for title, creator in (("Truyện Kiều", "Nguyễn Du"),
                               ("Lục Vân Tiên", "Nguyễn Đình Chiểu")):
            item = _item(session, sach, title, creator, subject="Thơ")
            library.open_items.append(item.handle)
        library.draft = _item(session, sach, "Bản nháp", "Vô danh", publish=False).handle
        secret = _collection(session, "noi-bo", "Nội bộ", STAFF, STAFF, STAFF)
        hidden = _item(session, secret, "Hồ sơ mật Hoàng Sa", "Sở Mật thám")
        library.hidden = hidden.handle
        _add(session, store, hidden, FileRole.PDF, "pdf", PDF_BYTES, tmp_path, library)
        viewing = _collection(session, "xem", "Chỉ xem", OPEN, OPEN, STAFF)
        view_only = _item(session, viewing, "Địa chí Hà Tĩnh", "Trần Văn Giáp")
        library.view_only = view_only.handle
        _pages(session, store, view_only, tmp_path, library)
        marked = _item(session, sach, "Bản đồ có dấu", "Phủ Thừa Thiên")
        set_rule(session, None, RuleChange(metadata=OPEN, view=OPEN, download=OPEN,
                                           watermark=True), item=marked)
        library.watermarked = marked.handle
        _add(session, store, marked, FileRole.PDF, "pdf", PDF_BYTES, tmp_path, library)
        _people(session, library)
        library.batch_id = _batch(session, sach, hidden)
    return library


def _collection(session, slug, title, metadata, view, download):
    collection = collections.create_collection(session, slug=slug, title=title)
    set_rule(session, None, RuleChange(metadata=metadata, view=view, download=download),
             collection=collection)
    return collection


def _item(session, collection, title, creator, publish=True, **extra):
    statements = [Statement("title", title, language="vi"), Statement("creator", creator),
                  Statement("date", "1820", "issued"), Statement("language", "vi")]
    statements += [Statement(element, value) for element, value in extra.items()]
    item = items.create_item(session, collection, statements)
    if publish:
        items.change_status(session, item, ItemStatus.PUBLISHED)
    return item


def _add(session, store, item, role, extension, data, tmp_path, library, page=None):
    source = tmp_path / f"{item.handle}-{role.value}-{page.sequence if page else 0}.{extension}"
    source.write_bytes(data)
    media = {"pdf": "application/pdf", "png": "image/png", "txt": "text/plain"}[extension]
    stored = add_file(session, store, item, role, source, media_type=media, extension=extension,
                      page=page, original_name=f"{item.title}.{extension}")
    session.flush()
    library.files[f"{item.handle}.{role.value}{page.sequence if page else ''}"] = stored.id
    return stored


def _pages(session, store, item, tmp_path, library):
    page = Page(item=item, sequence=1, label="1", width=10, height=10, text="Núi Hồng Lĩnh")
    session.add(page)
    session.flush()
    _add(session, store, item, FileRole.PDF, "pdf", PDF_BYTES, tmp_path, library)
    _add(session, store, item, FileRole.MASTER, "png", PNG_BYTES, tmp_path, library, page)
    _add(session, store, item, FileRole.DERIVATIVE, "png", PNG_BYTES[:300], tmp_path, library,
         page)
    _add(session, store, item, FileRole.TEXT, "txt", "Núi Hồng Lĩnh".encode(), tmp_path,
         library, page)


def _people(session, library):
    staff = accounts.create_user(session, username="thuthu", password=PASSWORD, role=Role.STAFF)
    accounts.create_user(session, username="docgia", password=PASSWORD, role=Role.READER)
    token, secret = api_tokens.create_token(session, staff, name="tests")
    library.staff_token, library.staff_token_id = secret, token.id


def _batch(session, collection, item) -> int:
    batch = IngestBatch(collection=collection, source_name="scans.zip",
                        status=BatchStatus.PARTIAL,
                        problems=[{"code": "not-a-page", "source": "scans.zip/ghi-chu.docx"}])
    batch.tasks = [
        IngestTask(item=item, kind="page", sequence=1, state=TaskState.DONE),
        IngestTask(item=item, kind="page", sequence=2, state=TaskState.FAILED, attempts=3,
                   original_name="trang-2.tif", error_code="image-truncated",
                   error_message="The image is cut short."),
    ]
    session.add(batch)
    session.flush()
    return batch.id


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
