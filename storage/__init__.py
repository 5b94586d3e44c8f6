"""Object storage for Khoso: one contract (``ObjectStore``) and its backends, built from a URL."""

from storage.config import open_store
from storage.errors import (
    ChecksumMismatch,
    InvalidKey,
    InvalidRange,
    ObjectNotFound,
    StorageError,
    StorageFull,
    StorageUnavailable,
)
from storage.interfaces import ObjectInfo, ObjectStore
from storage.streams import ObjectReader

__all__ = [
    "ChecksumMismatch",
    "InvalidKey",
    "InvalidRange",
    "ObjectInfo",
    "ObjectNotFound",
    "ObjectReader",
    "ObjectStore",
    "StorageError",
    "StorageFull",
    "StorageUnavailable",
    "open_store",
]
