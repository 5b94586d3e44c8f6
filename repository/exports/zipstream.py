"""ZIP archives written as a stream of chunks, so that a web response can send a bag or a
package of any size without holding it in memory or writing a second copy to disk."""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

CHUNK = 1024 * 1024
# Already compressed: deflating them again costs time and saves nothing.
STORED_SUFFIXES = frozenset({".jpg", ".jpeg", ".jp2", ".png", ".pdf", ".zip", ".webp", ".gif"})


class _Sink(io.RawIOBase):
    """A write-only, unseekable file that hands what was written to the caller in pieces."""

    def __init__(self) -> None:
        super().__init__()
        self.buffer = bytearray()
        self.written = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.buffer += data
        self.written += len(data)
        return len(data)

    def tell(self) -> int:
        return self.written

    def take(self) -> bytes:
        data = bytes(self.buffer)
        self.buffer.clear()
        return data


Opener = Callable[[], BinaryIO]


def zip_chunks(entries: Iterable[tuple[str, Opener]]) -> Iterator[bytes]:
    """The bytes of a ZIP holding ``entries`` (archive name, a function opening its content),
    produced piece by piece as each member is read in chunks (ZIP64 when needed)."""
    sink = _Sink()
    stamp = time.localtime()[:6]
    with zipfile.ZipFile(sink, "w", allowZip64=True) as archive:
        for name, opener in entries:
            method = (zipfile.ZIP_STORED if Path(name).suffix.lower() in STORED_SUFFIXES
                      else zipfile.ZIP_DEFLATED)
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = method
            info.external_attr = 0o644 << 16
            with opener() as source, archive.open(info, "w", force_zip64=True) as member:
                while chunk := source.read(CHUNK):
                    member.write(chunk)
                    yield sink.take()
            yield sink.take()
    yield sink.take()


def folder_entries(folder: Path, files: Iterable[Path], prefix: str = ""
                   ) -> list[tuple[str, Opener]]:
    """ZIP entries for ``files`` under ``folder``, named relative to it (below ``prefix``)."""
    return [(prefix + path.relative_to(folder).as_posix(), _opener(path)) for path in files]


def _opener(path: Path) -> Opener:
    return lambda: path.open("rb")
