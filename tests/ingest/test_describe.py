"""describe: Dublin Core suggestions from embedded metadata and page text, each with a source."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.describe import describe, detect_language, first_lines
from ingest.identify import SourceInfo, identify, validate
from tests.ingest.helpers import BAD, PILLOW, VIETNAMESE

SAMPLES = BAD / "pdf" / "py-pdf-sample-files"


def _values(suggestions, element):
    return [(item.value, item.source) for item in suggestions if item.element == element]


@pytest.mark.parametrize(("text", "language"), [
    (VIETNAMESE, "vi"),
    ("Here's to the crazy ones, the misfits, the rebels, the troublemakers.", "en"),
    ("HÀ NỘI NGÀY MỒNG MỘT THÁNG CHÍN NĂM MỘT NGHÌN CHÍN TRĂM", "vi"),
    ("12 34 56", None),
])
def test_language_by_share_of_vietnamese_marks(text, language):
    assert detect_language(text) == language


def test_the_first_wordy_lines_suggest_a_title():
    assert first_lines("\n  12  \nTRUYỆN KIỀU\n  Nguyễn Du \nthân bài") == "TRUYỆN KIỀU Nguyễn Du"


def test_ocr_text_gives_title_language_years_and_isbn():
    source = SourceInfo(pages=12, path=Path("HN-0042.tif"), kind="tiff", mime="image/tiff",
                        dpi=400.0)
    text = "LỊCH SỬ HÀ NỘI\nNăm 1945 và 1954, rồi 1945 lại.\nISBN 978-604-1-00000-7\n1799 2100"
    found = describe(source, [text, "trang hai"])
    assert _values(found, "title") == [("LỊCH SỬ HÀ NỘI Năm 1945 và 1954, rồi 1945 lại.", "ocr")]
    assert _values(found, "language") == [("vi", "ocr")]
    assert _values(found, "date") == [("1945", "ocr"), ("1954", "ocr")]
    assert _values(found, "format.extent") == [("12 trang", "file")]
    assert _values(found, "format") == [("image/tiff", "file")]
    assert _values(found, "description") == [("Ảnh quét 400 dpi", "file")]
    assert _values(found, "identifier") == [("ISBN 9786041000007", "ocr"), ("HN-0042", "file")]


def test_pdf_info_gives_title_creator_dates_keywords():
    found = describe(validate(identify(BAD / "pdf" / "pypdf" / "metadata.pdf")), ["Whatever"],
                     text_source="pdf:text")
    assert _values(found, "title") == [("The Title", "pdf:info"), ("Whatever", "pdf:text")]
    assert _values(found, "creator") == [("Martin Thoma", "pdf:info")]
    assert ("2022-04-15", "pdf:info") in _values(found, "date.created")
    assert ("Some Keywords", "pdf:info") in _values(found, "subject")


def test_xmp_gives_dublin_core():
    found = describe(validate(identify(SAMPLES / "020-xmp" / "output_with_metadata_pymupdf.pdf")))
    assert _values(found, "title")[0] == ("Sample PDF with XMP Metadata", "xmp")
    assert _values(found, "creator") == [("John Doe", "xmp")]
    assert _values(found, "date") == [("1990-04-28", "xmp")]


def test_exif_gives_the_date_taken():
    found = describe(validate(identify(PILLOW / "exif-72dpi-int.jpg")))
    assert _values(found, "date.created") == [("2012-08-18", "exif")]
    assert _values(found, "identifier") == [("exif-72dpi-int", "file")]
