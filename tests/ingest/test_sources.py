"""plan_batch: what a batch is, told by content; page order; names; every problem a msgid."""

from __future__ import annotations

import pickle
import unicodedata
from pathlib import Path

import pytest

from ingest.plan import BatchPlan, natural_key
from ingest.sources import plan_batch
from repository.dublin_core import Statement
from tests.ingest.batches import PNG, SAF_FIXTURES, TIFF, make_zip, page, zip_folder


def names(files: list[Path]) -> list[str]:
    return [path.name for path in files]


def test_a_folder_of_pages_is_one_item_in_natural_order(tmp_path):
    book = tmp_path / "Truyện Kiều"
    for name in ("page10.png", "page2.png", "Page1.png", "page2a.png", "page002b.png"):
        page(book / name)
    plan = plan_batch(book, work_dir=tmp_path / "work")
    assert plan.kind == "folder" and plan.problems == []
    (item,) = plan.items
    assert names(item.files) == ["Page1.png", "page2.png", "page2a.png", "page002b.png",
                                 "page10.png"]
    assert item.original_name == "Truyện Kiều" and item.metadata == []


def test_one_item_per_folder_nested_folders_included(tmp_path):
    batch = tmp_path / "batch"
    page(batch / "Tập 10" / "1.tif", TIFF)
    page(batch / "Tập 2" / "1.tif", TIFF)
    page(batch / "Báo" / "1945" / "so 1" / "1.tif", TIFF)
    page(batch / "Báo" / "1945" / "so 1" / "2.tif", TIFF)
    plan = plan_batch(batch, work_dir=tmp_path / "work")
    assert [item.source for item in plan.items] == [
        "batch/Báo/1945/so 1", "batch/Tập 2", "batch/Tập 10"]
    assert [len(item.files) for item in plan.items] == [2, 1, 1]


def test_junk_is_skipped_silently_and_other_files_are_noted(tmp_path):
    book = tmp_path / "book"
    page(book / "1.png")
    page(book / "scan0002", TIFF)  # no suffix: known by its bytes
    page(book / "Thumbs.db", b"junk")
    page(book / ".DS_Store", b"junk")
    page(book / "__MACOSX" / "._1.png", b"junk")
    page(book / "notes.txt", b"to do")
    plan = plan_batch(book, work_dir=tmp_path / "work")
    assert names(plan.items[0].files) == ["1.png", "scan0002"]
    assert plan.codes() == ["not-a-page"] and plan.problems[0].source == "book/notes.txt"


def test_vietnamese_names_in_either_unicode_form(tmp_path):
    book = tmp_path / "book"
    page(book / unicodedata.normalize("NFD", "trang 2 – Lời nói đầu.png"))
    page(book / "trang 1 – bìa.png")
    plan = plan_batch(book, work_dir=tmp_path / "work")
    assert [unicodedata.normalize("NFC", name) for name in names(plan.items[0].files)] == [
        "trang 1 – bìa.png", "trang 2 – Lời nói đầu.png"]


def test_natural_key_folds_case_and_unicode_form():
    assert natural_key("Trang10") > natural_key("trang9")
    assert natural_key(unicodedata.normalize("NFD", "Đà")) == natural_key("đà")


def test_a_single_pdf_or_image(tmp_path):
    pdf = plan_batch(SAF_FIXTURES / "test.pdf", work_dir=tmp_path)
    assert (pdf.kind, names(pdf.items[0].files), pdf.problems) == ("pdf", ["test.pdf"], [])
    image = plan_batch(page(tmp_path / "scan.bin", TIFF), work_dir=tmp_path)
    assert image.kind == "image" and image.items[0].original_name == "scan.bin"


def test_a_damaged_page_file_goes_on_to_identify(tmp_path):
    plan = plan_batch(page(tmp_path / "p1.tif", b""), work_dir=tmp_path)
    assert plan.kind == "file" and len(plan.items) == 1


def test_anything_else_is_unsupported(tmp_path):
    document = page(tmp_path / "report.doc", b"\xd0\xcf\x11\xe0" + bytes(60))
    plan = plan_batch(document, work_dir=tmp_path)
    assert plan.items == [] and plan.codes() == ["unsupported"]
    assert "report.doc" in plan.problems[0].message


def test_an_empty_folder_has_no_pages(tmp_path):
    (tmp_path / "empty").mkdir()
    assert plan_batch(tmp_path / "empty", work_dir=tmp_path).codes() == ["no-pages"]


# --- ZIP batches --------------------------------------------------------------------------------

def test_a_zip_is_known_by_its_bytes_and_its_wrapper_folder_skipped(tmp_path):
    archive = make_zip(tmp_path / "upload.bin", {
        "scans/book 2/p1.png": PNG, "scans/book 10/p1.png": PNG, "__MACOSX/scans/._x": b"",
    })
    plan = plan_batch(archive, work_dir=tmp_path / "work")
    assert plan.kind == "folder" and plan.source == "upload.bin"
    assert [item.source for item in plan.items] == ["upload.bin/scans/book 2",
                                                    "upload.bin/scans/book 10"]
    assert all(path.is_relative_to(tmp_path / "work") for path in plan.items[0].files)


