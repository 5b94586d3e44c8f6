"""Building the one object store the configuration names, from its URL."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from storage.interfaces import ObjectStore
from storage.local import LocalStore

SCHEMES = ("file", "s3")


def open_store(url: str, **options: Any) -> ObjectStore:
    """Build the store for ``url``; a malformed URL or unknown option raises ValueError.

    ``file:///absolute/folder`` keeps objects in that folder (created if missing).
    ``s3://KEY:SECRET@host:port/bucket[/prefix]?secure=false&region=us-east-1`` keeps them in an
    S3 bucket; the keys may instead be given as ``access_key=`` and ``secret_key=`` arguments.
    """
    parsed = urlsplit(url)
    if parsed.scheme not in SCHEMES:
        raise ValueError(f"a storage URL starts with file:// or s3://, not {url.split(':')[0]}:")
    if parsed.scheme == "file":
        return LocalStore.from_url(parsed, **options)
    from storage.s3 import S3Store  # the S3 client loads only where S3 is used (0.1 s)

    return S3Store.from_url(parsed, **options)
