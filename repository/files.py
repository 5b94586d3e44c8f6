"""Stored files of items: where their objects live and how they are recorded."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

import storage
from repository.models import FileRole, Item, ItemFile, Page

ROLE_NAMES = {
    FileRole.ORIGINAL: "original",
    FileRole.MASTER: "master",
    FileRole.DERIVATIVE: "web",
    FileRole.THUMBNAIL: "thumbnail",
    FileRole.PDF: "document",
    FileRole.TEXT: "text",
    FileRole.HOCR: "hocr",
}


def object_key(item: Item, role: FileRole, extension: str, page: Page | None = None) -> str:
    """``items/<handle>/pages/0001/master.tif`` for page files, ``items/<handle>/document.pdf``
    for whole-item files: readable in a bucket listing, stable for the item's life."""
    name = f"{ROLE_NAMES[role]}.{extension.lstrip('.')}"
    if page is None:
        return f"items/{item.handle}/{name}"
    return f"items/{item.handle}/pages/{page.sequence:04d}/{name}"


def add_file(session: Session, store: storage.ObjectStore, item: Item, role: FileRole,
             source: Path, *, media_type: str, extension: str, page: Page | None = None,
             original_name: str = "") -> ItemFile:
    """Put ``source`` in the object store, then record it with the size and sha256 measured
    while it was written. The caller commits; an object whose row never commits is found by
    the fixity audit as unreferenced."""
    key = object_key(item, role, extension, page)
    info = store.put(key, source, media_type=media_type)
    record = ItemFile(item=item, page=page, role=role, storage_key=key, size=info.size,
                      sha256=info.sha256, media_type=media_type,
                      original_name=original_name or source.name)
    session.add(record)
    return record
