"""BagIt 1.0 bags of items for preservation (RFC 8493).

The payload is the item's stored files, copied from the object store in chunks and checked
against the SHA-256 recorded at ingest while they are copied (a mismatch stops the export: a bag
must not carry a damaged file). ``metadata/dublin_core.xml`` is a tag file; ``bag-info.txt``
names the item by its handle as External-Identifier.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import storage
from repository.clock import library_today
from repository.errors import N_, RepositoryError
from repository.exports.dublin_core import dublin_core_xml
from repository.models import FileRole, Item, ItemFile

CHUNK = 1024 * 1024
# Web images and thumbnails are made again from the masters; a preservation bag leaves them out.
BAGGED_ROLES = frozenset(FileRole) - {FileRole.DERIVATIVE, FileRole.THUMBNAIL}
SOFTWARE = "Khoso bag export"


class FixityError(RepositoryError):
    """A stored object no longer has the checksum recorded when it was ingested."""


def bag_for_item(item: Item, store: storage.ObjectStore, target_dir: Path, *,
                 organization: str = "", today: date | None = None) -> Path:
    """Write the bag of ``item`` as ``target_dir/<handle>`` (replacing nothing: the folder must
    not exist) and return its path. The files come from ``store``."""
    bag = target_dir / item.handle
    bag.mkdir(parents=True)
    try:
        manifest = [_copy(store, stored, bag, payload_path(item, stored))
                    for stored in bagged_files(item)]
        _write_tag_files(bag, item, manifest, organization, today or library_today())
    except BaseException:
        shutil.rmtree(bag, ignore_errors=True)
        raise
    return bag


def bagged_files(item: Item) -> list[ItemFile]:
    return [stored for stored in item.files if stored.role in BAGGED_ROLES]


def payload_path(item: Item, stored: ItemFile) -> str:
    """``data/`` plus the object's key below the item (``pages/0001/master.tif``)."""
    prefix = f"items/{item.handle}/"
    key = stored.storage_key
    if key.startswith(prefix):
        return f"data/{key[len(prefix):]}"
    return f"data/files/{stored.id}-{key.rsplit('/', 1)[-1]}"


def _copy(store: storage.ObjectStore, stored: ItemFile, bag: Path, relative: str
          ) -> tuple[str, str, int]:
    target = bag / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with store.open(stored.storage_key) as source, target.open("wb") as out:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    if digest.hexdigest() != stored.sha256:
        raise FixityError(N_("The stored file %(key)s does not match its recorded checksum; "
                             "the bag was not made."), key=stored.storage_key)
    return relative, digest.hexdigest(), size


def _write_tag_files(bag: Path, item: Item, manifest: list[tuple[str, str, int]],
                     organization: str, today: date) -> None:
    _write(bag / "bagit.txt", "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
    _write(bag / "manifest-sha256.txt",
           "".join(f"{digest}  {_escaped(path)}\n" for path, digest, _ in manifest))
    info = [("Bagging-Date", today.isoformat()), ("External-Identifier", item.handle),
            ("External-Description", item.title), ("Bag-Software-Agent", SOFTWARE),
            ("Payload-Oxum", f"{sum(size for *_, size in manifest)}.{len(manifest)}")]
    if organization:
        info.insert(0, ("Source-Organization", organization))
    _write(bag / "bag-info.txt", "".join(f"{label}: {_one_line(value)}\n"
                                         for label, value in info))
    (bag / "metadata").mkdir()
    (bag / "metadata" / "dublin_core.xml").write_bytes(dublin_core_xml(item))
    tag_files = ["bagit.txt", "bag-info.txt", "manifest-sha256.txt", "metadata/dublin_core.xml"]
    _write(bag / "tagmanifest-sha256.txt",
           "".join(f"{_sha256(bag / name)}  {name}\n" for name in tag_files))


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8", newline="\n")


def _one_line(value: str) -> str:
    return " ".join(value.split())


def _escaped(path: str) -> str:
    """RFC 8493 2.1.3: CR, LF and % in a manifest path are percent-encoded."""
    return path.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def bag_files(bag: Path) -> Iterable[Path]:
    """Every file of a bag in a stable order, the top-level tag files first (for zipping)."""
    for directory, folders, files in os.walk(bag):
        folders.sort()
        for name in sorted(files):
            yield Path(directory) / name
