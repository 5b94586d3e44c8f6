"""Stored objects seen in two more ways: as a seekable file read by byte ranges (for readers
that seek, like a PDF parser), and with bytes appended (a PDF and its incremental update), both
without copying the object or holding it in memory.
"""

from __future__ import annotations

import datetime
import io
import os
from typing import BinaryIO

import storage

BLOCK = 256 * 1024


class _StoreRaw(io.RawIOBase):
    """An object of the store as a raw, seekable, read-only file: each read is a range read."""

    def __init__(self, store: storage.ObjectStore, key: str, size: int) -> None:
        super().__init__()
        self._store, self._key, self._size, self._position = store, key, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def tell(self) -> int:
        return self._position

    def readinto(self, buffer) -> int:
        wanted = min(len(buffer), self._size - self._position)
        if wanted <= 0:
            return 0
        end = self._position + wanted - 1
        with self._store.open(self._key, byte_range=(self._position, end)) as stream:
            data = stream.read()
        buffer[:len(data)] = data
        self._position += len(data)
        return len(data)


def open_seekable(store: storage.ObjectStore, key: str, size: int) -> BinaryIO:
    """``key`` as a buffered, seekable file (reads come from the store in blocks)."""
    return io.BufferedReader(_StoreRaw(store, key, size), buffer_size=BLOCK)


class AppendedObject:
    """A stored object followed by the bytes of an open local file, offered through the two
    calls of the object-store contract that a sender makes: ``stat`` and ``open`` with a
    byte range. Nothing is copied; ranges are read from either part as they fall."""

    def __init__(self, store: storage.ObjectStore, key: str, size: int,
                 modified: datetime.datetime, tail: BinaryIO) -> None:
        self._store, self._key, self._size, self._modified = store, key, size, modified
        self._tail = tail
        self._tail_size = os.fstat(tail.fileno()).st_size

    @property
    def size(self) -> int:
        return self._size + self._tail_size

    def stat(self, key: str) -> storage.ObjectInfo:
        return storage.ObjectInfo(key, self.size, None, "", None, self._modified)

    def open(self, key: str, byte_range: tuple[int, int | None] | None = None):
        start, end = byte_range or (0, self.size - 1)
        end = self.size - 1 if end is None else min(end, self.size - 1)
        if start > end:
            raise storage.InvalidRange(f"bytes {start}-{end} of {self.size}")
        return _Parts(self, start, end + 1)

    def read_stored(self, start: int, stop: int):
        return self._store.open(self._key, byte_range=(start, stop - 1))

    def read_tail(self, start: int, size: int) -> bytes:
        return os.pread(self._tail.fileno(), size, start - self._size)


class _Parts:
    """Reads ``[start, stop)`` of an AppendedObject: the stored part, then the tail."""

    def __init__(self, whole: AppendedObject, start: int, stop: int) -> None:
        self._whole, self._position, self._stop = whole, start, stop
        self._stored = None
        if start < whole._size:
            self._stored = whole.read_stored(start, min(stop, whole._size))

    def __enter__(self) -> _Parts:
        return self

    def __exit__(self, *_exc) -> None:
        if self._stored is not None:
            self._stored.close()

    def read(self, size: int = -1) -> bytes:
        left = self._stop - self._position
        size = left if size < 0 else min(size, left)
        if size <= 0:
            return b""
        if self._position < self._whole._size:
            data = self._stored.read(min(size, self._whole._size - self._position))
        else:
            data = self._whole.read_tail(self._position, size)
        self._position += len(data)
        return data
