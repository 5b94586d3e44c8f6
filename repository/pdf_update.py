"""Incremental updates to a PDF: its page tree moved to the end, and maybe a watermark.

The original bytes stay as they are and a small update is appended: a new version of every
page-tree node and page dictionary, next to the new cross-reference section. A viewer that
reads the end of the file first (pdf.js with range requests) then finds every page there,
instead of fetching a chunk of the file per page, as it must when page dictionaries lie between
the scanned images. With a watermark text, each page's contents also end with a stamp (the line
grey and translucent, once across the page and once along its foot), its font and
transparency added to the page's resources.

Only the cross-reference data and page-tree dictionaries are read, never content or image
streams: memory does not grow with the file, and the update is a few hundred bytes a page.
"""

from __future__ import annotations

import io
import math
import shutil
from typing import BinaryIO

from pypdf import PdfReader
from pypdf.errors import PdfReadError
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    PdfObject,
)

UPDATE_VERSION = "1"            # part of the cache key of updates
FONT = NameObject("/KhosoWM")
STATE = NameObject("/KhosoGS")
OPACITY = 0.28
CHUNK = 1024 * 1024
GLYPH_WIDTH = 0.56              # Helvetica's digits and capitals, in ems, near enough


class StampError(Exception):
    """The PDF cannot be stamped (unreadable, or encrypted)."""


def page_update(source: BinaryIO, text: str | None = None) -> bytes:
    """The bytes to append to ``source`` (a seekable PDF, read from its start to its end):
    its page tree again, each page stamped with ``text`` when there is one."""
    try:
        reader = PdfReader(source)
        if reader.is_encrypted:
            raise StampError("an encrypted PDF cannot be updated")
        previous = _startxref(source)
        size = source.seek(0, io.SEEK_END)
        nodes = _page_tree(reader)
        pages = list(reader.pages)
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise StampError(f"the PDF cannot be read: {exc}") from exc
    out = io.BytesIO()
    update = _Update(out, int(reader.trailer["/Size"]), base=size)
    for node in nodes:
        reference = node.indirect_reference
        update.replace(reference.idnum, reference.generation, DictionaryObject(dict.items(node)))
    shared = _shared_objects(update) if text else {}
    stamps: dict[tuple[float, ...], IndirectObject] = {}
    for page in pages:
        new = DictionaryObject(dict.items(page))
        if text:
            box = tuple(float(value) for value in page.mediabox)
            if box not in stamps:
                stamps[box] = update.add(_stream(stamp_content(text, box)))
            new = _stamped_page(page, shared, stamps[box])
        reference = page.indirect_reference
        update.replace(reference.idnum, reference.generation, new)
    update.finish(reader.trailer, previous)
    return out.getvalue()


def stamp_pdf(source: BinaryIO, out: BinaryIO, text: str | None) -> None:
    """Write ``source`` and its update (see :func:`page_update`) to ``out``."""
    update = page_update(source, text)
    source.seek(0)
    shutil.copyfileobj(source, out, CHUNK)
    out.write(update)


def _page_tree(reader: PdfReader) -> list[DictionaryObject]:
    """The intermediate page-tree nodes (Pages dictionaries), root first."""
    found, waiting = [], [reader.trailer["/Root"]["/Pages"]]
    while waiting:
        node = waiting.pop()
        if node.indirect_reference is None or node.get("/Type") != "/Pages":
            continue
        found.append(node)
        waiting.extend(kid.get_object() for kid in node.get("/Kids", ()))
    return found


def stamp_content(text: str, box: tuple[float, ...]) -> bytes:
    """The stamp's drawing operators for a page whose media box is ``box``."""
    left, bottom, right, top = box
    width, height = right - left, top - bottom
    literal = _pdf_string(text)
    angle = math.atan2(height, width)
    length = max(1, len(text)) * GLYPH_WIDTH
    size = max(8.0, min(72.0, 0.6 * math.hypot(width, height) / length))
    cos, sin = math.cos(angle), math.sin(angle)
    start_x = left + width / 2 - cos * size * length / 2 + sin * size / 3
    start_y = bottom + height / 2 - sin * size * length / 2 - cos * size / 3
    foot = max(6.0, min(10.0, width / 60))
    lines = [
        "q", f"{STATE} gs", "0.35 g",
        f"BT {FONT} {size:.2f} Tf {cos:.4f} {sin:.4f} {-sin:.4f} {cos:.4f} "
        f"{start_x:.2f} {start_y:.2f} Tm {literal} Tj ET",
        f"BT {FONT} {foot:.2f} Tf 1 0 0 1 {left + foot * 2:.2f} {bottom + foot * 1.5:.2f} Tm "
        f"{literal} Tj ET",
        "Q",
    ]
    return "\n".join(lines).encode("latin-1")


def _pdf_string(text: str) -> str:
    """A literal string in WinAnsi: what Helvetica cannot draw becomes "?"."""
    encoded = text.encode("cp1252", "replace").decode("latin-1")
    escaped = encoded.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return f"({escaped})"


