"""The object-store contract that every backend fulfils and the rest of Khoso holds."""

from __future__ import annotations

import abc
import datetime
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from storage.streams import ObjectReader

DEFAULT_MEDIA_TYPE = "application/octet-stream"

Source = str | os.PathLike[str] | BinaryIO
ByteRange = tuple[int, int | None]


@dataclass(frozen=True)
class ObjectInfo:
    """What the store knows about one object.

    ``sha256`` is the hex SHA-256 of the content, computed when it was stored; ``etag`` changes
    whenever the content is replaced (its form is the backend's: S3's ETag, or inode, time and
    size on the local backend); ``modified`` is an aware UTC datetime. ``list`` leaves ``sha256``
    and ``media_type`` as None on every backend (S3 listings carry no user metadata): ``stat``
    fills them. ``sha256`` is also None on S3 for objects written by other tools than ``put``.
    """

    key: str
    size: int
    sha256: str | None
    etag: str
    media_type: str | None
    modified: datetime.datetime


class ObjectStore(abc.ABC):
    """Objects (bytes, a media type and a SHA-256) under ``/``-separated keys.

    Every method validates its key with ``storage.keys.validate_key`` and raises InvalidKey for a
    bad one; every failure is a ``storage.StorageError``, never an SDK or OS error, except errors
    raised by a caller's own source stream, which pass through unchanged. Backends are built by
    ``storage.open_store(url)`` and differ only in how they are built.
    """

    @abc.abstractmethod
    def put(self, key: str, source: Source, *, media_type: str = DEFAULT_MEDIA_TYPE,
            size: int | None = None) -> ObjectInfo:
        """Store the bytes of ``source`` (a file path or a binary stream read to its end) under
        ``key``, replacing any object there, and return its info. The SHA-256 is computed in
        chunks on the way and kept with the object; memory use does not grow with the object's
        size. The write is atomic: readers see the old object or the whole new one, and when
        anything fails (source error, disk full, connection lost) no partial object remains.
        ``size``, if given, is checked against the bytes read (ChecksumMismatch if they differ).
        """

    @abc.abstractmethod
    def open(self, key: str, byte_range: ByteRange | None = None) -> ObjectReader:
        """Open the object for reading and return an ObjectReader (use it in a ``with``): a
        binary file-like object whose ``read(n)`` returns bytes and whose iteration yields chunks.
        ``byte_range`` is ``(start, end)`` with ``end`` inclusive, or ``(start, None)`` to the end,
        as in HTTP Range; an ``end`` past the object's end is clamped to it, while a ``start`` at
        or past the end (so any range of an empty object) or a malformed range raises
        InvalidRange. ``reader.length`` is the number of bytes it will yield. Raises
        ObjectNotFound.
        """

    @abc.abstractmethod
    def stat(self, key: str) -> ObjectInfo:
        """Return the object's info (size, stored SHA-256, etag, media type, modified time)
        without reading its content. Raises ObjectNotFound.
        """

    @abc.abstractmethod
    def exists(self, key: str) -> bool:
        """Tell whether an object is stored under ``key``."""

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object stored under ``key``. Deleting a key that holds no object is not
        an error: the result, no such object, is the same either way.
        """

    @abc.abstractmethod
    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Yield the objects whose keys start with ``prefix`` (plain text, not only whole
        segments), sorted by key in UTF-8 byte order, lazily and however many there are. Each
        ObjectInfo has key, size, etag and modified; ``sha256`` and ``media_type`` are None
        (call ``stat`` for them).
        """

    @abc.abstractmethod
    def presign(self, key: str, expires: datetime.timedelta) -> str | None:
        """Return a URL that lets anyone holding it GET the object for ``expires`` (at most
        seven days), or None when the backend cannot make one (the local backend): the caller
        then streams the object itself. The key's existence is not checked.
        """

    @abc.abstractmethod
    def check(self) -> None:
        """Return if the store is usable, else raise StorageUnavailable saying why. Cheap: one
        round trip at most, meant for health checks.
        """
