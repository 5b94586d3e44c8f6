"""What only the S3 backend does: URLs and options, presigned URLs, multipart, failing servers."""

from __future__ import annotations

import datetime
import io
import os
import socket
import time
import urllib.error
import urllib.request

import pytest

import storage
from tests.storage.helpers import MIB, BreaksOnSecondPass, SourceBroke


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_endpoint_fails_fast_and_names_itself():
    port = closed_port()
    store = storage.open_store(f"s3://key:secret@127.0.0.1:{port}/books?secure=false")

    for call in (store.check, lambda: store.stat("a"),
                 lambda: store.put("a", io.BytesIO(b"x")), lambda: list(store.list())):
        started = time.monotonic()
        with pytest.raises(storage.StorageUnavailable, match=f"127.0.0.1:{port}"):
            call()
        assert time.monotonic() - started < 5


def test_credentials_may_come_as_arguments_and_never_show():
    store = storage.open_store("s3://s3.example.org:9000/books/site-a",
                               access_key="AKIA", secret_key="s3cr3t/+")

    assert repr(store) == "S3Store(https://s3.example.org:9000/books/site-a/)"
    assert "s3cr3t" not in repr(store)


@pytest.mark.parametrize(("url", "message"), [
    ("s3://s3.example.org/books", "credentials"),
    ("s3://k:s@s3.example.org/", "s3://host:port/bucket"),
    ("s3://k:s@s3.example.org/b", "invalid bucket name"),
    ("s3://k:s@s3.example.org/books?colour=blue", "unknown S3 storage URL options: colour"),
    ("s3://k:s@s3.example.org/books?secure=maybe", "true or false"),
    ("s3://k:s@s3.example.org/books?part_size_mb=2", ">= 5"),
    ("s3://k:s@s3.example.org/books/../x", "'..' segments"),
])
def test_malformed_s3_urls_are_refused(url, message):
    with pytest.raises((ValueError, storage.InvalidKey), match=message):
        storage.open_store(url)


def test_plain_http_only_when_asked():
    store = storage.open_store("s3://k:s@127.0.0.1:7480/books?secure=false&region=eu-1")
    assert repr(store).startswith("S3Store(http://127.0.0.1:7480/")


@pytest.mark.parametrize("expires", [datetime.timedelta(0), datetime.timedelta(days=8)])
def test_presigned_urls_last_one_second_to_seven_days(expires):
    store = storage.open_store("s3://k:s@127.0.0.1:7480/books?secure=false")
    with pytest.raises(ValueError, match="7 days"):
        store.presign("a", expires)


@pytest.mark.s3
def test_a_presigned_url_serves_the_object_until_it_expires(s3_backend):
    store = s3_backend.store
    store.put("Sách cổ/Trang 1.tif", io.BytesIO(b"trang mot"))

    url = store.presign("Sách cổ/Trang 1.tif", datetime.timedelta(seconds=2))

    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - our own URL
        assert response.read() == b"trang mot"
    time.sleep(3.5)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, timeout=10)  # noqa: S310
    assert refused.value.code == 403
    refused.value.close()


@pytest.mark.s3
def test_multipart_objects_round_trip(s3_server, s3_bucket):
    store = storage.open_store(s3_server.storage_url(s3_bucket, part_size_mb="5"))
    data = os.urandom(12 * MIB + 3)

    info = store.put("big.pdf", io.BytesIO(data))

    assert info.etag.endswith("-3")  # three parts
    with store.open("big.pdf", (5 * MIB - 2, 5 * MIB + 1)) as reader:
        assert reader.read() == data[5 * MIB - 2:5 * MIB + 2]


@pytest.mark.s3
def test_a_multipart_upload_that_fails_midway_is_aborted(s3_server, s3_bucket, s3_backend):
    store = storage.open_store(s3_server.storage_url(s3_bucket, part_size_mb="5"))

    with pytest.raises(SourceBroke):
        store.put("big.pdf", BreaksOnSecondPass(os.urandom(16 * MIB)))

    assert not store.exists("big.pdf")
    assert s3_backend.residue() == []  # no object, no unfinished upload


@pytest.mark.s3
def test_prefixes_keep_stores_in_one_bucket_apart(s3_server, s3_bucket):
    site_a = storage.open_store(s3_server.storage_url(f"{s3_bucket}/site-a"))
    site_b = storage.open_store(s3_server.storage_url(f"{s3_bucket}/site-b"))

    site_a.put("page.tif", io.BytesIO(b"a"))
    site_b.put("page.tif", io.BytesIO(b"bb"))

    assert [(info.key, info.size) for info in site_a.list()] == [("page.tif", 1)]
    assert [(info.key, info.size) for info in site_b.list()] == [("page.tif", 2)]
    raw = sorted(found.object_name
                 for found in s3_server.client().list_objects(s3_bucket, recursive=True))
    assert raw == ["site-a/page.tif", "site-b/page.tif"]


@pytest.mark.s3
def test_a_missing_bucket_is_reported(s3_server):
    store = storage.open_store(s3_server.storage_url("khoso-no-such-bucket", create_bucket="false"))

    with pytest.raises(storage.StorageUnavailable, match="khoso-no-such-bucket"):
        store.check()
    with pytest.raises(storage.StorageUnavailable, match="does not exist"):
        list(store.list())
    with pytest.raises(storage.StorageUnavailable, match="does not exist"):
        store.put("a", io.BytesIO(b"x"))
    with pytest.raises(storage.ObjectNotFound):
        store.stat("a")


@pytest.mark.s3
def test_wrong_credentials_are_reported(s3_server, s3_bucket):
    url = s3_server.storage_url(s3_bucket, create_bucket="false")
    store = storage.open_store(url.replace(f":{s3_server.secret_key}@", ":wrong@"))

    with pytest.raises(storage.StorageError, match="SignatureDoesNotMatch|AccessDenied"):
        store.stat("a")
    with pytest.raises(storage.StorageUnavailable):
        store.check()


@pytest.mark.s3
def test_creating_an_existing_bucket_is_fine(s3_server, s3_bucket):
    for _ in range(2):
        storage.open_store(s3_server.storage_url(s3_bucket)).check()


@pytest.mark.s3
def test_objects_written_by_other_tools_have_no_checksum(s3_server, s3_bucket, s3_backend):
    s3_server.client().put_object(s3_bucket, "foreign.bin", io.BytesIO(b"abc"), 3)

    info = s3_backend.store.stat("foreign.bin")

    assert (info.size, info.sha256) == (3, None)
