"""Rendered page images on local disk, named by what they were made from, bounded in size.

An entry is written once (temporary file + rename) and never changes, since its name is a
hash of its inputs. A striped file lock makes concurrent requests for one missing entry, from
threads or from gunicorn's processes, render it once. When the folder outgrows its cap, the
least recently used entries go (use refreshes an entry's mtime, at most every few minutes).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import io
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

LOCK_STRIPES = 256
TOUCH_AFTER = 600           # seconds: how stale an mtime may get before a hit refreshes it
SWEEP_EVERY = 0.05          # a sweep after writing this share of the cap (per process)
SWEEP_DOWN_TO = 0.9         # a sweep deletes until the folder is under this share of the cap
STALE_TEMP_AFTER = 3600     # seconds: temporary files older than this were left by a crash
TEMP_PREFIX = ".tmp-"
UNWRITABLE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS)

log = logging.getLogger(__name__)


class RenderCache:
    """Entries under ``root/<2 hex>/<key><suffix>``, at most about ``max_bytes`` in all."""

    def __init__(self, root: str | os.PathLike[str], max_bytes: int) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes
        self.renders = 0    # entries this process rendered (and hits: served from disk)
        self.hits = 0
        self._written = 0
        self._counter_lock = threading.Lock()
        (self.root / ".locks").mkdir(parents=True, exist_ok=True)

    def open(self, key: str, suffix: str, render: Callable[[BinaryIO], None]) -> BinaryIO:
        """The entry ``key`` open for reading; ``render(out)`` writes it first if missing.
        When the cache's disk is full or read-only, the render is served from memory."""
        path = self.root / key[:2] / f"{key}{suffix}"
        found = self._open_entry(path)
        if found is None:
            try:
                with self._key_lock(key):
                    found = self._open_entry(path)
                    if found is None:
                        return self._create(path, render)
            except OSError as error:
                if error.errno not in UNWRITABLE_ERRNOS:
                    raise
                log.warning("render cache %s cannot be written (%s): rendering uncached",
                            self.root, error.strerror)
                return self._render_in_memory(render)
        with self._counter_lock:
            self.hits += 1
        return found

    def _render_in_memory(self, render: Callable[[BinaryIO], None]) -> BinaryIO:
        out = io.BytesIO()
        render(out)
        out.seek(0)
        with self._counter_lock:
            self.renders += 1
        return out

    def _open_entry(self, path: Path) -> BinaryIO | None:
        try:
            entry = open(path, "rb")  # noqa: SIM115 - the caller streams and closes it
        except FileNotFoundError:
            return None
        modified = os.fstat(entry.fileno()).st_mtime
        if time.time() - modified > TOUCH_AFTER:
            with contextlib.suppress(FileNotFoundError):  # evicted meanwhile: still readable
                os.utime(path)
        return entry

    def _create(self, path: Path, render: Callable[[BinaryIO], None]) -> BinaryIO:
        path.parent.mkdir(exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                render(out)
                out.flush()
                os.fdatasync(out.fileno())
            # Opened before the rename: a sweep in another process cannot take it from us.
            entry = open(temp, "rb")  # noqa: SIM115 - the caller streams and closes it
            try:
                os.replace(temp, path)
            except BaseException:
                entry.close()
                raise
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise
        self._after_write(os.fstat(entry.fileno()).st_size)
        return entry

    @contextlib.contextmanager
    def _key_lock(self, key: str) -> Iterator[None]:
        stripe = int(key[:4], 16) % LOCK_STRIPES
        with open(self.root / ".locks" / f"{stripe:03d}", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            yield

    def _after_write(self, size: int) -> None:
        with self._counter_lock:
            self.renders += 1
            self._written += size
            due = self._written >= self.max_bytes * SWEEP_EVERY
            if due:
                self._written = 0
        if due:
            self.sweep()

    def sweep(self) -> int:
        """Delete the least recently used entries until the folder is under 90% of its cap
        (and temporary files a crash left behind); return how many files went. One process
        sweeps at a time; the others skip."""
        with open(self.root / ".locks" / "sweep", "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return 0
            entries, removed = self._scan()
            total = sum(size for _, size, _ in entries)
            if total <= self.max_bytes:
                return removed
            for _, size, path in sorted(entries):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                    removed += 1
                total -= size
                if total <= self.max_bytes * SWEEP_DOWN_TO:
                    break
            return removed

    def _scan(self) -> tuple[list[tuple[float, int, Path]], int]:
        entries, removed, now = [], 0, time.time()
        for folder in self.root.iterdir():
            if folder.name.startswith(".") or not folder.is_dir():
                continue
            for entry in os.scandir(folder):
                with contextlib.suppress(FileNotFoundError):
                    info = entry.stat()
                    if not entry.name.startswith(TEMP_PREFIX):
                        entries.append((info.st_mtime, info.st_size, Path(entry.path)))
                    elif now - info.st_mtime > STALE_TEMP_AFTER:
                        os.unlink(entry.path)
                        removed += 1
        return entries, removed
