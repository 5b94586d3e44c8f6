"""OCR with both engines: Vietnamese read back, hOCR boxes on the page, a text layer PDF."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader

from ingest.context import Options, PageContext
from ingest.errors import MissingDependency
from ingest.hocr import parse_hocr
from ingest.images import normalize
from ingest.ocr import CliEngine, TesserocrEngine, ocr_page, worker_engine
from tests.ingest.helpers import DATA, VIETNAMESE, cer

ENGINES = [TesserocrEngine, CliEngine]


@pytest.fixture(scope="module", params=ENGINES, ids=lambda engine: engine.name)
def engine(request):
    try:
        built = request.param()
    except MissingDependency as error:
        pytest.skip(str(error))
    yield built
    built.close()


@pytest.fixture(scope="module")
def recognized(engine, vietnamese_png, tmp_path_factory):
    """The rendered Vietnamese page, normalized and OCRed once per engine."""
    ctx = PageContext(work_dir=tmp_path_factory.mktemp("ocr"), source=vietnamese_png,
                      options=Options())
    ctx = ctx.with_(normalized=normalize(ctx))
    return ctx.with_(ocr=ocr_page(ctx, engine))


def test_viet_tif_reads_tieng(engine, tmp_path):
    image = DATA / "vi-ocr" / "tesseract_test" / "viet.tif"
    result = engine.recognize(image, tmp_path / "viet", languages="vie", dpi=300, timeout=60)
    assert "tiếng" in result.text.read_text(encoding="utf-8")
    assert result.engine == engine.name and result.words >= 1


def test_a_rendered_vietnamese_page_reads_with_cer_below_2_percent(recognized):
    text = recognized.ocr.text.read_text(encoding="utf-8")
    assert cer(VIETNAMESE, text) < 0.02
    assert recognized.ocr.confidence > 80


def test_hocr_boxes_lie_within_the_page(recognized):
    page = parse_hocr(recognized.ocr.hocr)
    assert (page.width, page.height) == (recognized.normalized.width,
                                         recognized.normalized.height)
    assert len(page.words) >= 40 and len(page.lines) == 4
    for item in page.words + page.lines:
        x0, y0, x1, y1 = item["bbox"]
        assert 0 <= x0 < x1 <= page.width and 0 <= y0 < y1 <= page.height
        assert 0 <= item["conf"] <= 100
    assert any(word["text"] == "Nội" for word in page.words)


def test_the_text_layer_pdf_holds_the_text_and_no_image(recognized):
    reader = PdfReader(recognized.ocr.pdf)
    assert len(reader.pages) == 1
    assert "Thư viện" in reader.pages[0].extract_text()
    assert not list(reader.pages[0].images)


def test_the_worker_keeps_one_engine():
    assert worker_engine() is worker_engine()


def test_both_engines_agree(tmp_path, vietnamese_png):
    image = Path(vietnamese_png)
    texts = []
    for engine_class in ENGINES:
        try:
            engine = engine_class()
        except MissingDependency:
            pytest.skip("tesserocr is not installed")
        result = engine.recognize(image, tmp_path / engine.name, languages="vie", dpi=300,
                                  timeout=60)
        texts.append(result.text.read_text(encoding="utf-8"))
    assert cer(texts[0], texts[1]) < 0.01
