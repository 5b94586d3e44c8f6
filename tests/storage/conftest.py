"""Fixtures: ``store`` runs each contract test against every backend, each test in a fresh place."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import storage
from tests import s3server


@dataclass
class Backend:
    """A store under test and a way to see everything its backend holds behind the contract."""

    store: storage.ObjectStore
    residue: Callable[[], list[str]]  # all files / objects and unfinished uploads, hidden or not


@pytest.fixture(scope="session")
def s3_server() -> Iterator[s3server.S3Server]:
    yield from s3server.running_s3_server()


@pytest.fixture
def s3_bucket(s3_server: s3server.S3Server) -> Iterator[str]:
    bucket = s3_server.new_bucket_name("storage")
    yield bucket
    s3_server.remove_bucket(bucket)


@pytest.fixture
def local_backend(tmp_path: Path) -> Backend:
    root = tmp_path / "objects"
    return Backend(storage.open_store(f"file://{root}"), lambda: _files_under(root))


@pytest.fixture
def s3_backend(s3_server: s3server.S3Server, s3_bucket: str) -> Backend:
    store = storage.open_store(s3_server.storage_url(s3_bucket))
    return Backend(store, lambda: _objects_and_uploads(s3_server, s3_bucket))


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def backend(request: pytest.FixtureRequest) -> Backend:
    return request.getfixturevalue(f"{request.param}_backend")


@pytest.fixture
def store(backend: Backend) -> storage.ObjectStore:
    return backend.store


def _files_under(root: Path) -> list[str]:
    return sorted(os.path.relpath(os.path.join(folder, name), root)
                  for folder, _dirs, names in os.walk(root) for name in names)


def _objects_and_uploads(server: s3server.S3Server, bucket: str) -> list[str]:
    client = server.client()
    names = [found.object_name for found in client.list_objects(bucket, recursive=True)]
    # The minio SDK has no public call that lists unfinished multipart uploads.
    uploads = client._list_multipart_uploads(bucket).uploads
    return sorted(names) + [f"unfinished upload: {upload.object_name}" for upload in uploads]
