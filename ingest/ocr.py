"""Text recognition with Tesseract: one call per page gives text, hOCR and a text-only PDF layer.

Two engines share one interface. ``TesserocrEngine`` keeps Tesseract loaded in the worker
(tesserocr, in process: 38% less time per page in bench/ocr_bench.py); ``CliEngine`` runs the
``tesseract`` program through pytesseract, a process per page, and is the fallback when tesserocr
is not installed. Both write ``pNNNNN.ocr.txt``, ``.hocr`` and ``.pdf`` and read the confidence
back from the hOCR, so their results compare. Tesseract runs single-threaded (OMP_THREAD_LIMIT=1):
pages are parallel across worker processes instead.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ingest.context import DEBIAN_TESSDATA, PageContext
from ingest.errors import MissingDependency, OcrFailed, TimedOut
from ingest.hocr import parse_hocr

OUTPUTS = ("txt", "hocr", "pdf")
# Variables both engines set: hOCR, plain text and a PDF that holds only the invisible text.
RENDERERS = {"tessedit_create_hocr": "1", "tessedit_create_txt": "1",
             "tessedit_create_pdf": "1", "textonly_pdf": "1"}


@dataclass(frozen=True)
class OcrResult:
    """Where one page's OCR went, and how sure Tesseract was (mean word confidence 0–100)."""

    text: Path
    hocr: Path
    pdf: Path
    confidence: float
    words: int
    engine: str


class OcrEngine(Protocol):
    name: str

    def recognize(self, image: Path, out_base: Path, *, languages: str, dpi: int,
                  timeout: float) -> OcrResult: ...

    def warm_up(self, languages: str) -> None: ...


def ocr_page(ctx: PageContext, engine: OcrEngine) -> OcrResult:
    """Recognize the page in the collection's languages (default ``vie``).

    Reads ``ctx.ocr_image`` (from ``images.clean_for_ocr``) if there is one, else the normalized
    page; both have the normalized page's geometry, so boxes and the text layer fit it.
    """
    if ctx.normalized is None:
        raise ValueError("ocr_page needs a normalized page")
    return engine.recognize(ctx.ocr_image or ctx.normalized.path, ctx.path("ocr", ""),
                            languages=ctx.options.languages, dpi=round(ctx.normalized.dpi),
                            timeout=ctx.options.ocr_timeout)


def _single_threaded() -> None:
    # Must be in the environment before Tesseract (and its OpenMP runtime) is loaded or run.
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")


def _result(out_base: Path, engine: str) -> OcrResult:
    paths = {ext: out_base.with_name(f"{out_base.name}.{ext}") for ext in OUTPUTS}
    missing = [str(path) for path in paths.values() if not path.exists()]
    if missing:
        raise OcrFailed(f"Tesseract wrote no {', '.join(missing)}.")
    page = parse_hocr(paths["hocr"])
    return OcrResult(text=paths["txt"], hocr=paths["hocr"], pdf=paths["pdf"],
                     confidence=page.confidence, words=len(page.words), engine=engine)


class TesserocrEngine:
    """Tesseract in process: the model is loaded once per language set and kept by the worker.

    Not thread-safe: one engine per worker process.
    """

    name = "tesserocr"

    def __init__(self, tessdata: str = DEBIAN_TESSDATA) -> None:
        _single_threaded()
        try:
            import tesserocr
        except ImportError as error:
            raise MissingDependency("tesserocr is not installed (pip install tesserocr).") \
                from error
        self._tesserocr = tesserocr
        self._tessdata = tessdata
        self._apis: dict[str, object] = {}

    def _api(self, languages: str):
        api = self._apis.get(languages)
        if api is None:
            try:
                api = self._tesserocr.PyTessBaseAPI(path=self._tessdata, lang=languages)
            except RuntimeError as error:
                raise MissingDependency(f"Tesseract cannot load '{languages}' from "
                                        f"{self._tessdata}: {error}") from error
            for name, value in RENDERERS.items():
                api.SetVariable(name, value)
            self._apis[languages] = api
        return api

    def warm_up(self, languages: str) -> None:
        """Load the model for ``languages`` now rather than on the first page."""
        self._api(languages)

    def recognize(self, image: Path, out_base: Path, *, languages: str, dpi: int,
                  timeout: float) -> OcrResult:
        api = self._api(languages)
        api.SetVariable("user_defined_dpi", str(dpi))
        if not api.ProcessPages(str(out_base), str(image), None, int(timeout * 1000)):
            raise OcrFailed(f"Tesseract could not recognize {image.name} (or took over "
                            f"{timeout:g} s).")
        return _result(out_base, self.name)

    def close(self) -> None:
        for api in self._apis.values():
            api.End()
        self._apis.clear()


class CliEngine:
    """The ``tesseract`` program, one process per page, through pytesseract (with a timeout)."""

    name = "pytesseract"

    def __init__(self, tessdata: str = DEBIAN_TESSDATA) -> None:
        _single_threaded()
        self._tessdata = tessdata

    def recognize(self, image: Path, out_base: Path, *, languages: str, dpi: int,
                  timeout: float) -> OcrResult:
        from pytesseract import pytesseract

        config = f"--tessdata-dir {self._tessdata} --dpi {dpi} " + " ".join(
            f"-c {name}={value}" for name, value in RENDERERS.items())
        try:
            pytesseract.run_tesseract(str(image), str(out_base), extension="txt hocr pdf",
                                      lang=languages, config=config, timeout=timeout)
        except pytesseract.TesseractNotFoundError as error:
            raise MissingDependency("tesseract is not installed (Debian package "
                                    "tesseract-ocr, with tesseract-ocr-vie).") from error
        except pytesseract.TesseractError as error:
            raise OcrFailed(f"Tesseract failed on {image.name}: {error.message}") from error
        except RuntimeError as error:  # pytesseract's timeout
            raise TimedOut(f"Tesseract took more than {timeout:g} s on {image.name}.") from error
        return _result(out_base, self.name)

    def warm_up(self, languages: str) -> None:
        """Nothing to load: each page starts its own ``tesseract``."""

    def close(self) -> None:
        """Nothing is kept between pages."""


@functools.cache
def worker_engine(tessdata: str = DEBIAN_TESSDATA, prefer: str = "tesserocr") -> OcrEngine:
    """The engine this worker process keeps: tesserocr when importable, else the CLI."""
    if prefer == "tesserocr":
        try:
            return TesserocrEngine(tessdata)
        except MissingDependency:
            pass
    return CliEngine(tessdata)
