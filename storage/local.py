"""The local-filesystem backend: one file per object under a root folder, written atomically.

The SHA-256 and media type live in the file's extended attributes (``user.khoso.*``), not in a
sidecar file: they are set on the temporary file before the rename, so the rename publishes
content and checksum in one atomic step; no second file can disagree after a crash, shadow a key
or need skipping in listings. The price is a filesystem with user xattrs (ext4, XFS, Btrfs, ZFS,
tmpfs on Linux >= 6.6), checked when the store opens, and backups that keep them (``rsync -X``,
``tar --xattrs``); a file that lost them gets its checksum recomputed once by ``stat``.
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import os
import stat as stat_mode
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO
from urllib.parse import SplitResult, unquote

from storage.errors import (
    ChecksumMismatch,
    InvalidKey,
    ObjectNotFound,
    StorageError,
    StorageFull,
    StorageUnavailable,
)
from storage.interfaces import DEFAULT_MEDIA_TYPE, ByteRange, ObjectInfo, ObjectStore, Source
from storage.keys import RESERVED_PREFIX, is_valid_key, validate_key, validate_prefix
from storage.streams import (
    NO_SPACE_ERRNOS,
    ObjectReader,
    copy_hashing,
    hash_stream,
    opened_source,
    resolve_range,
)

SHA256_XATTR = "user.khoso.sha256"
MEDIA_TYPE_XATTR = "user.khoso.media_type"
# Owner and group (backup, other workers) may read; others may not: some items are restricted.
FILE_MODE = 0o640
MISSING_ERRNOS = (errno.ENOENT, errno.ENOTDIR, errno.EISDIR)
CONFLICT_ERRNOS = (errno.ENOTDIR, errno.EISDIR, errno.EEXIST)
MAKE_TEMP_ATTEMPTS = 3


class LocalStore(ObjectStore):
    """Objects as files under ``root``, which is created if missing."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self._root = Path(os.path.realpath(root))
        with self._translated("(root)"):
            self._root.mkdir(parents=True, exist_ok=True)
        _require_xattrs(self._root)

    @classmethod
    def from_url(cls, url: SplitResult) -> LocalStore:
        """``file:///absolute/folder`` (no host, no query)."""
        path = unquote(url.path)
        if url.netloc not in ("", "localhost") or url.query or not os.path.isabs(path):
            raise ValueError(f"a local storage URL is file:///absolute/folder, not {url.geturl()}")
        return cls(path)

    def __repr__(self) -> str:
        return f"LocalStore({str(self._root)!r})"

    def put(self, key: str, source: Source, *, media_type: str = DEFAULT_MEDIA_TYPE,
            size: int | None = None) -> ObjectInfo:
        path = self._path(key)
        fd, temp = self._make_temp(path, key)
        try:
            with os.fdopen(fd, "wb") as out, opened_source(source) as stream:
                written, sha256 = copy_hashing(stream, self._writer(out, key))
                _check_size(key, size, written)
                with self._translated(key):
                    info = _finish_file(out, sha256, media_type)
            _replace(temp, path, key, self._put_error)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            self._prune_empty_folders(path.parent)
            raise
        with self._translated(key):
            _fsync_folder(path.parent)
        return _object_info(key, info, sha256, media_type)

    def open(self, key: str, byte_range: ByteRange | None = None) -> ObjectReader:
        path = self._path(key)
        with self._translated(key):
            stream = open(path, "rb")  # noqa: SIM115 - the reader owns and closes it
        try:
            with self._translated(key):
                info = os.fstat(stream.fileno())
            _require_regular(info, key)
            offset, length = resolve_range(byte_range, info.st_size)
            stream.seek(offset)
        except BaseException:
            stream.close()
            raise
        return ObjectReader(stream, length, close=stream.close,
                            translate_errors=lambda: self._translated(key))

    def stat(self, key: str) -> ObjectInfo:
        path = self._path(key)
        with self._translated(key):
            # One descriptor for size and xattrs: a concurrent put cannot mix two versions.
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            try:
                info = os.fstat(fd)
                _require_regular(info, key)
                return _object_info(key, info, _stored_sha256(fd), _stored_media_type(fd))
            finally:
                os.close(fd)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink()
        except OSError as exc:
            if exc.errno in MISSING_ERRNOS:
                return
            raise self._error(exc, key) from exc
        self._prune_empty_folders(path.parent)

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        validate_prefix(prefix)
        folder_key = prefix.rpartition("/")[0]
        folder = self._path(folder_key) if folder_key else self._root
        yield from self._walk(folder, folder_key + "/" if folder_key else "", prefix)

    def presign(self, key: str, expires: datetime.timedelta) -> str | None:
        validate_key(key)
        return None

    def check(self) -> None:
        if not self._root.is_dir():
            raise StorageUnavailable(f"the storage folder {self._root} is missing")
        if not os.access(self._root, os.W_OK | os.X_OK):
            raise StorageUnavailable(f"the storage folder {self._root} is not writable")

    def _path(self, key: str) -> Path:
        """The file for ``key``, refused if symlinks would lead it outside the root."""
        path = self._root.joinpath(*validate_key(key).split("/"))
        if not _is_inside(os.path.realpath(path), self._root):
            raise InvalidKey(key, "it leads outside the storage folder (through a symlink)")
        return path

    def _make_temp(self, path: Path, key: str) -> tuple[int, str]:
        """Create the temporary file in the object's own folder, so the rename stays atomic."""
        attempts_left = MAKE_TEMP_ATTEMPTS
        while True:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                return tempfile.mkstemp(dir=path.parent, prefix=RESERVED_PREFIX)
            except FileNotFoundError:
                # A concurrent delete pruned the folder between mkdir and mkstemp: again.
                attempts_left -= 1
                if not attempts_left:
                    raise StorageError(f"could not create the folder for {key!r}") from None
            except OSError as exc:
                raise self._put_error(exc, key) from exc

    def _writer(self, out: BinaryIO, key: str) -> Callable[[bytes], None]:
        def write(chunk: bytes) -> None:
            with self._translated(key):
                out.write(chunk)
        return write

    def _walk(self, folder: Path, folder_key: str, prefix: str) -> Iterator[ObjectInfo]:
        try:
            entries = os.scandir(folder)
        except OSError as exc:
            if exc.errno in MISSING_ERRNOS:
                return
            raise self._error(exc, folder_key) from exc
        with entries:
            # A folder sorts as "name/" so that "a-b" (0x2D) comes before "a/..." (0x2F).
            named = sorted((e.name + "/" if e.is_dir(follow_symlinks=False) else e.name, e)
                           for e in entries)
        for sort_name, entry in named:
            key = folder_key + sort_name
            if sort_name.endswith("/"):
                if key.startswith(prefix) or prefix.startswith(key):
                    yield from self._walk(Path(entry.path), key, prefix)
            elif key.startswith(prefix) and self._is_listable(key, entry):
                info = entry.stat()
                yield ObjectInfo(key=key, size=info.st_size, sha256=None, etag=_etag(info),
                                 media_type=None, modified=_modified(info))

    def _is_listable(self, key: str, entry: os.DirEntry[str]) -> bool:
        if not is_valid_key(key) or not entry.is_file():
            return False
        return not entry.is_symlink() or _is_inside(os.path.realpath(entry.path), self._root)

    def _prune_empty_folders(self, folder: Path) -> None:
        while folder != self._root:
            try:
                folder.rmdir()
            except OSError:
                return  # not empty, or already gone: either way pruning stops here
            folder = folder.parent

    @contextlib.contextmanager
    def _translated(self, key: str) -> Iterator[None]:
        try:
            yield
        except OSError as exc:
            raise self._error(exc, key) from exc

    def _error(self, exc: OSError, key: str) -> StorageError:
        if exc.errno in MISSING_ERRNOS:
            return ObjectNotFound(key)
        if exc.errno in NO_SPACE_ERRNOS:
            return StorageFull(f"no space left in {self._root} to store {key!r}")
        return StorageError(f"{key!r} in {self._root}: {exc.strerror or exc}")

    def _put_error(self, exc: OSError, key: str) -> StorageError:
        if exc.errno in CONFLICT_ERRNOS:
            return InvalidKey(key, "on the local backend a key cannot be both an object and "
                                   "a folder of other objects")
        return self._error(exc, key)