def _startxref(source: BinaryIO) -> int:
    source.seek(0, io.SEEK_END)
    size = source.tell()
    source.seek(max(0, size - 2048))
    tail = source.read()
    found = tail.rfind(b"startxref")
    if found == -1:
        raise StampError("the PDF has no startxref")
    return int(tail[found + len(b"startxref"):].split()[0])


def _stream(data: bytes) -> DecodedStreamObject:
    stream = DecodedStreamObject()
    stream.set_data(data)
    return stream


def _shared_objects(update: _Update) -> dict[str, IndirectObject]:
    font = DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica"),
        NameObject("/Encoding"): NameObject("/WinAnsiEncoding")})
    state = DictionaryObject({
        NameObject("/Type"): NameObject("/ExtGState"),
        NameObject("/ca"): FloatObject(OPACITY), NameObject("/CA"): FloatObject(OPACITY)})
    return {"font": update.add(font), "state": update.add(state),
            "save": update.add(_stream(b"q\n")), "restore": update.add(_stream(b"\nQ\n"))}


def _stamped_page(page: DictionaryObject, shared: dict[str, IndirectObject],
                  stamp: IndirectObject) -> DictionaryObject:
    """A copy of the page dictionary (values kept as references) drawing its own contents
    inside q/Q, then the stamp, with the stamp's font and state added to its resources."""
    new = DictionaryObject(dict.items(page))
    contents = dict.get(page, "/Contents")
    resolved = contents.get_object() if contents is not None else None
    if isinstance(resolved, ArrayObject):
        original = list(resolved)
    else:
        original = [] if contents is None else [contents]
    new[NameObject("/Contents")] = ArrayObject(
        [shared["save"], *original, shared["restore"], stamp])
    resources = _direct(dict.get(page, "/Resources"))
    resources[NameObject("/Font")] = _with(resources.get("/Font"), FONT, shared["font"])
    resources[NameObject("/ExtGState")] = _with(resources.get("/ExtGState"), STATE,
                                                shared["state"])
    new[NameObject("/Resources")] = resources
    return new


def _direct(value: PdfObject | None) -> DictionaryObject:
    """A shallow copy of a (maybe indirect) dictionary, its values left as references."""
    resolved = value.get_object() if value is not None else None
    if not isinstance(resolved, DictionaryObject):
        return DictionaryObject()
    return DictionaryObject(dict.items(resolved))


def _with(value: PdfObject | None, name: NameObject, reference: IndirectObject
          ) -> DictionaryObject:
    found = _direct(value)
    found[name] = reference
    return found


class _Update:
    """Objects appended after the original bytes, then their cross-reference section."""

    def __init__(self, out: BinaryIO, first_number: int, base: int) -> None:
        self._out = out
        self._base = base           # where the update starts in the whole file
        self._next = first_number
        self._offsets: dict[int, tuple[int, int]] = {}
        out.write(b"\n")

    def _tell(self) -> int:
        return self._base + self._out.tell()

    def add(self, obj: PdfObject) -> IndirectObject:
        number = self._next
        self._next += 1
        self.replace(number, 0, obj)
        return IndirectObject(number, 0, None)  # type: ignore[arg-type]

    def replace(self, number: int, generation: int, obj: PdfObject) -> None:
        self._offsets[number] = (self._tell(), generation)
        self._out.write(f"{number} {generation} obj\n".encode())
        obj.write_to_stream(self._out)
        self._out.write(b"\nendobj\n")

    def finish(self, trailer: DictionaryObject, previous: int) -> None:
        start = self._tell()
        self._out.write(b"xref\n")
        for first, run in _runs(sorted(self._offsets)):
            self._out.write(f"{first} {len(run)}\n".encode())
            for number in run:
                offset, generation = self._offsets[number]
                self._out.write(f"{offset:010d} {generation:05d} n\r\n".encode())
        entries = [f"/Size {max(self._next, int(trailer['/Size']))}", f"/Prev {previous}"]
        for key in ("/Root", "/Info"):
            value = dict.get(trailer, key)
            if isinstance(value, IndirectObject):
                entries.append(f"{key} {value.idnum} {value.generation} R")
        identifier = io.BytesIO()
        if "/ID" in trailer:
            trailer["/ID"].write_to_stream(identifier)
            entries.append("/ID " + identifier.getvalue().decode("latin-1"))
        self._out.write(f"trailer\n<< {' '.join(entries)} >>\n".encode("latin-1"))
        self._out.write(f"startxref\n{start}\n%%EOF\n".encode())


def _runs(numbers: list[int]) -> list[tuple[int, list[int]]]:
    """Consecutive object numbers grouped, as cross-reference subsections want them."""
    runs: list[tuple[int, list[int]]] = []
    for number in numbers:
        if runs and runs[-1][1][-1] == number - 1:
            runs[-1][1].append(number)
        else:
            runs.append((number, [number]))
    return runs
