"""Time and memory limits around every decoder and external tool that reads uploaded files.

A hostile or damaged file may hang a decoder, allocate without end or crash it. ``run_limited``
runs one call in a forked child with ``RLIMIT_AS`` (the parent's address space plus a budget) and
a wall-clock deadline, and turns every way the child can end into a typed error;
``run_limited_each`` runs several such calls side by side, each in its own child. ``run_tool``
does the same for an external program. Forking costs a few milliseconds a call (see the bench),
small beside decoding a 300-dpi page, and a crash or leak ends with the child, not the worker.
"""

from __future__ import annotations

import contextlib
import faulthandler
import logging
import os
import pickle
import resource
import select
import signal
import subprocess
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from ingest.errors import (
    DecoderCrashed,
    IngestError,
    MissingDependency,
    TimedOut,
    TooLarge,
    ToolFailed,
    UnexpectedError,
)

T = TypeVar("T")
MB = 1024 * 1024
_CHILD_FAILED = 70


@dataclass(frozen=True)
class Limits:
    """What one file or page may cost. Defaults suit A3 scans at 600 dpi on a 2-core worker."""

    seconds: float = 60.0
    memory_mb: int = 1536
    max_pixels: int = 150_000_000
    max_file_mb: int = 2048
    max_pages: int = 5000


def run_limited(func: Callable[..., T], *args: Any, limits: Limits) -> T:
    """Run ``func(*args)`` in a child process bounded by ``limits``; return its result.

    ``func`` and its result must be picklable-light (paths and small records, not images).
    Our own errors raised in the child come back as they are; any other exception becomes
    ``UnexpectedError``; running out of memory becomes ``TooLarge``; a deadline ``TimedOut``;
    death by a signal ``DecoderCrashed``.
    """
    pid, read_fd = _spawn(func, args, limits)
    try:
        payload = _read_until(read_fd, pid, time.monotonic() + limits.seconds)
    finally:
        os.close(read_fd)
    return _outcome(payload, _reap(pid), limits)


def run_limited_each(func: Callable[..., T], arg_lists: Sequence[tuple], *, limits: Limits,
                     jobs: int | None = None) -> list[T | IngestError]:
    """``run_limited(func, *args)`` for each of ``arg_lists``, up to ``jobs`` children at a time
    (default: one per core); in order, each call's result or the typed error it ended with.

    Each call has its own child, limits and deadline, as with ``run_limited``: a file that
    crashes or hangs its decoder fails alone.
    """
    jobs = max(1, jobs or os.cpu_count() or 1)
    results: list[Any] = [None] * len(arg_lists)
    waiting = list(enumerate(arg_lists))[::-1]
    running: dict[int, tuple[int, int, float, list[bytes]]] = {}  # fd → index, pid, deadline
    while waiting or running:
        while waiting and len(running) < jobs:
            index, args = waiting.pop()
            pid, read_fd = _spawn(func, args, limits)
            running[read_fd] = (index, pid, time.monotonic() + limits.seconds, [])
        nearest = min(deadline for _, _, deadline, _ in running.values())
        ready = select.select(list(running), [], [], max(0.0, nearest - time.monotonic()))[0]
        for read_fd in ready:
            chunk = os.read(read_fd, 1 << 16)
            index, pid, _, chunks = running[read_fd]
            if chunk:
                chunks.append(chunk)
                continue
            del running[read_fd]
            os.close(read_fd)
            results[index] = _settle(b"".join(chunks), pid, limits)
        for read_fd, (index, pid, deadline, _) in list(running.items()):
            if deadline <= time.monotonic():
                del running[read_fd]
                os.close(read_fd)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                _reap(pid)
                results[index] = TimedOut()
    return results


def _spawn(func: Callable[..., Any], args: tuple, limits: Limits) -> tuple[int, int]:
    """Fork the guarded child that runs ``func(*args)``; its pid and the pipe it answers on."""
    budget = _address_space() + limits.memory_mb * MB
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child, reported through the pipe
        os.close(read_fd)
        _child(func, args, budget, limits.seconds, write_fd)
    os.close(write_fd)
    return pid, read_fd


