"""CSV manifests: encodings, columns, multi-values, languages, files and folders, bad rows."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from ingest.manifest import plan_manifest, read_manifest
from ingest.plan import UnpackLimits
from repository.dublin_core import Statement
from tests.ingest.batches import SAFCREATOR, page

HEADER = "file,dc.title[vi],dc.creator,dc.date.issued,dc.subject\n"
ROWS = ("book1,Truyện Kiều,Nguyễn Du,1820,Thơ||Văn học\n"
        "book2/p1.png;book2/p2.png,Lục Vân Tiên,Nguyễn Đình Chiểu,1864,\n")


def write(tmp_path: Path, text: str, encoding: str = "utf-8", bom: bytes = b"") -> Path:
    path = tmp_path / "manifest.csv"
    path.write_bytes(bom + text.encode(encoding))
    return path


def plan(path: Path, *bases: Path, **limits):
    items, problems = plan_manifest(path, bases=bases or (path.parent,),
                                    limits=UnpackLimits(**limits))
    return items, problems, [problem.code for problem in problems]


@pytest.fixture
def books(tmp_path) -> Path:
    for name in ("trang10.png", "trang2.png", "trang1.png"):
        page(tmp_path / "book1" / name)
    for name in ("p1.png", "p2.png"):
        page(tmp_path / "book2" / name)
    return tmp_path


@pytest.mark.parametrize("bom", [b"", codecs.BOM_UTF8], ids=["no-bom", "bom"])
def test_utf8_with_or_without_bom(books, bom):
    items, _, codes = plan(write(books, HEADER + ROWS, bom=bom))
    assert codes == []
    first, second = items
    assert first.metadata == [
        Statement("title", "Truyện Kiều", language="vi"), Statement("creator", "Nguyễn Du"),
        Statement("date", "1820", "issued"), Statement("subject", "Thơ"),
        Statement("subject", "Văn học")]
    assert [path.name for path in first.files] == ["trang1.png", "trang2.png", "trang10.png"]
    assert first.original_name == "book1" and first.row == 2 and first.source == "manifest.csv"
    assert [path.name for path in second.files] == ["p1.png", "p2.png"]


def test_utf16_is_refused_with_the_fix(books):
    _, problems, codes = plan(write(books, HEADER + ROWS, "utf-16"))
    assert codes == ["manifest-encoding"]
    assert "UTF-16" in problems[0].message and "CSV UTF-8" in problems[0].message


def test_utf16_without_bom_is_refused_too(books):
    assert plan(write(books, HEADER + ROWS, "utf-16-le"))[2] == ["manifest-encoding"]


def test_windows_1258_is_refused_naming_the_line(books):
    text = HEADER + "book1,Nha\u0300 th\u01a1,Nam Cao,1943,\n"  # cp1258 keeps tone marks apart
    _, problems, codes = plan(write(books, text, "cp1258"))
    assert codes == ["manifest-encoding"]
    assert problems[0].params["line"] == 2 and "Windows-1258" in problems[0].message


def test_semicolon_separated_as_excel_in_vietnamese_saves(books):
    path = write(books, "file;title;creator\nbook1;Truyện Kiều, bản Liễu Văn Đường;Nguyễn Du\n")
    items, _, codes = plan(path)
    assert codes == [] and items[0].metadata[0].value == "Truyện Kiều, bản Liễu Văn Đường"


def test_column_names_in_every_spelling(books):
    path = write(books, "Files,Title,dc:creator,dcterms.issued,dcterms:abstract,"
                        "dc.title.alternative[en],dc.language.iso\n"
                        "book1,A,B,1900,Tóm tắt,The Tale,vie\n")
    items, _, codes = plan(path)
    assert codes == []
    assert items[0].metadata == [
        Statement("title", "A"), Statement("creator", "B"), Statement("date", "1900", "issued"),
        Statement("description", "Tóm tắt", "abstract"),
        Statement("title", "The Tale", "alternative", "en"),
        Statement("language", "vie", "iso")]


def test_unknown_and_invalid_columns_are_noted_not_fatal(books):
    path = write(books, "file,title,local.note,dc.title[Vietnamese language],dc.title.a.b\n"
                        "book1,A,x,y,z\n")
    items, problems, codes = plan(path)
    assert len(items) == 1 and items[0].metadata == [Statement("title", "A")]
    assert codes == ["manifest-unknown-column", "manifest-bad-column", "manifest-bad-column"]
    assert "local.note" in problems[0].message
    assert "is not a language tag" in problems[1].message


def test_a_row_with_a_missing_file_is_skipped_alone(books):
    path = write(books, HEADER + "book1,A,,,\nbook9,B,,,\nbook2/p1.png;book2/nope.png,C,,,\n")
    items, problems, codes = plan(path)
    assert [item.row for item in items] == [2]
    assert codes == ["manifest-missing-file", "manifest-missing-file"]
    assert [problem.row for problem in problems] == [3, 4]
    assert problems[1].params["file"] == "book2/nope.png"


def test_listed_files_keep_their_order_and_both_separators(books):
    path = write(books, "file,title\nbook2/p2.png || book2/p1.png,A\n"
                        "book2\\p1.png;book2\\p2.png,B\n")
    items, _, codes = plan(path)
    assert codes == []
    assert [[path.name for path in item.files] for item in items] == [
        ["p2.png", "p1.png"], ["p1.png", "p2.png"]]


def test_names_match_regardless_of_case_and_unicode_form(tmp_path):
    page(tmp_path / "Tập 1" / "Trang 1.PNG")
    decomposed = "ta\u0323\u0302p 1/trang 1.png"  # as typed on a Mac, lower case
    items, _, codes = plan(write(tmp_path, f"file,title\n{decomposed},A\n"))
    assert codes == [] and items[0].files == [tmp_path / "Tập 1" / "Trang 1.PNG"]


@pytest.mark.parametrize(("entry", "code"), [
    ("../outside.png", "unsafe-path"), ("/etc/passwd", "unsafe-path"),
    ("C:\\scans\\p1.tif", "unsafe-path"), ("https://example.org/p1.tif", "manifest-remote-file"),
    ("empty", "manifest-empty-folder"),
])
def test_rows_that_point_where_they_must_not(tmp_path, entry, code):
    (tmp_path / "empty").mkdir()
    page(tmp_path.parent / "outside.png")
    items, problems, codes = plan(write(tmp_path, f"file,title\n{entry},A\n"))
    assert items == [] and codes == [code] and problems[0].row == 2


def test_invalid_values_skip_their_row(books):
    long_title = "x" * 100_001
    items, problems, codes = plan(write(books, f"file,title\nbook1,{long_title}\nbook2,B\n"))
    assert [item.row for item in items] == [3]
    assert codes == ["manifest-invalid-value"] and problems[0].row == 2
    assert "longer than" in problems[0].message


def test_rows_without_files_or_with_extra_cells(books):
    path = write(books, "file,title\n,Only a title\nbook1,A,stray\n\n,,\nbook2,B\n")
    items, problems, codes = plan(path)
    assert [item.row for item in items] == [6]
    assert codes == ["manifest-no-files", "manifest-extra-cells"]


def test_a_manifest_without_a_file_column_or_empty(books):
    assert plan(write(books, "title\nA\n"))[2] == ["manifest-no-file-column"]
    assert plan(write(books, ""))[2] == ["manifest-empty"]


def test_a_manifest_too_large(books):
    assert plan(write(books, HEADER + ROWS), max_manifest_bytes=10)[2] == ["manifest-too-large"]


def test_files_are_looked_up_in_each_base_in_turn(tmp_path):
    page(tmp_path / "scans" / "p1.png")
    manifest = write(tmp_path, "file,title\np1.png,A\n")
    items, _, codes = plan(manifest, tmp_path / "scans", tmp_path)
    assert codes == [] and items[0].files == [tmp_path / "scans" / "p1.png"]


# --- SAFCreator's own sample sheets -------------------------------------------------------------

def test_safcreator_cat_archive_metadata_parses():
    manifest = read_manifest(SAFCREATOR / "cat_archive.csv")
    assert [problem.params["column"] for problem in manifest.problems] == [
        "bundle:THUMBNAIL", "thesis.degree.department[en]", "thesis.degree.grantor[en]"]
    bookplate = manifest.rows[2]
    assert bookplate.files == ["at_his_book.jpg"] and bookplate.problems == []
    assert [value.value for value in bookplate.metadata if value.element == "type"] == [
        "still image", "Bookplates 1900-1930. gmgpc", "Woodcuts Color 1900-1930. gmgpc"]
    assert Statement("language", "eng") in bookplate.metadata


def test_safcreator_cat_archive_rows_report_missing_files_cleanly():
    items, problems, codes = plan(SAFCREATOR / "cat_archive.csv")
    assert items == []
    row_problems = [(problem.row, problem.code) for problem in problems if problem.row]
    assert row_problems == [(2, "manifest-missing-file"), (3, "manifest-remote-file"),
                            (4, "manifest-missing-file"), (5, "manifest-missing-file")]


def test_safcreator_cat_archive_finds_its_images_in_their_folder():
    items, _, _ = plan(SAFCREATOR / "cat_archive.csv", SAFCREATOR / "cat_archive")
    assert [(item.row, item.files[0].name) for item in items] == [
        (4, "at_his_book.jpg"), (5, "animal_locomotion.jpg")]
    assert items[1].metadata[0] == Statement("title", "Animal locomotion [graphic].")


def test_safcreator_fanzines_metadata_parses():
    manifest = read_manifest(SAFCREATOR / "test-fanzines.csv")
    assert [problem.params["column"] for problem in manifest.problems] == [
        "handle", "local.genre.fanzine", "local.embargo.terms"]
    batman, _, star_trek = manifest.rows
    assert batman.files == [
        "testFolder/testSubFolder/BatmanBoyandGirlWondersRobininCulturalContext.pdf"]
    subjects = [value.value for value in star_trek.metadata if value.element == "subject"]
    assert subjects == ['Subjectively testing ampersands & "testing quoted stuff"',
                        "another test subject", "Star Trek: The Original Series (TOS)", "Gen",
                        "Fanfiction"]
    assert Statement("format", "reformatted digital", "digitalorigin") in star_trek.metadata
    assert Statement("relation", "The Sandy Hereld Memorial Digitized Media Fanzine Collection",
                     "ispartof") in batman.metadata


def test_safcreator_fanzines_rows_report_missing_files():
    items, problems, codes = plan(SAFCREATOR / "test-fanzines.csv")
    assert items == [] and codes.count("manifest-missing-file") == 3
