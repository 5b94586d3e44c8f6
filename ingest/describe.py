"""Suggest Dublin Core for an item from what its file carries and what OCR read on its pages.

Suggestions are only that: each names its source (``pdf:info``, ``xmp``, ``exif`` for TIFF and
EXIF tags, ``ocr`` or ``pdf:text``, ``file``) so that cataloguers see where a value came from and
choose. Nothing here is stored.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ingest.identify import SourceInfo

YEAR = re.compile(r"(?<!\d)(18\d{2}|19\d{2}|20\d{2})(?!\d)")
ISBN = re.compile(r"\bISBN(?:-1[03])?:?\s*((?:97[89][-\s]?)?\d[\d\s-]{8,15}[\dXx])\b")
PDF_DATE = re.compile(r"^(?:D:)?(\d{4})(\d{2})?(\d{2})?")
EXIF_DATE = re.compile(r"^(\d{4})[:-](\d{2})[:-](\d{2})")
# Letters only Vietnamese uses among Latin scripts (after removing tone marks: ă â đ ê ô ơ ư).
VIETNAMESE_BASES = frozenset("ăâđêôơư")
TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")
VIETNAMESE_RATIO = 0.05


@dataclass(frozen=True)
class Suggestion:
    """One suggested Dublin Core value: ``element`` (with a dcterms refinement, if any)."""

    element: str
    value: str
    source: str

    def as_dict(self) -> dict[str, str]:
        return {"element": self.element, "value": self.value, "source": self.source}


def describe(source: SourceInfo, page_texts: Sequence[str] = (), text_source: str = "ocr"
             ) -> list[Suggestion]:
    """Suggested title, creator, subject, language, dates, extent, format, identifier.

    ``page_texts`` are the pages' texts in order; ``text_source`` says where they came from
    (``ocr``, or ``pdf:text`` for a born-digital PDF's own text).
    """
    text = "\n".join(page_texts)
    found = [
        *title_suggestions(source.metadata, page_texts),
        *creator_suggestions(source.metadata),
        *subject_suggestions(source.metadata),
        *language_suggestions(source.metadata, text),
        *date_suggestions(source.metadata, text),
        *extent_suggestions(source),
        *identifier_suggestions(source.path, source.metadata, text),
    ]
    return [Suggestion(item.element, item.value, text_source) if item.source == "ocr" else item
            for item in found]


def title_suggestions(metadata: dict[str, str], page_texts: Sequence[str]) -> list[Suggestion]:
    found = [Suggestion("title", metadata[key], origin)
             for key, origin in (("xmp_title", "xmp"), ("title", "pdf:info"),
                                 ("document_name", "exif"), ("description", "exif"))
             if metadata.get(key)]
    first = first_lines(page_texts[0]) if page_texts else ""
    if first:
        found.append(Suggestion("title", first, "ocr"))
    return _unique(found)


def first_lines(text: str, limit: int = 2) -> str:
    """The first lines with real words on the first page: the usual place of a title."""
    lines = [" ".join(line.split()) for line in text.splitlines()]
    wordy = [line for line in lines if sum(char.isalpha() for char in line) >= 3]
    return " ".join(wordy[:limit])[:200]


def creator_suggestions(metadata: dict[str, str]) -> list[Suggestion]:
    return _unique([Suggestion("creator", metadata[key], origin)
                    for key, origin in (("xmp_creator", "xmp"), ("creator", "pdf:info"),
                                        ("artist", "exif"))
                    if metadata.get(key)])


def subject_suggestions(metadata: dict[str, str]) -> list[Suggestion]:
    found = [Suggestion("description", metadata["subject"], "pdf:info")] \
        if metadata.get("subject") else []
    for keyword in re.split(r"[;,]", metadata.get("keywords", "")):
        if keyword.strip():
            found.append(Suggestion("subject", keyword.strip(), "pdf:info"))
    return _unique(found)


def language_suggestions(metadata: dict[str, str], text: str) -> list[Suggestion]:
    found = []
    if metadata.get("xmp_language"):
        found.append(Suggestion("language", metadata["xmp_language"], "xmp"))
    guessed = detect_language(text)
    if guessed:
        found.append(Suggestion("language", guessed, "ocr"))
    return _unique(found)


def detect_language(text: str) -> str | None:
    """``vi`` if enough letters carry Vietnamese marks, ``en`` for plain Latin, else None."""
    letters = [char for char in unicodedata.normalize("NFD", text.lower()) if char.isalpha()]
    if len(letters) < 20:
        return None
    marked = sum(char in TONE_MARKS for char in unicodedata.normalize("NFD", text))
    marked += sum(char in VIETNAMESE_BASES for char in unicodedata.normalize("NFC", text.lower()))
    if marked / len(letters) >= VIETNAMESE_RATIO:
        return "vi"
    latin = sum("a" <= char <= "z" for char in letters)
    return "en" if latin / len(letters) > 0.9 else None


def date_suggestions(metadata: dict[str, str], text: str) -> list[Suggestion]:
    found = []
    for key, origin in (("xmp_date", "xmp"), ("xmp_created", "xmp"), ("created", "pdf:info"),
                        ("datetime_original", "exif"), ("datetime", "exif")):
        value = _iso_date(metadata.get(key, ""))
        if value:
            element = "date" if key == "xmp_date" else "date.created"
            found.append(Suggestion(element, value, origin))
    for year, _count in Counter(YEAR.findall(text)).most_common(3):
        found.append(Suggestion("date", year, "ocr"))
    return _unique(found)


def _iso_date(value: str) -> str:
    for pattern in (EXIF_DATE, PDF_DATE):
        match = pattern.match(value.strip())
        if match and 1000 <= int(match.group(1)) <= 2999:
            return "-".join(part for part in match.groups() if part)
    return ""


def extent_suggestions(source: SourceInfo) -> list[Suggestion]:
    found = [Suggestion("format.extent", f"{source.pages} trang", "file"),
             Suggestion("format", source.mime, "file")]
    if source.kind != "pdf" and source.dpi:
        found.append(Suggestion("description", f"Ảnh quét {round(source.dpi)} dpi", "file"))
    return found


def identifier_suggestions(path: Path, metadata: dict[str, str], text: str
                           ) -> list[Suggestion]:
    found = []
    if metadata.get("xmp_identifier"):
        found.append(Suggestion("identifier", metadata["xmp_identifier"], "xmp"))
    for isbn in ISBN.findall(text)[:2]:
        found.append(Suggestion("identifier", "ISBN " + re.sub(r"[\s-]", "", isbn), "ocr"))
    found.append(Suggestion("identifier", path.stem, "file"))
    return _unique(found)


def _unique(suggestions: list[Suggestion]) -> list[Suggestion]:
    seen: set[tuple[str, str]] = set()
    kept = []
    for suggestion in suggestions:
        key = (suggestion.element, suggestion.value.casefold())
        if key not in seen:
            seen.add(key)
            kept.append(suggestion)
    return kept
