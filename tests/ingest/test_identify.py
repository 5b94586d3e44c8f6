"""identify and validate: kinds by content, clear refusals, page counts and limits."""

from __future__ import annotations

import os
import shutil
import signal

import pytest

from ingest import identify as identify_module
from ingest.errors import (
    CorruptFile,
    DecoderCrashed,
    EmptyFile,
    TooLarge,
    TruncatedFile,
    UnsupportedFormat,
)
from ingest.identify import identify, sniff, validate, validate_each
from ingest.limits import Limits
from tests.ingest.helpers import BAD, PILLOW


def test_a_png_named_pdf_is_still_a_png(tmp_path):
    renamed = tmp_path / "scan.pdf"
    shutil.copy(PILLOW / "hopper.png", renamed)
    found = identify(renamed)
    assert (found.kind, found.mime) == ("png", "image/png")


def test_a_pdf_named_jpg_is_a_pdf(tmp_path):
    renamed = tmp_path / "scan.jpg"
    shutil.copy(BAD / "pdf" / "pypdf" / "crazyones.pdf", renamed)
    assert identify(renamed).kind == "pdf"


@pytest.mark.parametrize(("name", "kind"), [
    ("hopper.tif", "tiff"), ("hopper_bigtiff.tif", "tiff"), ("g4-multi.tiff", "tiff"),
    ("hopper.jpg", "jpeg"), ("hopper.png", "png"), ("test-card-lossless.jp2", "jp2"),
    ("hopper.webp", "webp"),
])
def test_kinds_by_content(name, kind):
    assert identify(PILLOW / name).kind == kind


def test_junk_before_the_pdf_header_is_allowed():
    assert sniff(b"\x00junk\r\n%PDF-1.7\n") == "pdf"


@pytest.mark.parametrize(("head", "error", "words"), [
    (b"GIF89a" + b"\x00" * 20, UnsupportedFormat, "GIF"),
    (b"PK\x03\x04" + b"\x00" * 20, UnsupportedFormat, "ZIP"),
    (b"plain text, not a scan at all", UnsupportedFormat, "not accepted"),
    (b"UPDF-1.4\n%\xe2\xe3", CorruptFile, "PDF whose header is damaged"),
    (b"PNG\r\n\x1a\n\x00\x00\x00\rIHDR", CorruptFile, "PNG whose signature"),
    (b"oops\n", CorruptFile, "only 5 bytes"),
])
def test_refusals_say_why(head, error, words):
    with pytest.raises(error, match=words):
        sniff(head)


def test_an_empty_file_is_refused(tmp_path):
    empty = tmp_path / "empty.tif"
    empty.touch()
    with pytest.raises(EmptyFile) as raised:
        identify(empty)
    assert raised.value.code == "empty" and raised.value.exit_code == 2


def test_a_file_over_the_size_limit_is_refused_before_reading():
    with pytest.raises(TooLarge, match="limit is 0 MB"):
        identify(PILLOW / "tiff_adobe_deflate.tif", Limits(max_file_mb=0))


@pytest.mark.parametrize(("name", "pages"), [
    ("multipage.tiff", 3), ("g4-multi.tiff", 3), ("hopper.tif", 1), ("hopper_bigtiff.tif", 1),
])
def test_tiff_pages_are_counted(name, pages):
    assert validate(identify(PILLOW / name)).pages == pages


def test_validate_reads_geometry_and_metadata():
    info = validate(identify(PILLOW / "g4-multi.tiff"))
    assert (info.width, info.height, info.dpi, info.mode) == (3307, 4677, 400.0, "1")
    assert info.mime == "image/tiff" and info.size > 0


def test_validate_refuses_more_pages_than_allowed():
    with pytest.raises(TooLarge, match="3 pages"):
        validate(identify(PILLOW / "g4-multi.tiff"), Limits(max_pages=2))


def test_validate_counts_pdf_pages():
    info = validate(identify(BAD / "pdf" / "py-pdf-sample-files" / "004-pdflatex-4-pages"
                             / "pdflatex-4-pages.pdf"))
    assert info.pages == 4 and info.kind == "pdf"


def test_files_read_in_groups_keep_their_own_answers(tmp_path, monkeypatch):
    """One child reads a group's headers; a file that kills it is named alone, its group
    mates keep their answers, and a typed refusal stays that file's."""
    names = ["hopper.png", "hopper.jpg", "hopper.tif", "hopper.webp", "g4-multi.tiff"]
    paths = [shutil.copy(PILLOW / name, tmp_path / name) for name in names]
    paths.append(tmp_path / "cut.png")
    paths[-1].write_bytes((PILLOW / "hopper.png").read_bytes()[:20])
    paths.append(shutil.copy(PILLOW / "hopper.png", tmp_path / "kills-its-reader.png"))
    inspect = identify_module._inspect

    def deadly(path, is_pdf, limits):
        if path.name == "kills-its-reader.png":
            os.kill(os.getpid(), signal.SIGSEGV)
        return inspect(path, is_pdf, limits)
    monkeypatch.setattr(identify_module, "_inspect", deadly)
    found = validate_each([identify(path) for path in paths], Limits(seconds=10), jobs=2)
    assert [answer.pages for answer in found[:5]] == [1, 1, 1, 1,
                                                      validate(identify(paths[4])).pages]
    assert isinstance(found[5], TruncatedFile) and isinstance(found[6], DecoderCrashed)
