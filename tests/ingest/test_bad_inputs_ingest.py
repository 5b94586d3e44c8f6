"""The bad-input corpus through the real orchestrator: ``khoso ingest`` with two worker
processes, a third of the corpus (every third file, and the files whose outcome is known) in one
batch, each file its own item; KHOSO_TEST_FULL_CORPUS=1 takes every file.

Every bad file must end with a recorded, readable reason and every good file must become an item
waiting for review, in the same batch. To keep the run short, OCR is off (the reasons come from
reading, decoding and rendering, not from recognising text), PDFs render at 72 dpi, and the
limits refuse files of more than six pages (GeoTopo's 117 pages, five 30-page qpdf files) with
that reason. The tally by outcome is printed in the terminal summary.
"""

from __future__ import annotations

import json
import os
from collections import Counter

import pytest
from sqlalchemy import select

from ingest.cli import ingest_command
from repository.models import Item, ItemStatus
from tests.ingest.conftest import ORCHESTRATOR_TALLY_KEY, Station, station_app
from tests.ingest.helpers import BAD
from tests.ingest.test_bad_inputs import EXPECTED

LIMITS = {"seconds": 15, "memory_mb": 1024, "max_pages": 6}
REFUSED = {"internal", "worker-lost", "retrying", "UNCAUGHT"}


def sample() -> list:
    corpus = sorted(path for path in BAD.rglob("*") if path.is_file())
    if os.environ.get("KHOSO_TEST_FULL_CORPUS") == "1":
        return corpus
    known = {BAD / name for name in EXPECTED}
    return [path for number, path in enumerate(corpus) if number % 3 == 0 or path in known]


@pytest.mark.slow
def test_every_bad_file_says_why_and_every_good_file_becomes_an_item(tmp_path, database_url,
                                                                    request):
    app = station_app(tmp_path, database_url, INGEST_LIMITS=LIMITS,
                      INGEST_COLLECTION_OPTIONS={"sach": {"ocr": False, "dpi": 72}})
    station = Station(app)
    corpus = sample()
    result = app.test_cli_runner().invoke(
        ingest_command, [*map(str, corpus), "--collection", "sach", "--json",
                         "--processes", "2"], catch_exceptions=False)
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    files = summary["files"]
    outcomes = Counter((entry["error"] or {}).get("code", entry["state"]) for entry in files)
    request.config.stash[ORCHESTRATOR_TALLY_KEY] = outcomes
    assert summary["status"] == "partial" and len(files) >= len(corpus)
    assert not REFUSED & set(outcomes), outcomes
    bad = [entry for entry in files if entry["state"] != "done"]
    assert all(entry["error"] and len(entry["error"]["message"]) > 15 for entry in bad)
    good = [entry for entry in files if entry["state"] == "done"]
    assert len(good) >= len(corpus) // 3 and all(entry["pages"] > 0 for entry in good)
    with station.session() as session:
        made = dict(session.execute(select(Item.id, Item.status)).all())
    assert {made[entry["item"]] for entry in good} == {ItemStatus.REVIEW}
    by_name = {entry["file"]: entry for entry in files}
    for name, code in EXPECTED.items():
        entry = by_name[name.rsplit("/", 1)[-1]]
        assert (entry["error"] or {}).get("code", "ok" if entry["state"] == "done" else "") \
            in (code, "not-a-page" if code == "unsupported" else code), (name, entry)
    assert station.object_keys() == set(station.file_keys())
