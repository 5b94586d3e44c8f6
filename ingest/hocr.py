"""Read Tesseract's hOCR into compact, JSON-able word and line boxes for search highlighting.

Each word and each line becomes ``{"text", "bbox": [x0, y0, x1, y1], "conf"}`` in the page
image's pixels (origin top left). Parsed with the standard library's ``html.parser``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

LINE_CLASSES = frozenset({"ocr_line", "ocr_header", "ocr_caption", "ocr_textfloat"})
_BBOX = re.compile(r"\bbbox\s+(-?\d+)\s+(-?\d+)\s+(-?\d+)\s+(-?\d+)")
_WCONF = re.compile(r"\bx_wconf\s+(-?\d+(?:\.\d+)?)")
_VOID = frozenset({"meta", "br", "img", "link", "hr", "input"})


@dataclass
class HocrPage:
    """The words and lines of one page, and the page's size in pixels."""

    width: int = 0
    height: int = 0
    words: list[dict[str, Any]] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)

    @property
    def confidence(self) -> float:
        """Mean word confidence (0–100), as Tesseract's MeanTextConf computes it."""
        if not self.words:
            return 0.0
        return round(sum(word["conf"] for word in self.words) / len(self.words), 2)

    @property
    def text(self) -> str:
        return "\n".join(line["text"] for line in self.lines)

    def to_json(self) -> dict[str, Any]:
        return {"size": [self.width, self.height], "words": self.words, "lines": self.lines}


def parse_hocr(source: str | bytes | Path) -> HocrPage:
    """Parse the first page of an hOCR document (text, bytes or a path to it)."""
    if isinstance(source, Path):
        source = source.read_bytes()
    if isinstance(source, bytes):
        source = source.decode("utf-8", "replace")
    parser = _HocrParser()
    parser.feed(source)
    parser.close()
    return parser.page


def _bbox(title: str) -> list[int] | None:
    found = _BBOX.search(title)
    return [int(value) for value in found.groups()] if found else None


class _HocrParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = HocrPage()
        self._stack: list[str] = []
        self._line: list[dict[str, Any]] | None = None
        self._line_box: list[int] | None = None
        self._word: dict[str, Any] | None = None
        self._word_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            return
        values = dict(attrs)
        kind = next((name for name in (values.get("class") or "").split()
                     if name.startswith("ocr")), "")
        self._stack.append(kind)
        title = values.get("title") or ""
        if kind == "ocr_page" and not self.page.width:
            self._start_page(title)
        elif kind in LINE_CLASSES:
            self._line, self._line_box = [], _bbox(title)
        elif kind == "ocrx_word":
            self._start_word(title)

    def _start_page(self, title: str) -> None:
        box = _bbox(title)
        if box:
            self.page.width, self.page.height = box[2] - box[0], box[3] - box[1]

    def _start_word(self, title: str) -> None:
        conf = _WCONF.search(title)
        self._word = {"text": "", "bbox": _bbox(title) or [0, 0, 0, 0],
                      "conf": float(conf.group(1)) if conf else 0.0}
        self._word_depth = len(self._stack)

    def handle_data(self, data: str) -> None:
        if self._word is not None:
            self._word["text"] += data

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID or not self._stack:
            return
        depth = len(self._stack)
        kind = self._stack.pop()
        if self._word is not None and depth == self._word_depth:
            self._end_word()
        elif kind in LINE_CLASSES:
            self._end_line()

    def _end_word(self) -> None:
        word, self._word = self._word, None
        assert word is not None
        word["text"] = word["text"].strip()
        if word["text"]:
            self.page.words.append(word)
            if self._line is not None:
                self._line.append(word)

    def _end_line(self) -> None:
        words, self._line = self._line or [], None
        if not words:
            return
        box = self._line_box or _union(word["bbox"] for word in words)
        conf = round(sum(word["conf"] for word in words) / len(words), 2)
        text = " ".join(word["text"] for word in words)
        self.page.lines.append({"text": text, "bbox": box, "conf": conf})


def _union(boxes: Any) -> list[int]:
    x0s, y0s, x1s, y1s = zip(*boxes, strict=True)
    return [min(x0s), min(y0s), max(x1s), max(y1s)]