def test_a_zip_of_pages_is_named_after_the_zip(tmp_path):
    archive = make_zip(tmp_path / "Địa chí Nghệ An.zip", {"1.png": PNG, "2.png": PNG})
    (item,) = plan_batch(archive, work_dir=tmp_path / "work").items
    assert item.original_name == "Địa chí Nghệ An" and item.source == "Địa chí Nghệ An.zip"


def test_a_zip_with_its_manifest_inside(tmp_path):
    manifest = "file,dc.title[vi]\nbook1,Truyện Kiều\nbook2,Không có\n".encode()
    archive = make_zip(tmp_path / "batch.zip", {
        "batch/manifest.csv": manifest, "batch/book1/1.png": PNG, "batch/book1/2.png": PNG})
    plan = plan_batch(archive, work_dir=tmp_path / "work")
    assert plan.kind == "manifest"
    assert plan.items[0].metadata == [Statement("title", "Truyện Kiều", language="vi")]
    assert plan.items[0].source == "batch.zip/batch/manifest.csv"
    assert plan.codes() == ["manifest-missing-file"] and plan.problems[0].row == 3


def test_a_zip_with_its_manifest_beside_it(tmp_path):
    archive = make_zip(tmp_path / "batch.zip", {"scans/book1/1.png": PNG})
    manifest = tmp_path / "m.csv"
    manifest.write_text("folder,title\nbook1,A\n", encoding="utf-8")
    plan = plan_batch(archive, manifest=manifest, work_dir=tmp_path / "work")
    assert plan.kind == "manifest" and names(plan.items[0].files) == ["1.png"]


def test_a_manifest_file_on_its_own(tmp_path):
    page(tmp_path / "book1" / "1.png")
    (tmp_path / "list.csv").write_text("file,title\nbook1,A\n", encoding="utf-8")
    plan = plan_batch(tmp_path / "list.csv", work_dir=tmp_path / "work")
    assert plan.kind == "manifest" and plan.source == "list.csv" and len(plan.items) == 1


def test_two_csv_files_are_ambiguous(tmp_path):
    page(tmp_path / "batch" / "book1" / "1.png")
    for name in ("a.csv", "b.csv"):
        (tmp_path / "batch" / name).write_text("file,title\nbook1,A\n", encoding="utf-8")
    plan = plan_batch(tmp_path / "batch", work_dir=tmp_path / "work")
    assert plan.items == [] and plan.codes() == ["manifest-ambiguous"]


def test_a_refused_zip_leaves_nothing_behind(tmp_path):
    archive = make_zip(tmp_path / "evil.zip", {"ok.png": PNG, "../../evil.png": PNG})
    plan = plan_batch(archive, work_dir=tmp_path / "work")
    assert plan.kind == "zip" and plan.items == [] and plan.codes() == ["zip-traversal"]
    assert list((tmp_path / "work").iterdir()) == []


def test_skipped_zip_entries_are_reported_with_the_items(tmp_path):
    folder = tmp_path / "book"
    page(folder / "1.png")
    page(folder / "2.png")
    archive = zip_folder(folder, tmp_path / "book.zip")
    data = bytearray(archive.read_bytes())
    data[6] |= 0x1  # the first entry's local header: encrypted
    central = data.find(b"PK\x01\x02")
    data[central + 8] |= 0x1
    archive.write_bytes(bytes(data))
    plan = plan_batch(archive, work_dir=tmp_path / "work")
    assert plan.codes() == ["zip-encrypted"] and names(plan.items[0].files) == ["2.png"]


def test_a_saf_zip_and_a_saf_folder_alike(tmp_path):
    plan = plan_batch(SAF_FIXTURES / "saf-bitstreams.zip", work_dir=tmp_path)
    assert plan.kind == "saf" and plan.items[0].metadata[0] == Statement(
        "title", "A Tale of Two Cities")


# --- plans travel -----------------------------------------------------------------------------

def test_a_plan_pickles(tmp_path):
    archive = make_zip(tmp_path / "batch.zip", {
        "manifest.csv": "file,title[vi]\nbook1,Truyện Kiều\nbook9,X\n".encode(),
        "book1/1.png": PNG})
    plan = plan_batch(archive, work_dir=tmp_path / "work")
    assert len(plan.items) == 1 and len(plan.problems) == 1
    copy = pickle.loads(pickle.dumps(plan))  # noqa: S301 - our own plan, round-tripped
    assert isinstance(copy, BatchPlan) and copy == plan


@pytest.mark.parametrize("batch", ["saf-bitstreams.zip", "saf-registered-bitstreams.zip",
                                   "saf-relationships.zip", "test.pdf"])
def test_every_problem_message_formats(tmp_path, batch):
    plan = plan_batch(SAF_FIXTURES / batch, work_dir=tmp_path)
    for problem in plan.problems:
        assert problem.message and "%(" not in problem.message and problem.code
