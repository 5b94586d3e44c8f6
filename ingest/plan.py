"""What unpacking a batch produces (items to ingest, problems to show) and shared helpers.

Everything here is plain and picklable: a plan crosses into worker processes and is stored so that
an interrupted batch resumes without unpacking again.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.errors import IngestError
from ingest.identify import HEAD_BYTES, sniff
from repository.dublin_core import Statement, validate
from repository.errors import N_, InvalidInput
from repository.models import DC_ELEMENTS

GB = 1024**3
MB = 1024**2

# Files that operating systems and archivers leave behind; skipped without a word.
JUNK_NAMES = frozenset({"thumbs.db", "desktop.ini", "__macosx", ".ds_store"})

# Page images and PDFs by name; files with other names are still taken if their bytes say so.
PAGE_SUFFIXES = frozenset({".tif", ".tiff", ".jpg", ".jpeg", ".jpe", ".png", ".jp2", ".j2k",
                           ".jpf", ".jpx", ".webp", ".pdf"})

# DCMI terms that refine one of the fifteen elements, as DSpace stores them (dc.element.qualifier).
DCTERMS_REFINEMENTS: dict[str, tuple[str, str | None]] = {
    "abstract": ("description", "abstract"),
    "tableofcontents": ("description", "tableofcontents"),
    "alternative": ("title", "alternative"),
    "created": ("date", "created"),
    "issued": ("date", "issued"),
    "available": ("date", "available"),
    "modified": ("date", "modified"),
    "datesubmitted": ("date", "submitted"),
    "dateaccepted": ("date", "accepted"),
    "datecopyrighted": ("date", "copyright"),
    "extent": ("format", "extent"),
    "medium": ("format", "medium"),
    "ispartof": ("relation", "ispartof"),
    "haspart": ("relation", "haspart"),
    "isversionof": ("relation", "isversionof"),
    "hasversion": ("relation", "hasversion"),
    "isformatof": ("relation", "isformatof"),
    "hasformat": ("relation", "hasformat"),
    "references": ("relation", "references"),
    "isreferencedby": ("relation", "isreferencedby"),
    "replaces": ("relation", "replaces"),
    "isreplacedby": ("relation", "isreplacedby"),
    "requires": ("relation", "requires"),
    "isrequiredby": ("relation", "isrequiredby"),
    "spatial": ("coverage", "spatial"),
    "temporal": ("coverage", "temporal"),
    "bibliographiccitation": ("identifier", "citation"),
    "license": ("rights", "license"),
    "accessrights": ("rights", "accessrights"),
}
_LANGUAGE_SUFFIX = re.compile(r"^(?P<name>.*?)\s*\[(?P<language>[^\]]*)\]\s*$")
_DIGITS = re.compile(r"(\d+)")


@dataclass(frozen=True)
class UnpackLimits:
    """What one batch may cost to unpack. ZIP limits stop ZIP bombs before a byte is written.

    ``max_ratio`` applies to entries larger than ``ratio_floor`` only: small files of blank
    space compress far better than 200:1 and are harmless. ``legacy_name_encoding`` reads the
    names of ZIP entries that are neither flagged nor valid UTF-8; the ZIP standard says cp437,
    but ZIP files made by Windows Explorer on Vietnamese Windows use cp1258.
    """

    max_total_bytes: int = 20 * GB
    max_entries: int = 100_000
    max_ratio: int = 200
    ratio_floor: int = 1 * MB
    max_manifest_bytes: int = 64 * MB
    max_xml_bytes: int = 16 * MB
    legacy_name_encoding: str = "cp437"


@dataclass(frozen=True)
class SourceProblem:
    """Why one file, row or package of a batch was skipped or needs a look; never fatal to others.

    ``template`` is an English msgid with ``%(name)s`` placeholders that the web layer
    translates; ``source`` names the file (relative to the batch) and ``row`` the manifest row.
    """

    code: str
    template: str
    params: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    row: int | None = None

    @property
    def message(self) -> str:
        return self.template % self.params

    def __str__(self) -> str:
        return self.message

    @classmethod
    def invalid(cls, code: str, error: InvalidInput, source: str, row: int | None = None,
                **params: Any) -> SourceProblem:
        """Carry a Dublin Core validation error (already a msgid) as a problem of ``source``."""
        return cls(code, error.template, {**params, **error.params}, source, row)


@dataclass
class ItemPlan:
    """One item to ingest: where it came from, its Dublin Core (maybe none yet), its files in order.

    ``source`` names the folder, file, package or manifest (with ``row``) relative to the batch.
    """

    source: str
    original_name: str
    files: list[Path]
    metadata: list[Statement] = field(default_factory=list)
    row: int | None = None


@dataclass
class BatchPlan:
    """What a batch holds: the items that can go on, and the problems found on the way."""

    source: str
    kind: str
    items: list[ItemPlan] = field(default_factory=list)
    problems: list[SourceProblem] = field(default_factory=list)

    def codes(self) -> list[str]:
        return [problem.code for problem in self.problems]


@dataclass(frozen=True)
class Origin:
    """Where a batch lies on disk and what to call its files in messages (the upload's name)."""

    root: Path
    label: str

    def name(self, path: Path) -> str:
        """``path`` as the person uploading knows it: ``scans.zip/Tập 1/trang 2.tif``."""
        if not path.is_relative_to(self.root):
            return nfc(path.name)
        relative = path.relative_to(self.root).as_posix()
        if relative == ".":
            return nfc(self.label)
        return nfc(f"{self.label}/{relative}" if self.label else relative)


def nfc(text: str) -> str:
    """Vietnamese typed on a Mac arrives decomposed (NFD); compare and show it composed."""
    return unicodedata.normalize("NFC", text)


def natural_key(path: Path | str) -> tuple:
    """Sort key that puts ``trang2`` before ``trang10`` and ignores case and Unicode form."""
    text = nfc(path.as_posix() if isinstance(path, Path) else path).casefold()
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part)
                 for part in _DIGITS.split(text))


