"""The render cache: one render per key across threads and processes, atomic entries, LRU cap."""

from __future__ import annotations

import errno
import multiprocessing
import os
import threading
import time

import pytest

from repository.images import cache as cache_module
from repository.images.cache import RenderCache

KEY = "ab" + "0" * 62


def slow_render(out, content=b"rendered", pause=0.2):
    time.sleep(pause)
    out.write(content)


def read(cache, key=KEY, render=slow_render):
    with cache.open(key, ".jpg", render) as entry:
        return entry.read()


def test_a_missing_entry_is_rendered_once_then_read(tmp_path):
    cache = RenderCache(tmp_path, max_bytes=10**6)
    assert read(cache) == read(cache) == b"rendered"
    assert (cache.renders, cache.hits) == (1, 1)
    assert (tmp_path / "ab" / f"{KEY}.jpg").read_bytes() == b"rendered"


def test_threads_asking_at_once_render_once(tmp_path):
    cache = RenderCache(tmp_path, max_bytes=10**6)
    results = []
    threads = [threading.Thread(target=lambda: results.append(read(cache))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [b"rendered"] * 8
    assert (cache.renders, cache.hits) == (1, 7)


def render_in_child(root: str, queue) -> None:
    cache = RenderCache(root, max_bytes=10**6)
    content = read(cache, render=lambda out: slow_render(out, f"by {os.getpid()}".encode()))
    queue.put((content, cache.renders))


def test_processes_asking_at_once_render_once(tmp_path):
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    children = [context.Process(target=render_in_child, args=(str(tmp_path), queue))
                for _ in range(3)]
    for child in children:
        child.start()
    results = [queue.get(timeout=60) for _ in children]
    for child in children:
        child.join(timeout=60)
    assert len({content for content, _ in results}) == 1
    assert sum(renders for _, renders in results) == 1


def test_a_failed_render_leaves_nothing(tmp_path):
    cache = RenderCache(tmp_path, max_bytes=10**6)

    def broken(out):
        out.write(b"half")
        raise OSError("decoder gave up")
    with pytest.raises(OSError, match="decoder gave up"):
        read(cache, render=broken)
    assert list((tmp_path / "ab").iterdir()) == []
    assert read(cache) == b"rendered"


def test_sweep_removes_the_least_recently_used(tmp_path):
    cache = RenderCache(tmp_path, max_bytes=10**6)
    keys = [f"{index:02x}" + "1" * 62 for index in range(5)]
    for age, key in zip((50, 40, 30, 20, 10), keys, strict=True):
        read(cache, key, lambda out: out.write(b"x" * 300))
        path = tmp_path / key[:2] / f"{key}.jpg"
        os.utime(path, (time.time() - age * 60, time.time() - age * 60))
    read(cache, keys[0], lambda out: out.write(b"x" * 300))    # used again: now the newest
    cache.max_bytes = 1000
    assert cache.sweep() == 2     # 1500 bytes down to 900, 90% of the cap
    left = {path.stem for path in tmp_path.glob("*/*.jpg")}
    assert left == {keys[0], keys[3], keys[4]}


def test_sweep_clears_temporary_files_left_by_a_crash(tmp_path):
    cache = RenderCache(tmp_path, max_bytes=10**6)
    (tmp_path / "cd").mkdir()
    stale = tmp_path / "cd" / ".tmp-crashed"
    fresh = tmp_path / "cd" / ".tmp-rendering-now"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"half")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    assert cache.sweep() == 1
    assert not stale.exists() and fresh.exists()


def test_writing_past_the_cap_sweeps(tmp_path, monkeypatch):
    monkeypatch.setattr(cache_module, "TOUCH_AFTER", 0)
    cache = RenderCache(tmp_path, max_bytes=1000)
    for index in range(10):
        read(cache, f"{index:02x}" + "2" * 62, lambda out: out.write(b"x" * 300))
    assert sum(path.stat().st_size for path in tmp_path.glob("*/*.jpg")) <= 1000 + 300


def test_a_full_disk_serves_renders_from_memory(tmp_path, monkeypatch, caplog):
    cache = RenderCache(tmp_path, max_bytes=10**6)

    def disk_full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(cache_module.tempfile, "mkstemp", disk_full)
    assert read(cache) == b"rendered" and cache.renders == 1
    assert "rendering uncached" in caplog.text
