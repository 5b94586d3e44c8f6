"""The contract every storage backend passes; the ``store`` fixture runs each test on each."""

from __future__ import annotations

import datetime
import hashlib
import io
import os
import tracemalloc
from concurrent.futures import ThreadPoolExecutor

import pytest

import storage
from tests.storage.helpers import MIB, GeneratedStream, SourceBroke

DATA = os.urandom(2 * MIB + 12345)  # crosses the 1 MiB chunk boundary twice
KEY = "books/0001/page-001.tif"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_all(store: storage.ObjectStore, key: str) -> bytes:
    with store.open(key) as reader:
        return reader.read()


def test_put_from_path_returns_what_stat_then_reports(store, tmp_path):
    source = tmp_path / "page.tif"
    source.write_bytes(DATA)

    info = store.put(KEY, source, media_type="image/tiff")

    assert (info.key, info.size, info.sha256, info.media_type) == (
        KEY, len(DATA), sha256(DATA), "image/tiff")
    assert info.etag
    now = datetime.datetime.now(datetime.UTC)
    assert abs(now - info.modified) < datetime.timedelta(minutes=1)
    assert store.stat(KEY) == info
    assert read_all(store, KEY) == DATA


def test_put_from_a_seekable_stream(store):
    info = store.put(KEY, io.BytesIO(DATA))

    assert (info.size, info.sha256, info.media_type) == (
        len(DATA), sha256(DATA), "application/octet-stream")
    assert read_all(store, KEY) == DATA


def test_put_from_a_stream_of_unknown_size(store):
    source = GeneratedStream(3 * MIB + 7)

    info = store.put(KEY, source, media_type="application/pdf")

    assert (info.size, info.sha256) == (source.delivered, source.digest.hexdigest())
    assert store.stat(KEY).sha256 == source.digest.hexdigest()


def test_announced_size_is_checked(store):
    with pytest.raises(storage.ChecksumMismatch):
        store.put(KEY, io.BytesIO(DATA), size=len(DATA) + 1)
    assert not store.exists(KEY)


def test_empty_object(store):
    info = store.put("empty", io.BytesIO(b""))

    assert (info.size, info.sha256) == (0, sha256(b""))
    assert read_all(store, "empty") == b""


@pytest.mark.parametrize(("byte_range", "expected"), [
    ((0, 0), DATA[:1]),                                   # first byte
    ((1000, 1999), DATA[1000:2000]),                      # middle
    ((MIB - 5, MIB + 5), DATA[MIB - 5:MIB + 6]),          # across a chunk boundary
    ((len(DATA) - 777, None), DATA[-777:]),               # to the end
    ((len(DATA) - 10, len(DATA) + 100), DATA[-10:]),      # end past the end: clamped
    ((len(DATA) - 1, len(DATA) - 1), DATA[-1:]),          # last byte
], ids=["first-byte", "middle", "across-chunks", "to-the-end", "clamped", "last-byte"])
def test_byte_ranges(store, byte_range, expected):
    store.put(KEY, io.BytesIO(DATA))

    with store.open(KEY, byte_range) as reader:
        assert reader.length == len(expected)
        assert reader.read() == expected


@pytest.mark.parametrize("byte_range", [
    (len(DATA), None),            # starts at the end
    (len(DATA) + 5, len(DATA) + 10),  # starts past the end
    (10, 5),                      # end before start
    (-1, 3),                      # negative start
])
def test_unsatisfiable_or_malformed_ranges_raise_invalid_range(store, byte_range):
    store.put(KEY, io.BytesIO(DATA))

    with pytest.raises(storage.InvalidRange):
        store.open(KEY, byte_range)


def test_any_range_of_an_empty_object_is_unsatisfiable(store):
    store.put("empty", io.BytesIO(b""))

    with pytest.raises(storage.InvalidRange):
        store.open("empty", (0, None))


def test_reading_in_pieces_and_iterating_in_chunks(store):
    store.put(KEY, io.BytesIO(DATA))

    with store.open(KEY) as reader:
        head = reader.read(10)
        chunks = list(reader)
    assert reader.closed
    assert head == DATA[:10]
    assert all(0 < len(chunk) <= MIB for chunk in chunks)
    assert head + b"".join(chunks) == DATA


def test_list_by_prefix_is_sorted_by_key(store):
    keys = ["b", "a/b", "a-c", "a/c/d", "ab", "a/c-e"]
    for key in keys:
        store.put(key, io.BytesIO(key.encode()))

    assert [info.key for info in store.list()] == sorted(keys)
    assert [info.key for info in store.list("a/")] == ["a/b", "a/c-e", "a/c/d"]
    assert [info.key for info in store.list("a")] == ["a-c", "a/b", "a/c-e", "a/c/d", "ab"]
    assert [info.key for info in store.list("a/c")] == ["a/c-e", "a/c/d"]
    assert list(store.list("zzz/")) == []


