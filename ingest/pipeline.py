"""The orchestrator: one page through the stages, then one item from its pages. No database here.

``process_page`` reads like the table of contents of ingest: text a PDF page carries → render it
→ normalize, derivatives and clean-up (``images.prepare``: one guarded child, one decode) → OCR
(only pages without usable text of their own) → the page's PDF.
``finish_item`` joins the pages' PDFs into the item's searchable PDF and suggests
Dublin Core. Both take and return plain, picklable values, so any process may run them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest import describe, identify, images, ocr, pdf
from ingest.context import PageContext
from ingest.identify import SourceInfo
from ingest.limits import Limits
from ingest.ocr import OcrEngine


@dataclass(frozen=True)
class PageOutcome:
    """What one page became: files in the work directory, its text and where the text came from.

    ``text_source`` is ``ocr`` (Tesseract read it), ``pdf:text`` (a born-digital page's own
    text) or ``none`` (OCR was switched off for the batch).
    """

    master: Path
    web: Path
    thumbnail: Path
    page_pdf: Path
    width: int
    height: int
    text: str
    text_source: str
    confidence: float | None = None
    hocr: Path | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ItemWork:
    """An item whose pages are done: their PDFs and texts in order, and what validating its
    first file found (``identify.SourceInfo``, named as the person uploading knows the file)."""

    work_dir: Path
    title: str
    source: SourceInfo
    page_pdfs: list[Path]
    page_texts: list[str]
    text_source: str
    limits: Limits = field(default_factory=Limits)


@dataclass(frozen=True)
class ItemOutcome:
    document: Path
    suggestions: list[dict[str, str]]


def process_page(ctx: PageContext, engine: OcrEngine | None) -> PageOutcome:
    """Run every stage for one page; ``engine`` None means the batch asked for no OCR."""
    if ctx.kind == "pdf":
        ctx = ctx.with_(text=pdf.page_text(ctx))
        ctx = ctx.with_(image=pdf.render_page(ctx))
    reads = engine is not None and wants_ocr(ctx)
    prepared = images.prepare(ctx, for_ocr=reads)  # normalize, derivatives, clean for OCR
    ctx = ctx.with_(normalized=prepared.normalized, derivatives=prepared.derivatives,
                    ocr_image=prepared.ocr_image, page_image=prepared.page_image)
    if reads:
        ctx = ctx.with_(ocr=ocr.ocr_page(ctx, engine))
    ctx = ctx.with_(page_pdf=pdf.page_pdf(ctx))
    return page_outcome(ctx)


def wants_ocr(ctx: PageContext) -> bool:
    """Scanned pages do; a born-digital PDF page keeps its own text unless it is too thin."""
    return ctx.kind != "pdf" or pdf.needs_ocr(ctx.text or "")


def page_outcome(ctx: PageContext) -> PageOutcome:
    normalized = ctx.normalized
    assert normalized is not None and ctx.page_pdf is not None
    if ctx.ocr is not None:
        text = ctx.ocr.text.read_text(encoding="utf-8").strip()
        source, confidence, hocr = "ocr", ctx.ocr.confidence, ctx.ocr.hocr
    elif ctx.kind == "pdf":
        text, source, confidence, hocr = (ctx.text or "").strip(), "pdf:text", None, None
    else:
        text, source, confidence, hocr = "", "none", None, None
    return PageOutcome(master=normalized.path, web=ctx.derivatives["web"],
                       thumbnail=ctx.derivatives["thumb"], page_pdf=ctx.page_pdf,
                       width=normalized.width, height=normalized.height, text=text,
                       text_source=source, confidence=confidence, hocr=hocr,
                       notes=normalized.notes)


def finish_item(work: ItemWork) -> ItemOutcome:
    """Assemble the item's searchable PDF and suggest its Dublin Core from file and text."""
    document = pdf.assemble(work.page_pdfs, work.work_dir / "document.pdf",
                            {"title": work.title}, limits=work.limits)
    found = describe.describe(work.source, work.page_texts, text_source=work.text_source)
    return ItemOutcome(document, [suggestion.as_dict() for suggestion in found])


def source_info(path: Path, limits: Limits, name: str = "") -> SourceInfo:
    """Validate ``path`` again (when planning's answer was not kept), named ``name``."""
    info = identify.validate(identify.identify(path, limits), limits)
    return dataclasses.replace(info, path=Path(name or path.name))


def info_to_json(info: SourceInfo) -> dict[str, Any]:
    return {**dataclasses.asdict(info), "path": str(info.path)}


def info_from_json(data: dict[str, Any]) -> SourceInfo:
    return SourceInfo(**{**data, "path": Path(data["path"])})
