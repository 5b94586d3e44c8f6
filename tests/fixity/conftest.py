"""Fixtures: a store on each backend with a way to tamper with it behind the contract's back."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import storage
from storage.s3 import SHA256_HEADER
from tests import s3server


@dataclass
class Tampering:
    """A store, and a way to replace an object's bytes while keeping its stored checksum."""

    store: storage.ObjectStore
    overwrite: Callable[[str, bytes], None]


@pytest.fixture(scope="session")
def s3_server() -> Iterator[s3server.S3Server]:
    yield from s3server.running_s3_server()


@pytest.fixture
def local_tampering(tmp_path: Path) -> Tampering:
    root = tmp_path / "objects"

    def overwrite(key: str, content: bytes) -> None:
        with open(root / key, "r+b") as stored:  # in place: the xattr checksum stays
            stored.write(content)
            stored.truncate()
    return Tampering(storage.open_store(f"file://{root}"), overwrite)


@pytest.fixture
def s3_tampering(s3_server: s3server.S3Server) -> Iterator[Tampering]:
    bucket = s3_server.new_bucket_name("fixity")
    store = storage.open_store(s3_server.storage_url(bucket))

    def overwrite(key: str, content: bytes) -> None:
        kept = store.stat(key)
        s3_server.client().put_object(bucket, key, io.BytesIO(content), len(content),
                                      content_type=kept.media_type,
                                      metadata={SHA256_HEADER: kept.sha256})
    yield Tampering(store, overwrite)
    s3_server.remove_bucket(bucket)


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def tampering(request: pytest.FixtureRequest) -> Tampering:
    return request.getfixturevalue(f"{request.param}_tampering")
