"""PageContext: frozen, picklable with every stage's result, paths inside the work directory."""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path

import pytest

from ingest.context import Options, PageContext
from ingest.images import NormalizedPage
from ingest.ocr import OcrResult


def test_a_context_with_results_survives_pickling(tmp_path):
    ctx = PageContext(work_dir=tmp_path, source=tmp_path / "book.tif", page_index=4, kind="tiff",
                      options=Options(languages="vie+eng"))
    ctx = ctx.with_(
        normalized=NormalizedPage(path=ctx.path("norm", ".png"), width=10, height=20, mode="L",
                                  dpi=300.0, skew=-1.5, notes=("assumed 300 dpi",)),
        derivatives={"web": ctx.path("web", ".jpg")},
        ocr=OcrResult(text=ctx.path("ocr", ".txt"), hocr=ctx.path("ocr", ".hocr"),
                      pdf=ctx.path("ocr", ".pdf"), confidence=91.5, words=12,
                      engine="tesserocr"))
    assert pickle.loads(pickle.dumps(ctx)) == ctx  # noqa: S301 - our own bytes


def test_stage_outputs_are_named_by_page_number(tmp_path):
    ctx = PageContext(work_dir=tmp_path, source=Path("x.pdf"), page_index=0)
    assert ctx.number == 1
    assert ctx.path("norm", ".png") == tmp_path / "p00001.norm.png"


def test_a_context_is_frozen(tmp_path):
    ctx = PageContext(work_dir=tmp_path, source=Path("x.pdf"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        ctx.page_index = 3
    assert ctx.with_(page_index=3).page_index == 3 and ctx.page_index == 0
