"""Streams that misbehave on purpose, for the storage tests."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator

MIB = 1024 * 1024


class SourceBroke(Exception):
    """What a deliberately failing source raises."""


class GeneratedStream(io.RawIOBase):
    """A non-seekable stream of ``size`` pseudo-random bytes, made on the fly.

    It can refuse reads larger than ``max_read`` (to prove callers read in chunks) and raise
    SourceBroke once ``fail_after`` bytes have been read (to prove failed puts leave nothing).
    """

    def __init__(self, size: int, *, max_read: int | None = None,
                 fail_after: int | None = None) -> None:
        super().__init__()
        self._blocks = _pseudo_random_blocks()
        self._pending = b""
        self._left = size
        self._max_read = max_read
        self._fail_after = fail_after
        self.delivered = 0
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        assert size is not None and size >= 0, "read() without a size would read everything"
        return super().read(size)

    def readinto(self, buffer: bytearray | memoryview) -> int:
        wanted = min(len(buffer), self._left)
        assert self._max_read is None or len(buffer) <= self._max_read, (
            f"read({len(buffer)}) asks for more than {self._max_read} bytes at once")
        if self._fail_after is not None and self.delivered + wanted > self._fail_after:
            raise SourceBroke(f"the source broke after {self.delivered} bytes")
        data = self._take(wanted)
        buffer[: len(data)] = data
        self._left -= len(data)
        self.delivered += len(data)
        self.digest.update(data)
        return len(data)

    def _take(self, wanted: int) -> bytes:
        while len(self._pending) < wanted:
            self._pending += next(self._blocks)
        data, self._pending = self._pending[:wanted], self._pending[wanted:]
        return data


class BreaksOnSecondPass(io.BytesIO):
    """A seekable stream that reads fine once, then breaks halfway through the next pass.

    A store that hashes seekable sources first and sends them second fails mid-upload with it.
    """

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self._passes = 0

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if offset == 0 and whence == io.SEEK_SET:
            self._passes += 1
        return super().seek(offset, whence)

    def read(self, size: int | None = -1) -> bytes:
        if self._passes >= 1 and self.tell() >= len(self.getbuffer()) // 2:
            raise SourceBroke("the source broke on its second pass")
        return super().read(size)


def _pseudo_random_blocks() -> Iterator[bytes]:
    block = hashlib.sha512(b"khoso").digest() * 2048  # 128 KiB, cheap to make
    counter = 0
    while True:
        counter += 1
        yield counter.to_bytes(8, "big") + block[8:]