def is_junk(name: str) -> bool:
    return name.startswith(".") or name.casefold() in JUNK_NAMES


def dc_column(name: str) -> Statement | None:
    """The Dublin Core field a column or field name stands for (value empty), or None.

    Accepts ``dc.title``, ``dc:title``, ``title``, ``dc.date.issued``, ``dcterms.issued`` and a
    language suffix such as ``dc.title[vi]``; other schemas (``local.``, ``thesis.``) give None.
    """
    language = None
    match = _LANGUAGE_SUFFIX.match(name)
    if match:
        name, language = match["name"], match["language"].replace("_", "-") or None
    key = name.strip().lower().replace(":", ".")
    schema, _, rest = key.partition(".")
    if schema == "dcterms":
        return _dcterms(rest, language)
    statement = Statement.parse_field(key, "", language)
    return statement if statement.element in DC_ELEMENTS else None


def _dcterms(term: str, language: str | None) -> Statement | None:
    element, _, qualifier = term.partition(".")
    if element in DC_ELEMENTS:
        return Statement(element, "", qualifier or None, language)
    if element in DCTERMS_REFINEMENTS and not qualifier:
        element, qualifier = DCTERMS_REFINEMENTS[element]
        return Statement(element, "", qualifier, language)
    return None


def checked(template: Statement, value: str) -> Statement:
    """The statement ``template`` with ``value``, validated; raises InvalidInput."""
    return validate(Statement(template.element, nfc(value), template.qualifier, template.language))


def unique(statements: list[Statement]) -> list[Statement]:
    """Drop exact repeats (SAF often states the title in dc and dcterms), keeping the order."""
    return list(dict.fromkeys(statements))


def not_a_page(name: str) -> SourceProblem:
    return SourceProblem("not-a-page", N_(
        "%(name)s is not a page image or a PDF and was skipped."), {"name": name}, name)


def problem_no_pages(name: str) -> SourceProblem:
    return SourceProblem("no-pages", N_("No page images or PDFs were found in %(name)s."),
                         {"name": name}, name)


def is_page_file(path: Path) -> bool:
    """Whether ``path`` is a page image or a PDF: by its suffix, else by its first bytes."""
    if path.suffix.lower() in PAGE_SUFFIXES:
        return True
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    try:
        sniff(head)
    except IngestError:
        return False
    return True


def page_files(directory: Path) -> tuple[list[Path], list[Path]]:
    """The page files directly in ``directory`` in natural order, and the other files in it."""
    pages: list[Path] = []
    others: list[Path] = []
    for entry in sorted(directory.iterdir(), key=natural_key):
        if not is_junk(entry.name) and entry.is_file():
            (pages if is_page_file(entry) else others).append(entry)
    return pages, others


def find_path(base: Path, relative: str) -> Path | None:
    """``base/relative`` if it exists, matching each name regardless of case and Unicode form.

    Staff type names on Windows (case-blind) or a Mac (decomposed accents) for files that now
    sit on Linux; an exact match wins, a single loose match is taken, two are ambiguous.
    """
    path = base
    for part in (part for part in relative.split("/") if part not in ("", ".")):
        exact = path / part
        if exact.exists():
            path = exact
            continue
        loose = [child for child in _children(path) if _loose(child.name) == _loose(part)]
        if len(loose) != 1:
            return None
        path = loose[0]
    return path if path.resolve().is_relative_to(base.resolve()) else None


def _children(directory: Path) -> list[Path]:
    return list(directory.iterdir()) if directory.is_dir() else []


def _loose(name: str) -> str:
    return nfc(name).casefold()
