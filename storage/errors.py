"""The errors every storage backend raises; SDK and OS errors are turned into these at the edge."""

from __future__ import annotations


class StorageError(Exception):
    """Something went wrong in the object store; the message says what and where."""


class ObjectNotFound(StorageError):
    """No object is stored under this key."""

    def __init__(self, key: str) -> None:
        super().__init__(f"no object is stored under the key {key!r}")
        self.key = key


class InvalidKey(StorageError):
    """The key breaks the key rules (see ``storage.keys``) or clashes with the stored layout."""

    def __init__(self, key: object, reason: str) -> None:
        super().__init__(f"invalid object key {key!r}: {reason}")
        self.key = key
        self.reason = reason


class InvalidRange(StorageError):
    """The byte range is malformed or starts at or past the end of the object (HTTP 416)."""


class StorageUnavailable(StorageError):
    """The store cannot be reached or refuses service; the message names the endpoint."""


class StorageFull(StorageError):
    """No space is left (disk full, quota reached); nothing was stored."""


class ChecksumMismatch(StorageError):
    """The bytes stored differ from the bytes announced (size) or changed while being stored."""
