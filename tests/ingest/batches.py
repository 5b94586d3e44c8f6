"""Helpers for the batch-unpacking tests: page files, ZIP files crafted byte by byte, samples."""

from __future__ import annotations

import os
import shutil
import struct
import zipfile
from pathlib import Path

from tests.backends import SHARED

DATA = Path(SHARED) / "data"
SAF = DATA / "saf"
SAF_FIXTURES = SAF / "dspace_itemimport_fixtures"
SAFCREATOR = SAF / "safcreator_inputs"
BAGIT = DATA / "bagit"
CONFORMANCE = BAGIT / "conformance-suite"

# A PNG signature is all that unpacking looks at; decoding is a later stage's business.
PNG = b"\x89PNG\r\n\x1a\n" + bytes(24)
TIFF = b"II*\x00" + bytes(28)


def page(path: Path, data: bytes = PNG) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def make_zip(path: Path, entries: dict[str, bytes],
             compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def zip_folder(folder: Path, path: Path, prefix: str = "") -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(folder.rglob("*")):
            archive.write(file, prefix + file.relative_to(folder).as_posix())
    return path


def replace_bytes(path: Path, old: bytes, new: bytes) -> Path:
    """Swap a name in the local and central headers for raw bytes of the same length."""
    assert len(old) == len(new)
    data = path.read_bytes()
    assert data.count(old) == 2
    path.write_bytes(data.replace(old, new))
    return path


def set_flags(path: Path, flags: int) -> Path:
    """OR ``flags`` into every entry's general-purpose bits (local and central headers)."""
    data = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = data.find(signature)
        while start != -1:
            (value,) = struct.unpack_from("<H", data, start + offset)
            struct.pack_into("<H", data, start + offset, value | flags)
            start = data.find(signature, start + 4)
    path.write_bytes(bytes(data))
    return path


def writable_copy(source: Path, target: Path) -> Path:
    """The shared samples are read-only; tests that add files work on a copy."""
    shutil.copytree(source, target, copy_function=shutil.copyfile)
    for directory, _, _ in os.walk(target):
        os.chmod(directory, 0o700)
    return target
