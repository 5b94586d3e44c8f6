"""What only the local-filesystem backend does: path safety, disk full, its on-disk layout."""

from __future__ import annotations

import datetime
import io
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

import storage
from storage.local import SHA256_XATTR
from tests.storage.helpers import MIB, GeneratedStream


@pytest.fixture
def root(tmp_path) -> Path:
    return tmp_path / "objects"


@pytest.fixture
def store(root) -> storage.ObjectStore:
    return storage.open_store(f"file://{root}")


@pytest.fixture
def outside(tmp_path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text("not yours")
    return folder


def test_the_root_folder_is_created(root, store):
    assert root.is_dir()
    assert "objects" in repr(store)


def test_a_symlinked_folder_cannot_lead_outside_the_root(root, store, outside):
    (root / "escape").symlink_to(outside)

    for call in (lambda: store.put("escape/new.txt", io.BytesIO(b"x")),
                 lambda: store.stat("escape/secret.txt"),
                 lambda: store.open("escape/secret.txt"),
                 lambda: store.delete("escape/secret.txt"),
                 lambda: list(store.list("escape/"))):
        with pytest.raises(storage.InvalidKey, match="outside"):
            call()
    assert sorted(os.listdir(outside)) == ["secret.txt"]
    assert list(store.list()) == []


def test_a_symlinked_file_cannot_lead_outside_the_root(root, store, outside):
    (root / "secret.txt").symlink_to(outside / "secret.txt")

    with pytest.raises(storage.InvalidKey, match="outside"):
        store.open("secret.txt")
    assert list(store.list()) == []


def test_a_full_disk_raises_storage_full_and_leaves_nothing(tmp_path):
    # A real full disk: a 1 MiB tmpfs, mounted only where this process may mount (root).
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)],
                             capture_output=True, check=False)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root); the ENOSPC path is untested")
    try:
        store = storage.open_store(f"file://{mount_point}/objects")
        with pytest.raises(storage.StorageFull, match="no space"):
            store.put("books/big.pdf", GeneratedStream(2 * MIB))
        assert _files_under(mount_point) == []
        assert store.put("books/small.pdf", io.BytesIO(b"fits")).size == 4
    finally:
        subprocess.run(["umount", str(mount_point)], check=True)


def test_a_key_cannot_be_an_object_and_a_folder(store):
    store.put("a/b", io.BytesIO(b"x"))

    with pytest.raises(storage.InvalidKey, match="folder"):
        store.put("a", io.BytesIO(b"y"))
    with pytest.raises(storage.InvalidKey, match="folder"):
        store.put("a/b/c", io.BytesIO(b"z"))
    assert [info.key for info in store.list()] == ["a/b"]


def test_leftover_temporary_files_are_not_listed(root, store):
    store.put("books/page.tif", io.BytesIO(b"x"))
    (root / "books" / ".khoso-tmp-abc123").write_bytes(b"partial, from a crash")

    assert [info.key for info in store.list()] == ["books/page.tif"]


def test_checksum_and_media_type_live_in_xattrs(root, store):
    info = store.put("page.tif", io.BytesIO(b"data"), media_type="image/tiff")

    path = root / "page.tif"
    assert os.getxattr(path, SHA256_XATTR).decode() == info.sha256
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_a_file_that_lost_its_xattrs_gets_its_checksum_back(root, store):
    info = store.put("page.tif", io.BytesIO(b"data"))
    os.removexattr(root / "page.tif", SHA256_XATTR)

    assert store.stat("page.tif").sha256 == info.sha256
    assert os.getxattr(root / "page.tif", SHA256_XATTR).decode() == info.sha256


def test_delete_removes_folders_left_empty(root, store):
    store.put("a/b/c.txt", io.BytesIO(b"1"))
    store.put("a/d.txt", io.BytesIO(b"2"))

    store.delete("a/b/c.txt")
    assert sorted(os.listdir(root / "a")) == ["d.txt"]
    store.delete("a/d.txt")
    assert os.listdir(root) == []


def test_no_presigned_urls(store):
    store.put("page.tif", io.BytesIO(b"x"))
    assert store.presign("page.tif", datetime.timedelta(minutes=5)) is None


def test_check_reports_a_missing_root(root, store):
    shutil.rmtree(root)
    with pytest.raises(storage.StorageUnavailable, match="missing"):
        store.check()


@pytest.mark.parametrize("url", ["file://relative/path", "file:relative", "file:///x?y=1"])
def test_malformed_file_urls_are_refused(url):
    with pytest.raises(ValueError, match="file:///absolute/folder"):
        storage.open_store(url)


def test_unknown_schemes_are_refused():
    with pytest.raises(ValueError, match="file:// or s3://"):
        storage.open_store("ftp://host/folder")


def _files_under(root: Path) -> list[str]:
    return [name for _folder, _dirs, names in os.walk(root) for name in names]
