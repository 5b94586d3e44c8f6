"""Reading sources in chunks while hashing them, and the reader that ``open`` returns."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import BinaryIO

from storage.errors import InvalidRange, StorageError, StorageFull

CHUNK_SIZE = 1024 * 1024
NO_SPACE_ERRNOS = (errno.ENOSPC, errno.EDQUOT)

ErrorTranslator = Callable[[], AbstractContextManager[None]]


@contextlib.contextmanager
def opened_source(source: str | os.PathLike[str] | BinaryIO) -> Iterator[BinaryIO]:
    """Open a path for reading, or hand a caller's stream through (the caller closes it)."""
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as stream:
            yield stream
    else:
        yield source


def read_chunks(stream: BinaryIO, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    while chunk := stream.read(chunk_size):
        yield chunk


def copy_hashing(stream: BinaryIO, write: Callable[[bytes], object]) -> tuple[int, str]:
    """Copy ``stream`` to ``write`` in chunks; return the byte count and hex SHA-256."""
    digest = hashlib.sha256()
    size = 0
    for chunk in read_chunks(stream):
        digest.update(chunk)
        write(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def hash_stream(stream: BinaryIO) -> tuple[int, str]:
    """Read ``stream`` to its end in chunks; return the byte count and hex SHA-256."""
    return copy_hashing(stream, _discard)


@dataclass(frozen=True)
class MeasuredSource:
    """A source whose size and SHA-256 are known before it is sent, positioned at its start."""

    stream: BinaryIO
    size: int
    sha256: str


@contextlib.contextmanager
def measured_source(source: str | os.PathLike[str] | BinaryIO,
                    spool_dir: str | None) -> Iterator[MeasuredSource]:
    """Measure a source for stores that need its SHA-256 up front (S3 metadata is sent first).

    Files and seekable streams are hashed in a first pass and rewound; other streams are copied
    to an anonymous temporary file in ``spool_dir`` (hashing on the way), which vanishes on close.
    """
    with opened_source(source) as stream:
        if _is_seekable(stream):
            start = stream.tell()
            size, sha256 = hash_stream(stream)
            stream.seek(start)
            yield MeasuredSource(stream, size, sha256)
            return
        with tempfile.TemporaryFile(dir=spool_dir) as spool:
            size, sha256 = copy_hashing(stream, _spool_writer(spool, spool_dir))
            spool.seek(0)
            yield MeasuredSource(spool, size, sha256)


def _spool_writer(spool: BinaryIO, spool_dir: str | None) -> Callable[[bytes], object]:
    def write(chunk: bytes) -> None:
        try:
            spool.write(chunk)
        except OSError as exc:
            where = spool_dir or tempfile.gettempdir()
            if exc.errno in NO_SPACE_ERRNOS:
                raise StorageFull(f"no space left to spool the upload in {where}") from exc
            raise StorageError(f"could not spool the upload in {where}: {exc}") from exc
    return write


def _discard(_chunk: bytes) -> None:
    pass


def _is_seekable(stream: BinaryIO) -> bool:
    try:
        return bool(stream.seekable())
    except (AttributeError, ValueError, OSError):
        return False


class HashingReader(io.RawIOBase):
    """Pass reads through to a stream while counting and hashing what went by."""

    def __init__(self, stream: BinaryIO) -> None:
        super().__init__()
        self._stream = stream
        self._digest = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self._digest.update(data)
        self.size += len(data)
        return data

    def readinto(self, buffer: bytearray | memoryview) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


def check_range(byte_range: tuple[int, int | None] | None) -> None:
    """Refuse malformed ranges before any backend sees them (S3 would silently ignore them)."""
    if byte_range is None:
        return
    try:
        start, end = byte_range
    except (TypeError, ValueError):
        message = f"a byte range is (start, end) or (start, None), not {byte_range!r}"
        raise InvalidRange(message) from None
    if not isinstance(start, int) or start < 0:
        raise InvalidRange(f"a byte range starts at a byte offset >= 0, not {start!r}")
    if end is not None and (not isinstance(end, int) or end < start):
        raise InvalidRange(f"a byte range's inclusive end must be >= its start: {byte_range!r}")


def resolve_range(byte_range: tuple[int, int | None] | None, size: int) -> tuple[int, int]:
    """Return (offset, length) of ``byte_range`` within an object of ``size`` bytes."""
    check_range(byte_range)
    if byte_range is None:
        return 0, size
    start, end = byte_range
    if start >= size:
        raise InvalidRange(f"byte range starts at {start}, past the object's {size} bytes")
    last = size - 1 if end is None else min(end, size - 1)
    return start, last - start + 1


class ObjectReader(io.RawIOBase):
    """A read-only binary stream over an object or a byte range of it; ``with`` closes it.

    ``read(n)`` returns up to ``n`` bytes (all that is left without ``n``), iterating yields
    chunks of up to 1 MiB (not lines), and ``length`` is the number of bytes it yields in all.
    Errors while reading are StorageErrors; an object that ends early raises rather than
    returning short content.
    """

    def __init__(self, raw: BinaryIO, length: int, *, close: Callable[[], object],
                 translate_errors: ErrorTranslator) -> None:
        super().__init__()
        self._raw = raw
        self._remaining = length
        self._close_raw = close
        self._translate_errors = translate_errors
        self.length = length

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        self._checkClosed()
        wanted = self._remaining if size is None or size < 0 else min(size, self._remaining)
        if wanted == 0:
            return b""
        with self._translate_errors():
            data = self._raw.read(wanted)
        if not data:
            raise StorageError(f"the object ended {self._remaining} bytes early")
        self._remaining -= len(data)
        return data

    def readall(self) -> bytes:
        return self.read()

    def readinto(self, buffer: bytearray | memoryview) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def __next__(self) -> bytes:
        chunk = self.read(CHUNK_SIZE)
        if not chunk:
            raise StopIteration
        return chunk

    def close(self) -> None:
        if not self.closed:
            try:
                with self._translate_errors():
                    self._close_raw()
            finally:
                super().close()
