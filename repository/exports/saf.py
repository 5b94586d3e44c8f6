"""DSpace Simple Archive Format: a ZIP of item folders (``item_000/dublin_core.xml``, a
``contents`` file and the files), which DSpace's ``import`` command and our own ingest read.

Each item carries the files it came as: its originals if it has any, else its page masters in
page order, else its PDF. Derived files (web images, text, hOCR) are made again on import.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

import storage
from repository.exports.dublin_core import saf_dublin_core_xml
from repository.exports.zipstream import Opener, zip_chunks
from repository.models import Collection, FileRole, Item, ItemFile, Page

_UNSAFE = re.compile(r"[\x00-\x1f/\\:*?\"<>|\t]+")


def package_items(session: Session, collection: Collection) -> list[Item]:
    """Every item of ``collection`` with what a package needs loaded (files, pages, metadata)."""
    return list(session.scalars(
        select(Item).where(Item.collection_id == collection.id).order_by(Item.id).options(
            selectinload(Item.dc_values),
            selectinload(Item.files).selectinload(ItemFile.page),
            selectinload(Item.pages).selectinload(Page.files))))


def saf_files(item: Item) -> list[tuple[str, ItemFile]]:
    """The files an item takes into SAF, in order, each with a name unique in its folder."""
    originals = [stored for stored in item.files if stored.role is FileRole.ORIGINAL]
    if originals:
        return _named([(_safe_name(stored.original_name, stored), stored) for stored in originals])
    masters = [stored for page in item.pages for stored in page.files
               if stored.role is FileRole.MASTER]
    if masters:
        return _named([(f"{stored.page.sequence:04d}{_suffix(stored)}", stored)
                       for stored in masters])
    return _named([(_safe_name(stored.original_name, stored), stored)
                   for stored in item.files if stored.role is FileRole.PDF])


def saf_entries(items: Iterable[Item], store: storage.ObjectStore
                ) -> Iterator[tuple[str, Opener]]:
    """The ZIP entries of the package: each item's metadata, contents file and files."""
    for number, item in enumerate(items):
        folder = f"item_{number:03d}"
        files = saf_files(item)
        contents = "".join(f"{name}\tbundle:ORIGINAL\n" for name, _ in files)
        yield f"{folder}/dublin_core.xml", _bytes(saf_dublin_core_xml(item))
        yield f"{folder}/contents", _bytes(contents.encode("utf-8"))
        for name, stored in files:
            yield f"{folder}/{name}", _object(store, stored.storage_key)


def saf_chunks(items: Iterable[Item], store: storage.ObjectStore) -> Iterator[bytes]:
    """The package as a stream of ZIP bytes (for a web download)."""
    return zip_chunks(saf_entries(items, store))


def saf_for_items(items: Iterable[Item], store: storage.ObjectStore, target_zip: Path) -> Path:
    """Write the package to ``target_zip`` atomically (a temporary file, then a rename)."""
    target_zip.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=".saf-", suffix=".zip", dir=target_zip.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in saf_chunks(items, store):
                out.write(chunk)
        os.replace(temporary, target_zip)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target_zip


def _named(files: list[tuple[str, ItemFile]]) -> list[tuple[str, ItemFile]]:
    seen: set[str] = set()
    named = []
    for name, stored in files:
        unique, counter = name, 1
        while unique.casefold() in seen:
            counter += 1
            path = PurePosixPath(name)
            unique = f"{path.stem}-{counter}{path.suffix}"
        seen.add(unique.casefold())
        named.append((unique, stored))
    return named


def _safe_name(name: str, stored: ItemFile) -> str:
    """A file name without folders or characters that break the contents file or Windows."""
    cleaned = _UNSAFE.sub("_", unicodedata.normalize("NFC", name)).strip(" .")
    return cleaned or f"file-{stored.id}{_suffix(stored)}"


def _suffix(stored: ItemFile) -> str:
    return PurePosixPath(stored.storage_key).suffix


def _bytes(data: bytes) -> Opener:
    return lambda: io.BytesIO(data)


def _object(store: storage.ObjectStore, key: str) -> Opener:
    return lambda: store.open(key)
