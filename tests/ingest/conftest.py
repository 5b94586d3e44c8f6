"""Fixtures for the ingest stages: page contexts in a fresh work directory, rendered pages."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from ingest.context import Options, PageContext
from tests.ingest.helpers import VIETNAMESE, render_page


@pytest.fixture
def page_context(tmp_path):
    """Build a context for ``source`` in a fresh work directory."""
    def build(source: Path, index: int = 0, kind: str = "", **options) -> PageContext:
        return PageContext(work_dir=tmp_path, source=source, page_index=index, kind=kind,
                           options=Options(**options))
    return build


@pytest.fixture(scope="session")
def vietnamese_png(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("pages") / "trang.png"
    render_page(VIETNAMESE).save(path, dpi=(300, 300))
    return path


TALLY_KEY = pytest.StashKey[Counter]()


def pytest_terminal_summary(terminalreporter, config) -> None:
    """The bad-input corpus's outcomes by error code, when that test ran."""
    tally = config.stash.get(TALLY_KEY, None)
    if tally:
        counted = ", ".join(f"{code}={count}" for code, count in tally.most_common())
        terminalreporter.write_line(f"bad-input corpus ({sum(tally.values())} files): {counted}")
