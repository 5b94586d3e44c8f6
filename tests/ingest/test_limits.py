"""run_limited and run_tool: every way a guarded call can end becomes a typed error."""

from __future__ import annotations

import os
import pickle
import signal
import time

import pytest

from ingest.errors import (
    ALL_ERRORS,
    CorruptFile,
    DecoderCrashed,
    EncryptedPdf,
    MissingDependency,
    TimedOut,
    TooLarge,
    ToolFailed,
    UnexpectedError,
)
from ingest.limits import Limits, run_limited, run_limited_each, run_tool

QUICK = Limits(seconds=2, memory_mb=200)


def _add(a, b):
    return a + b


def _raise(error):
    raise error


def _sleep(seconds):
    time.sleep(seconds)


def _allocate(megabytes):
    return len(bytearray(megabytes * 1024 * 1024))


def _segfault():
    os.kill(os.getpid(), signal.SIGSEGV)


def test_the_result_comes_back():
    assert run_limited(_add, 2, 3, limits=QUICK) == 5


def test_our_errors_come_back_as_they_are():
    with pytest.raises(CorruptFile, match="bad xref"):
        run_limited(_raise, CorruptFile("bad xref"), limits=QUICK)


def test_other_exceptions_become_unexpected_errors():
    with pytest.raises(UnexpectedError, match="AttributeError: nope"):
        run_limited(_raise, AttributeError("nope"), limits=QUICK)


def test_a_hang_is_stopped_at_the_deadline():
    started = time.monotonic()
    with pytest.raises(TimedOut):
        run_limited(_sleep, 30, limits=Limits(seconds=0.5))
    assert time.monotonic() - started < 3


def test_memory_beyond_the_budget_is_refused():
    with pytest.raises(TooLarge):
        run_limited(_allocate, 400, limits=QUICK)
    assert run_limited(_allocate, 50, limits=QUICK) == 50 * 1024 * 1024


def test_a_crash_ends_with_the_child():
    with pytest.raises(DecoderCrashed, match="SIGSEGV"):
        run_limited(_segfault, limits=QUICK)


def _outcome(kind):
    if kind == "hang":
        time.sleep(30)
    elif kind == "crash":
        os.kill(os.getpid(), signal.SIGSEGV)
    elif kind == "bad":
        raise CorruptFile("bad xref")
    return kind


def test_side_by_side_each_call_ends_on_its_own_in_order():
    started = time.monotonic()
    found = run_limited_each(_outcome, [("a",), ("hang",), ("crash",), ("bad",), ("b",)],
                             limits=Limits(seconds=1, memory_mb=200), jobs=2)
    assert time.monotonic() - started < 5
    assert found[0] == "a" and found[4] == "b"
    assert [type(error) for error in found[1:4]] == [TimedOut, DecoderCrashed, CorruptFile]


@pytest.mark.parametrize("error_class", ALL_ERRORS)
def test_every_error_pickles_with_its_message(error_class):
    error = pickle.loads(pickle.dumps(error_class("why", path="/x")))  # noqa: S301 - our own bytes
    assert type(error) is error_class and error.message == "why" and error.path == "/x"
    assert error.as_dict()["code"] == error_class.code


def test_each_error_has_its_own_code():
    assert len({error.code for error in ALL_ERRORS}) == len(ALL_ERRORS)
    assert EncryptedPdf.needs_password and "password" in EncryptedPdf().message


def test_run_tool_reports_a_missing_program():
    with pytest.raises(MissingDependency, match="poppler-utils"):
        run_tool(["no-such-program-khoso"], timeout=5, package="poppler-utils")


def test_run_tool_stops_at_the_timeout():
    with pytest.raises(TimedOut):
        run_tool(["sleep", "10"], timeout=0.3)


def test_run_tool_reports_the_failure():
    with pytest.raises(ToolFailed, match="exit 3"):
        run_tool(["sh", "-c", "echo broken >&2; exit 3"], timeout=5, memory_mb=256)
