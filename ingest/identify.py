"""Identify a file by its content (never its name) and validate it before any page work starts.

``identify`` reads the first kilobyte only. ``validate`` opens the file with its decoder inside
``limits.run_limited`` and answers how many pages it has, how big they are and what embedded
metadata it carries, or raises the typed error that says why it cannot be ingested.
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ingest.errors import CorruptFile, EmptyFile, IngestError, TooLarge, UnsupportedFormat
from ingest.limits import MB, Limits, run_limited_each

HEAD_BYTES = 1024

MIME = {
    "pdf": "application/pdf",
    "tiff": "image/tiff",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "jp2": "image/jp2",
    "j2k": "image/x-jp2-codestream",
    "webp": "image/webp",
}
IMAGE_KINDS = frozenset(MIME) - {"pdf"}

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"II+\x00", "tiff"),  # BigTIFF
    (b"MM\x00+", "tiff"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "jp2"),
    (b"\xff\x4f\xff\x51", "j2k"),
)

# Formats we recognise only to say by name why they are refused.
_REFUSED: tuple[tuple[bytes, str], ...] = (
    (b"GIF8", "GIF image"),
    (b"BM", "BMP image"),
    (b"PK\x03\x04", "ZIP archive (upload it as a batch)"),
    (b"AT&TFORM", "DjVu document"),
    (b"\xd0\xcf\x11\xe0", "Microsoft Office document"),
    (b"{\\rtf", "RTF document"),
    (b"8BPS", "Photoshop document"),
    (b"\x1f\x8b", "gzip archive"),
    (b"Rar!", "RAR archive"),
    (b"7z\xbc\xaf", "7-Zip archive"),
)

# Damaged signatures seen in real uploads: report them as damage, not as a foreign format.
_DAMAGED: tuple[tuple[re.Pattern[bytes], str], ...] = (
    (re.compile(rb"^.?PNG\r\n\x1a\n", re.DOTALL), "a PNG whose signature is damaged"),
    (re.compile(rb"^.{0,8}PDF-[12]", re.DOTALL), "a PDF whose header is damaged"),
)


@dataclass(frozen=True)
class FileType:
    """What ``identify`` found: the kind by content, its MIME type and the size in bytes."""

    path: Path
    kind: str
    mime: str
    size: int

    @property
    def is_pdf(self) -> bool:
        return self.kind == "pdf"


@dataclass(frozen=True)
class Inspection:
    """What a decoder found inside a file: page count, first-page geometry, embedded metadata."""

    pages: int
    width: int = 0
    height: int = 0
    dpi: float | None = None
    mode: str = ""
    encrypted: bool = False
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SourceInfo(Inspection):
    """A validated source file: its type and what its decoder found (``validate``'s answer)."""

    path: Path = Path()
    kind: str = ""
    mime: str = ""
    size: int = 0


def identify(path: Path, limits: Limits | None = None) -> FileType:
    """Tell the kind of ``path`` from its first bytes; refuse empty, oversized and foreign files."""
    limits = limits or Limits()
    size = path.stat().st_size
    if size == 0:
        raise EmptyFile(path=str(path))
    if size > limits.max_file_mb * MB:
        raise TooLarge(f"The file is {size // MB} MB; the limit is {limits.max_file_mb} MB.")
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    kind = sniff(head)
    return FileType(path=path, kind=kind, mime=MIME[kind], size=size)


def sniff(head: bytes) -> str:
    """The kind of file that starts with ``head``, or the typed error that refuses it."""
    for signature, kind in _SIGNATURES:
        if head.startswith(signature):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if b"%PDF-" in head:  # the PDF spec lets junk precede the header
        return "pdf"
    for pattern, name in _DAMAGED:
        if pattern.match(head):
            raise CorruptFile(f"This looks like {name}; it cannot be read.")
    for signature, name in _REFUSED:
        if head.startswith(signature):
            raise UnsupportedFormat(f"{name} files are not accepted: send TIFF, JPEG, PNG, "
                                    "JPEG 2000 or PDF.")
    if len(head) < 8:
        raise CorruptFile(f"The file has only {len(head)} bytes; it is not a page image or a PDF.")
    raise UnsupportedFormat()


def validate(file: FileType, limits: Limits | None = None, password: str | None = None
             ) -> SourceInfo:
    """Open ``file`` with its decoder under ``limits``: count pages, read metadata, check size."""
    limits = limits or Limits()
    # images and pdf build on the types above, so they are imported here, not at the top.
    if file.is_pdf:
        from ingest import pdf
        found = pdf.inspect(file.path, limits=limits, password=password)
    else:
        from ingest import images
        found = images.inspect(file.path, limits=limits)
    return _source_info(file, found, limits)


def validate_each(files: list[FileType], limits: Limits, *, jobs: int | None = None
                  ) -> list[SourceInfo | IngestError]:
    """``validate`` for several files; in order, each file's answer or the typed error that
    refuses it.

    Reading headers costs far less than starting a guarded child, so the files go in groups,
    one child per group and one group per core (``jobs``), each child under one file's limits.
    A group whose child dies, hangs or runs out of memory is read again one file per child:
    the file that did it is named, and the others of its group are not blamed.
    """
    from PIL import Image

    Image.init()  # load the plugins once here, not again in every child
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(files)))
    groups = [files[start::jobs] for start in range(jobs)] if len(files) > 1 else [files]
    found: dict[int, Inspection | IngestError] = {}
    for group, answer in zip(groups, run_limited_each(
            _inspect_group, [(group, limits) for group in groups], limits=limits, jobs=jobs),
            strict=True):
        if isinstance(answer, IngestError):  # the child itself failed: one file per child
            answer = run_limited_each(_inspect, [(file.path, file.is_pdf, limits)
                                                 for file in group], limits=limits, jobs=jobs)
        found.update(zip(map(id, group), answer, strict=True))
    return [_answer(file, found[id(file)], limits) for file in files]


def _answer(file: FileType, inspection: Inspection | IngestError,
            limits: Limits) -> SourceInfo | IngestError:
    if isinstance(inspection, IngestError):
        return inspection
    try:
        return _source_info(file, inspection, limits)
    except IngestError as error:
        return error


def _inspect_group(files: list[FileType], limits: Limits) -> list[Inspection | IngestError]:
    # Runs in a guarded child: each file's inspection, or the typed error that refuses it.
    answers: list[Inspection | IngestError] = []
    for file in files:
        try:
            answers.append(_inspect(file.path, file.is_pdf, limits))
        except IngestError as error:
            answers.append(error)
    return answers


def _inspect(path: Path, is_pdf: bool, limits: Limits) -> Inspection:
    # Runs in a guarded child: the decoder's own inspection, as ``validate`` calls it.
    if is_pdf:
        from ingest import pdf
        return pdf._inspect(path, None)
    from ingest import images
    return images._inspect(path, limits.max_pixels, limits.max_pages)


def _source_info(file: FileType, found: Inspection, limits: Limits) -> SourceInfo:
    if found.pages > limits.max_pages:
        raise TooLarge(f"The file has {found.pages} pages; the limit is {limits.max_pages}.")
    return SourceInfo(path=file.path, kind=file.kind, mime=file.mime, size=file.size,
                      **dataclasses.asdict(found))