def _settle(payload: bytes, pid: int, limits: Limits) -> Any:
    try:
        return _outcome(payload, _reap(pid), limits)
    except IngestError as error:
        return error


def _child(func: Callable[..., Any], args: tuple, budget: int, seconds: float, fd: int) -> None:
    status = 0
    faulthandler.disable()  # a decoder's crash is reported by the parent, not dumped here
    try:
        resource.setrlimit(resource.RLIMIT_AS, (budget, budget))
        cpu = int(seconds) + 2
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        with os.fdopen(fd, "wb") as pipe:
            pipe.write(_encode(_call(func, args)))
    except BaseException:
        status = _CHILD_FAILED
    finally:
        os._exit(status)


def _call(func: Callable[..., Any], args: tuple) -> tuple[str, Any]:
    # Warnings and library log chatter about a hostile file would flood the worker's log; the
    # outcome says what matters. Decoders that care turn the warnings they mean into errors.
    logging.disable(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return "ok", func(*args)
        except IngestError as error:
            return "err", error
        except MemoryError:
            return "err", TooLarge("Decoding the file needs more memory than the limit allows.")
        except RecursionError:
            return "err", DecoderCrashed("The file nests too deeply to read; it is damaged.")
        except Exception as error:
            return "err", UnexpectedError(f"{type(error).__name__}: {error}"[:500])


def _encode(outcome: tuple[str, Any]) -> bytes:
    try:
        return pickle.dumps(outcome)
    except MemoryError:
        return pickle.dumps(("err", TooLarge("The result needs more memory than the limit.")))
    except Exception as error:
        return pickle.dumps(("err", UnexpectedError(f"Result cannot be sent back: {error}")))


def _read_until(fd: int, pid: int, deadline: float) -> bytes:
    chunks: list[bytes] = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            _reap(pid)
            raise TimedOut()
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _reap(pid: int) -> int:
    try:
        return os.waitpid(pid, 0)[1]
    except ChildProcessError:
        return 0


def _outcome(payload: bytes, status: int, limits: Limits) -> Any:
    if payload:
        kind, value = pickle.loads(payload)  # noqa: S301 - our own child wrote it
        if kind == "err":
            raise value
        return value
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGXCPU:
        raise TimedOut()
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
        raise TooLarge("The decoder was killed, most likely for using too much memory.")
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == _CHILD_FAILED:
        raise TooLarge(f"Reading the file needed more than {limits.memory_mb} MB.")
    signum = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
    name = signal.Signals(signum).name if signum else f"exit {os.WEXITSTATUS(status)}"
    raise DecoderCrashed(f"The decoder crashed on this file ({name}); it is probably damaged.")


def _address_space() -> int:
    """The calling process's virtual size: the child's limit is this plus the budget."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def run_tool(argv: Sequence[str], *, timeout: float, memory_mb: int | None = None,
             package: str = "") -> subprocess.CompletedProcess[bytes]:
    """Run an external program with a timeout and an address-space limit; typed errors only."""
    limit = None if memory_mb is None else memory_mb * MB
    try:
        return subprocess.run(  # noqa: S603 - argv is built by us, never by a shell
            list(argv), capture_output=True, timeout=timeout, check=True, stdin=subprocess.DEVNULL,
            preexec_fn=None if limit is None else _limit_memory(limit))
    except FileNotFoundError as error:
        hint = f" (Debian package {package})" if package else ""
        raise MissingDependency(f"{argv[0]} is not installed{hint}.") from error
    except subprocess.TimeoutExpired as error:
        raise TimedOut(f"{argv[0]} took more than {timeout:g} s and was stopped.") from error
    except subprocess.CalledProcessError as error:
        raise ToolFailed(_tool_message(argv[0], error)) from error


def _limit_memory(limit: int) -> Callable[[], None]:
    # Runs between fork and exec: only setrlimit, no locks, no imports.
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    return apply


def _tool_message(program: str, error: subprocess.CalledProcessError) -> str:
    lines = (error.stderr or b"").decode("utf-8", "replace").strip().splitlines()
    detail = "; ".join(lines[-3:])[:300]
    code = error.returncode
    how = f"signal {-code}" if code < 0 else f"exit {code}"
    return f"{program} failed ({how})" + (f": {detail}" if detail else ".")