def _finish_file(out: BinaryIO, sha256: str, media_type: str) -> os.stat_result:
    """Give the written temporary file its xattrs and mode, make it durable, and stat it."""
    out.flush()
    fd = out.fileno()
    os.setxattr(fd, SHA256_XATTR, sha256.encode("ascii"))
    os.setxattr(fd, MEDIA_TYPE_XATTR, media_type.encode("utf-8"))
    os.fchmod(fd, FILE_MODE)
    os.fsync(fd)
    return os.fstat(fd)


def _replace(temp: str, path: Path, key: str,
             error: Callable[[OSError, str], StorageError]) -> None:
    try:
        os.replace(temp, path)
    except OSError as exc:
        raise error(exc, key) from exc


def _fsync_folder(folder: Path) -> None:
    """Make the rename durable: it lives in the folder's entries."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _object_info(key: str, info: os.stat_result, sha256: str, media_type: str) -> ObjectInfo:
    return ObjectInfo(key=key, size=info.st_size, sha256=sha256, etag=_etag(info),
                      media_type=media_type, modified=_modified(info))


def _stored_sha256(fd: int) -> str:
    try:
        return os.getxattr(fd, SHA256_XATTR).decode("ascii")
    except OSError as exc:
        if exc.errno != errno.ENODATA:
            raise
    # Restored without its xattrs (cp, rsync without -X): recompute once and keep it.
    with open(fd, "rb", closefd=False) as stream:
        _size, sha256 = hash_stream(stream)
    os.setxattr(fd, SHA256_XATTR, sha256.encode("ascii"))
    return sha256


def _stored_media_type(fd: int) -> str:
    try:
        return os.getxattr(fd, MEDIA_TYPE_XATTR).decode("utf-8")
    except OSError as exc:
        if exc.errno != errno.ENODATA:
            raise
        return DEFAULT_MEDIA_TYPE


def _require_xattrs(root: Path) -> None:
    if not hasattr(os, "getxattr"):
        raise StorageError("the local storage backend needs Linux extended attributes")
    try:
        os.getxattr(root, SHA256_XATTR)
    except OSError as exc:
        if exc.errno != errno.ENODATA:
            raise StorageError(f"the filesystem of {root} does not support user extended "
                               f"attributes ({exc.strerror}); the local backend needs them "
                               "to keep checksums") from exc


def _require_regular(info: os.stat_result, key: str) -> None:
    if not stat_mode.S_ISREG(info.st_mode):
        raise ObjectNotFound(key)


def _check_size(key: str, expected: int | None, written: int) -> None:
    if expected is not None and expected != written:
        raise ChecksumMismatch(f"{key!r}: the source gave {written} bytes, {expected} announced")


def _is_inside(real_path: str, root: Path) -> bool:
    return real_path.startswith(str(root) + os.sep)


def _etag(info: os.stat_result) -> str:
    # Every put renames a new file into place, so the inode changes with the content.
    return f"{info.st_ino:x}-{info.st_mtime_ns:x}-{info.st_size:x}"


def _modified(info: os.stat_result) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(info.st_mtime, tz=datetime.UTC)
