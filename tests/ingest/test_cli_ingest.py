"""``khoso ingest`` end to end: every kind of source, the JSON summary, the exit status; and
``khoso batch``. Each run starts its own queue consumer (worker processes forked from here)."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import bagit
import pytest
from PIL import Image
from sqlalchemy import select

from ingest.cli import batch_cli, ingest_command
from ingest.pdf import raster_pdf
from repository.models import IngestTask, Item, ItemStatus, Page
from tests.ingest.batches import SAF_FIXTURES, SAFCREATOR
from tests.ingest.helpers import BAD

CRAZYONES = BAD / "pdf/pypdf/crazyones.pdf"


@pytest.fixture
def cli(station):
    runner = station.app.test_cli_runner()

    def invoke(*args: str | Path, command=ingest_command):
        return runner.invoke(command, [str(arg) for arg in args], catch_exceptions=False)
    invoke.station = station
    return invoke


def saf_zip(folder: Path, page: Path) -> Path:
    item = folder / "saf" / "item_000"
    item.mkdir(parents=True)
    for name in ("dublin_core.xml", "metadata_dcterms.xml"):
        shutil.copyfile(SAF_FIXTURES / name, item / name)
    shutil.copyfile(page, item / "trang-1.png")
    (item / "contents").write_text("trang-1.png\tbundle:ORIGINAL\n", encoding="utf-8")
    return _zip(folder / "saf", folder / "saf.zip")


def bag(folder: Path, page: Path) -> Path:
    target = folder / "bag"
    target.mkdir()
    shutil.copyfile(page, target / "trang-1.png")
    bagit.make_bag(str(target), {"Title": "Gia phả họ Nguyễn"}, checksums=["sha256"])
    return target


def pages_zip(folder: Path, page: Path) -> Path:
    for book in ("Tập 1", "Tập 2"):
        (folder / "scans" / book).mkdir(parents=True)
        shutil.copyfile(page, folder / "scans" / book / "trang-1.png")
    return _zip(folder / "scans", folder / "scans.zip")


def _zip(source: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w") as archive:
        for path in sorted(source.rglob("*")):
            archive.write(path, path.relative_to(source.parent).as_posix())
    return target


def scanned_pdf(folder: Path, page: Path) -> Path:
    with Image.open(page) as image:
        (folder / "scan.pdf").write_bytes(raster_pdf(image.convert("L"), 200, 75))
    return folder / "scan.pdf"


def test_every_kind_of_source_in_one_run(cli, small_page, tmp_path):
    sources = [saf_zip(tmp_path, small_page), bag(tmp_path, small_page),
               pages_zip(tmp_path, small_page), scanned_pdf(tmp_path, small_page), CRAZYONES]
    result = cli(*sources, "--collection", "sach", "--json", "--processes", "2")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["status"] == "done" and summary["totals"]["failed"] == 0
    assert [(entry["file"], entry["state"], entry["pages"]) for entry in summary["files"]] == [
        ("saf.zip/saf/item_000/trang-1.png", "done", 1), ("bag/trang-1.png", "done", 1),
        ("scans.zip/scans/Tập 1/trang-1.png", "done", 1),
        ("scans.zip/scans/Tập 2/trang-1.png", "done", 1),
        ("scan.pdf", "done", 1), ("crazyones.pdf", "done", 1)]
    titles = {entry["title"]: entry for entry in summary["items"]}
    assert {"A Tale of Two Cities", "Gia phả họ Nguyễn", "Tập 1", "Tập 2", "scan",
            "crazyones"} == set(titles)
    with cli.station.session() as session:
        assert set(session.scalars(select(Item.status))) == {ItemStatus.REVIEW}
        texts = dict(session.execute(select(Item.id, Page.text).join(Page.item)).all())
        sources = {task.item_id: task.result["text_source"] for task in session.scalars(
            select(IngestTask).where(IngestTask.kind == "item"))}
    scan, digital = titles["scan"]["item"], titles["crazyones"]["item"]
    assert sources[scan] == "ocr" and "viện" in texts[scan]
    assert sources[digital] == "pdf:text" and "crazy ones" in texts[digital]
    assert cli.station.object_keys() == set(cli.station.file_keys())


def test_a_manifest_folder_with_rows_that_fail(cli, tmp_path):
    result = cli(SAFCREATOR / "cat_archive", "--manifest", SAFCREATOR / "cat_archive.csv",
                 "--collection", "sach", "--json", "--processes", "1")
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    done = [entry for entry in summary["files"] if entry["state"] == "done"]
    failed = [entry for entry in summary["files"] if entry["state"] == "failed"]
    assert sorted(entry["file"].rsplit("/", 1)[-1] for entry in done) == [
        "animal_locomotion.jpg", "at_his_book.jpg"]
    assert failed and all(entry["item"] is None and entry["error"]["message"]
                          for entry in failed)
    assert "Edward Penfield, his book [graphic]." in {item["title"] for item in summary["items"]}


def test_good_and_bad_files_exit_1_with_the_reasons(cli, small_page, tmp_path):
    empty = tmp_path / "trống.tif"
    empty.touch()
    result = cli(small_page, empty, "--collection", "sach", "--json", "--processes", "1")
    assert result.exit_code == 1
    files = json.loads(result.stdout)["files"]
    assert files[0]["state"] == "done" and files[0]["error"] is None
    assert files[1] == {"file": "trống.tif", "state": "failed", "item": files[1]["item"],
                        "handle": files[1]["handle"], "pages": 0,
                        "error": {"code": "empty",
                                  "message": "The file is empty (0 bytes); upload it again."}}


@pytest.mark.parametrize("args", [
    ("PATH", "--collection", "khong-co"),
    ("/khong/co/tep/nay.tif", "--collection", "sach"),
    ("--collection", "sach"),
    ("PATH",),
])
def test_usage_errors_exit_2(cli, small_page, args):
    result = cli(*[small_page if arg == "PATH" else arg for arg in args])
    assert result.exit_code == 2


def test_no_wait_only_queues_and_batch_commands(cli, small_page):
    queued = cli(small_page, "--collection", "sach", "--no-wait", "--json")
    assert queued.exit_code == 0
    batch_id = json.loads(queued.stdout)["batch"]
    assert json.loads(queued.stdout)["files"][0]["state"] == "queued"
    listed = cli("list", command=batch_cli)
    assert f"{batch_id}\trunning\t0/2\tsach" in listed.output
    retried = cli("retry", str(batch_id), "--processes", "1", command=batch_cli)
    assert retried.exit_code == 0 and "nothing" not in retried.output
    shown = cli("show", str(batch_id), command=batch_cli)
    assert shown.exit_code == 0 and "done     trang-1.png" in shown.output
    assert cli("show", "999", command=batch_cli).exit_code == 2
