"""Writing what the pipeline made into the object store and the database, idempotently.

Every object has a key fixed by the item's handle, the page number and the role, so a retry
overwrites what a crashed attempt stored; rows are upserted (a page by item and number, a file by
key). Objects are stored first, rows committed after: an object whose row never committed is left
only until ``sweep`` removes every object under the item's prefix that no row names.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

import storage
from ingest.identify import MIME
from ingest.pipeline import PageOutcome
from repository.files import object_key
from repository.models import FileRole, ItemFile, Page

TEXT = "text/plain; charset=utf-8"
HOCR = "text/vnd.hocr+html"
EXTENSIONS = {"tiff": "tif", "jpeg": "jpg", "png": "png", "jp2": "jp2", "j2k": "j2k",
              "webp": "webp", "pdf": "pdf"}


@dataclass(frozen=True)
class Stored:
    """An object written to the store, ready to be recorded as an ``ItemFile``."""

    role: FileRole
    key: str
    size: int
    sha256: str
    media_type: str
    original_name: str


def page_key(handle: str, sequence: int, role: FileRole, extension: str) -> str:
    return object_key(SimpleNamespace(handle=handle), role, extension,  # type: ignore[arg-type]
                      SimpleNamespace(sequence=sequence))  # type: ignore[arg-type]


def item_key(handle: str, role: FileRole, extension: str) -> str:
    return object_key(SimpleNamespace(handle=handle), role, extension)  # type: ignore[arg-type]


def original_key(handle: str, number: int, kind: str) -> str:
    """``items/<handle>/originals/0001.tif``: an item may come from several files."""
    return f"items/{handle}/originals/{number:04d}.{EXTENSIONS.get(kind, 'bin')}"


def put(store: storage.ObjectStore, key: str, path: Path, role: FileRole, media_type: str,
        original_name: str = "") -> Stored:
    info = store.put(key, path, media_type=media_type)
    return Stored(role, key, info.size, info.sha256 or "", media_type,
                  original_name or path.name)


def put_page(store: storage.ObjectStore, handle: str, sequence: int, outcome: PageOutcome,
             scratch: Path) -> list[Stored]:
    """The page's master, web image, thumbnail, text and hOCR, under their fixed keys."""
    files = [(FileRole.MASTER, outcome.master, "image/png", "png"),
             (FileRole.DERIVATIVE, outcome.web, "image/jpeg", "jpg"),
             (FileRole.THUMBNAIL, outcome.thumbnail, "image/jpeg", "jpg")]
    if outcome.text:
        text = scratch / f"p{sequence:05d}.text.txt"
        text.write_text(outcome.text + "\n", encoding="utf-8")
        files.append((FileRole.TEXT, text, TEXT, "txt"))
    if outcome.hocr is not None:
        files.append((FileRole.HOCR, outcome.hocr, HOCR, "html"))
    return [put(store, page_key(handle, sequence, role, extension), path, role, media_type)
            for role, path, media_type, extension in files]


def record_page(session: Session, item_id: int, sequence: int, outcome: PageOutcome,
                stored: list[Stored]) -> Page:
    """Upsert the page row (its uid is kept) and its file rows; drop rows of files it lost."""
    page = session.scalar(select(Page).where(Page.item_id == item_id,
                                             Page.sequence == sequence))
    if page is None:
        page = Page(item_id=item_id, sequence=sequence)
        session.add(page)
    page.label = str(sequence)
    page.width, page.height = outcome.width, outcome.height
    page.text = outcome.text
    page.ocr_confidence = outcome.confidence
    session.flush()
    record_files(session, item_id, stored, page_id=page.id)
    keys = [entry.key for entry in stored]
    session.execute(delete(ItemFile).where(ItemFile.page_id == page.id,
                                           ItemFile.storage_key.not_in(keys)))
    return page


def record_files(session: Session, item_id: int, stored: list[Stored],
                 page_id: int | None = None) -> None:
    """Insert or update one ``ItemFile`` per stored object (the key is unique)."""
    existing = {row.storage_key: row for row in session.scalars(
        select(ItemFile).where(ItemFile.storage_key.in_([entry.key for entry in stored])))}
    for entry in stored:
        row = existing.get(entry.key) or ItemFile(storage_key=entry.key)
        row.item_id, row.page_id, row.role = item_id, page_id, entry.role
        row.size, row.sha256, row.media_type = entry.size, entry.sha256, entry.media_type
        row.original_name = entry.original_name[:512]
        session.add(row)
    session.flush()


def keep_page_pdf(outcome: PageOutcome, work_dir: Path, item_id: int, sequence: int) -> Path:
    """Move the page's PDF where the item's finishing step will look for it."""
    target = page_pdf_path(work_dir, item_id, sequence)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(outcome.page_pdf, target)
    return target


def page_pdf_path(work_dir: Path, item_id: int, sequence: int) -> Path:
    return work_dir / "pages" / str(item_id) / f"{sequence:05d}.pdf"


def original_media_type(kind: str) -> str:
    return MIME.get(kind, "application/octet-stream")


def sweep(session: Session, store: storage.ObjectStore, handle: str) -> list[str]:
    """Delete the objects under the item's prefix that no ``ItemFile`` row names."""
    prefix = f"items/{handle}/"
    known = set(session.scalars(select(ItemFile.storage_key).where(
        ItemFile.storage_key.startswith(prefix, autoescape=True))))
    stray = [info.key for info in store.list(prefix) if info.key not in known]
    for key in stray:
        store.delete(key)
    return stray
