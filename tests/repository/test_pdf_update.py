"""Incremental PDF updates: the page tree moved to the end, and a watermark on every page."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from repository.pdf_update import StampError, page_update, stamp_pdf
from tests.viewer.reader_helpers import text_pdf


@pytest.fixture
def pdf(tmp_path) -> bytes:
    lines = [[f"Trang {number}", "Dia chi tinh"] for number in range(1, 6)]
    return text_pdf(tmp_path / "five.pdf", lines, image_size=(200, 280)).read_bytes()


def test_update_moves_every_page_dictionary_after_the_original(pdf):
    update = page_update(io.BytesIO(pdf))
    whole = pdf + update
    reader = PdfReader(io.BytesIO(whole))
    assert [page.extract_text().split("\n")[0] for page in reader.pages] == [
        f"Trang {number}" for number in range(1, 6)]
    offsets = [int(match.group(1)) for match in re.finditer(rb"(\d{10}) \d{5} n", update)]
    assert len(offsets) == 6 and min(offsets) > len(pdf)    # five pages and the tree's root
    assert len(update) < 2500


def test_stamp_puts_the_text_on_every_page_and_keeps_the_content(pdf):
    out = io.BytesIO()
    stamp_pdf(io.BytesIO(pdf), out, "HT-0042 2026-01-02 (ban sao)")
    reader = PdfReader(io.BytesIO(out.getvalue()))
    assert out.getvalue().startswith(pdf)
    for number, page in enumerate(reader.pages, start=1):
        text = page.extract_text()
        assert f"Trang {number}" in text and "HT-0042 2026-01-02 (ban sao)" in text


def test_a_file_that_is_not_a_pdf_cannot_be_updated():
    with pytest.raises(StampError):
        page_update(io.BytesIO(b"%PDF-1.4\n% not really\n%%EOF\n"))