def test_listing_gives_size_etag_and_time_but_not_checksums(store):
    stored = store.put(KEY, io.BytesIO(DATA), media_type="image/tiff")

    [listed] = store.list("books/")

    assert (listed.key, listed.size, listed.etag) == (KEY, stored.size, stored.etag)
    assert (listed.sha256, listed.media_type) == (None, None)
    assert abs(listed.modified - stored.modified) < datetime.timedelta(seconds=2)


def test_list_returns_more_than_a_thousand_objects(store):
    keys = [f"many/{i:05d}" for i in range(1001)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda key: store.put(key, io.BytesIO(b"x")), keys))
    store.put("many0", io.BytesIO(b"not in the folder"))

    assert [info.key for info in store.list("many/")] == keys


def test_exists_and_delete(store):
    assert not store.exists(KEY)
    store.put(KEY, io.BytesIO(DATA))
    assert store.exists(KEY)

    store.delete(KEY)

    assert not store.exists(KEY)
    store.delete(KEY)  # deleting a missing key is not an error
    with pytest.raises(storage.ObjectNotFound):
        store.stat(KEY)
    with pytest.raises(storage.ObjectNotFound):
        store.open(KEY)
    assert list(store.list()) == []


def test_a_prefix_of_keys_is_not_an_object(store):
    store.put(KEY, io.BytesIO(DATA))

    assert not store.exists("books/0001")
    with pytest.raises(storage.ObjectNotFound):
        store.stat("books/0001")
    store.delete("books/0001")
    assert store.exists(KEY)


def test_put_replaces_an_object(store):
    first = store.put(KEY, io.BytesIO(b"first version"))

    second = store.put(KEY, io.BytesIO(b"second"), media_type="text/plain")

    assert second.etag != first.etag
    assert (second.size, second.sha256, second.media_type) == (6, sha256(b"second"), "text/plain")
    assert read_all(store, KEY) == b"second"


def test_vietnamese_keys_are_kept_as_given(store):
    key = "Sách cổ/Trang 1.tif"
    store.put(key, io.BytesIO(b"trang mot"))

    assert read_all(store, key) == b"trang mot"
    assert [info.key for info in store.list("Sách cổ/")] == [key]
    assert not store.exists("Sa\u0301ch cô\u0309/Trang 1.tif")  # the decomposed spelling


BAD_KEYS = ["../x", "/abs", "a/../../b", "a\x00b", "a//b", "a\\b", "", "a/", "./a", "a\nb",
            "x" * 1025, ".khoso-tmp-1234"]


@pytest.mark.parametrize("key", BAD_KEYS, ids=repr)
@pytest.mark.parametrize("call", [
    lambda store, key: store.put(key, io.BytesIO(b"x")),
    lambda store, key: store.open(key),
    lambda store, key: store.stat(key),
    lambda store, key: store.exists(key),
    lambda store, key: store.delete(key),
    lambda store, key: store.presign(key, datetime.timedelta(minutes=1)),
], ids=["put", "open", "stat", "exists", "delete", "presign"])
def test_bad_keys_are_refused(store, call, key):
    with pytest.raises(storage.InvalidKey):
        call(store, key)


@pytest.mark.parametrize("prefix", ["../", "/abs", "a//", "a/../", "a\\"])
def test_bad_prefixes_are_refused(store, prefix):
    with pytest.raises(storage.InvalidKey):
        list(store.list(prefix))


def test_a_source_that_breaks_halfway_leaves_nothing(backend):
    store = backend.store

    with pytest.raises(SourceBroke):
        store.put(KEY, GeneratedStream(6 * MIB, fail_after=3 * MIB))

    assert not store.exists(KEY)
    assert backend.residue() == []


def test_a_failed_put_keeps_the_object_it_would_have_replaced(store):
    store.put(KEY, io.BytesIO(DATA))

    with pytest.raises(SourceBroke):
        store.put(KEY, GeneratedStream(3 * MIB, fail_after=MIB))

    assert read_all(store, KEY) == DATA


def test_a_large_stream_goes_through_in_chunks(store):
    size = 80 * MIB
    source = GeneratedStream(size, max_read=8 * MIB)

    tracemalloc.start()
    try:
        info = store.put("big.pdf", source)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert info.sha256 == source.digest.hexdigest()
    assert peak < size // 2, f"put held {peak / MIB:.0f} MiB at once"


def test_check_passes_on_a_working_store(store):
    store.check()
