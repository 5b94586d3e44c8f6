"""The picklable page context that every stage takes: where the page is, how to treat it, results.

A context is frozen; the orchestrator records a stage's result with ``ctx.with_(field=value)``
and passes the new context on, so a page can be sent to any worker process at any point.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.limits import Limits

if TYPE_CHECKING:
    from ingest.images import NormalizedPage
    from ingest.ocr import OcrResult

DEBIAN_TESSDATA = "/usr/share/tesseract-ocr/5/tessdata"


@dataclass(frozen=True)
class Options:
    """How a collection wants its items treated; flows in from configuration, never from env."""

    languages: str = "vie"
    dpi: int = 300
    web_size: int = 1600
    thumb_size: int = 300
    jpeg_quality: int = 80
    pdf_jpeg_quality: int = 75
    deskew: bool = True
    password: str | None = None
    ocr_timeout: float = 180.0
    tessdata: str = DEBIAN_TESSDATA
    limits: Limits = field(default_factory=Limits)


@dataclass(frozen=True)
class PageContext:
    """One page of one source file, and what the stages have made of it so far."""

    work_dir: Path
    source: Path
    page_index: int = 0
    kind: str = ""
    options: Options = field(default_factory=Options)
    image: Path | None = None
    normalized: NormalizedPage | None = None
    ocr_image: Path | None = None
    page_image: Path | None = None
    derivatives: dict[str, Path] = field(default_factory=dict)
    text: str | None = None
    ocr: OcrResult | None = None
    page_pdf: Path | None = None

    @property
    def number(self) -> int:
        """The page number people see (1-based)."""
        return self.page_index + 1

    def path(self, stage: str, suffix: str) -> Path:
        """Where a stage writes its output for this page inside the work directory."""
        return self.work_dir / f"p{self.number:05d}.{stage}{suffix}"

    def with_(self, **changes: object) -> PageContext:
        return dataclasses.replace(self, **changes)
