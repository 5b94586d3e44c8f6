"""Unpack an uploaded ZIP safely: no path leaves the target folder, no bomb fills the disk.

Every entry is checked before a byte is written (names, links, counts, sizes, compression ratio);
then entries are copied in chunks, counting the bytes that really come out, so that a header that
lies about its size is caught as well. Only stored and Deflate entries are read: the bzip2 and
LZMA decoders of ``zipfile`` cannot bound how much one read expands. Names are kept as their
maker wrote them (a bag's manifest must still match), junk like ``__MACOSX`` included: the
readers of the unpacked folder skip it.
"""

from __future__ import annotations

import errno
import re
import shutil
import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from ingest.plan import GB, SourceProblem, UnpackLimits
from repository.errors import N_

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
CHUNK = 1024 * 1024
_UTF8_FLAG = 0x800
_ENCRYPTED_FLAG = 0x1
_UNICODE_PATH_EXTRA = 0x7075
_READABLE_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_DRIVE = re.compile(r"^[A-Za-z]:")


class _Refused(Exception):
    """The whole archive is refused; nothing of it is kept."""

    def __init__(self, problem: SourceProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem


@dataclass
class _Unpacking:
    """One archive being unpacked: where to, within which limits, and what went wrong."""

    name: str
    target: Path
    limits: UnpackLimits
    written: int = 0
    problems: list[SourceProblem] = field(default_factory=list)

    def problem(self, code: str, template: str, **params: object) -> SourceProblem:
        return SourceProblem(code, template, {"name": self.name, **params}, self.name)


def is_zip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(4) in ZIP_MAGIC


def unpack_zip(archive: Path, target: Path, limits: UnpackLimits, name: str = ""
               ) -> tuple[bool, list[SourceProblem]]:
    """Extract ``archive`` into ``target`` (new or empty); say whether it was, and what went wrong.

    A refused archive (unreadable, traversal, bomb, too large) leaves nothing behind and answers
    ``False``; a skipped entry (encrypted, damaged, duplicate) is a problem and the rest goes on.
    """
    if target.exists() and any(target.iterdir()):
        raise ValueError(f"{target} is not empty: unpack into a new folder")
    job = _Unpacking(name or archive.name, target, limits)
    try:
        with zipfile.ZipFile(archive) as zip_file:
            entries = _checked_entries(job, zip_file)
            target.mkdir(parents=True, exist_ok=True)
            for info, relative in entries:
                _extract(job, zip_file, info, relative)
    except _Refused as refused:
        shutil.rmtree(target, ignore_errors=True)
        return False, [*job.problems, refused.problem]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError):
        shutil.rmtree(target, ignore_errors=True)
        return False, [job.problem("zip-corrupt", N_(
            "%(name)s is not a readable ZIP file; make the ZIP file again."))]
    return True, job.problems


def _checked_entries(job: _Unpacking, zip_file: zipfile.ZipFile
                     ) -> list[tuple[zipfile.ZipInfo, str]]:
    infos = zip_file.infolist()
    if len(infos) > job.limits.max_entries:
        raise _Refused(job.problem("zip-too-large", N_(
            "%(name)s holds %(count)d files, more than the limit of %(limit)d; "
            "split it into several ZIP files."), count=len(infos), limit=job.limits.max_entries))
    entries = [(info, entry_name(info, job.limits.legacy_name_encoding)) for info in infos]
    for info, name in entries:
        _check_entry(job, info, name)
    total = sum(info.file_size for info, _ in entries)
    if total > job.limits.max_total_bytes:
        raise _Refused(job.problem("zip-too-large", N_(
            "%(name)s would unpack to %(size)s, more than the limit of %(limit)s; "
            "split it into several ZIP files."),
            size=_gigabytes(total), limit=_gigabytes(job.limits.max_total_bytes)))
    return entries


def _check_entry(job: _Unpacking, info: zipfile.ZipInfo, name: str) -> None:
    if not safe_relative(name) or stat.S_ISLNK(info.external_attr >> 16):
        raise _Refused(job.problem("zip-traversal", N_(
            "%(name)s was refused: the entry %(entry)s points outside the ZIP file "
            "(a path with .., an absolute path, a drive letter or a link)."), entry=name))
    limits = job.limits
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > limits.ratio_floor and ratio > limits.max_ratio:
        raise _Refused(job.problem("zip-bomb", N_(
            "%(name)s was refused: the entry %(entry)s expands %(ratio)d times, more than "
            "%(limit)d times, which is how a ZIP bomb works."),
            entry=name, ratio=int(ratio), limit=limits.max_ratio))


def _extract(job: _Unpacking, zip_file: zipfile.ZipFile, info: zipfile.ZipInfo,
             relative: str) -> None:
    destination = job.target / relative
    if info.is_dir():
        destination.mkdir(parents=True, exist_ok=True)
    elif info.flag_bits & _ENCRYPTED_FLAG:
        job.problems.append(job.problem("zip-encrypted", N_(
            "The file %(entry)s in %(name)s is password-protected and was skipped; make the "
            "ZIP file again without a password."), entry=relative))
    elif info.compress_type not in _READABLE_METHODS:
        job.problems.append(job.problem("zip-method", N_(
            "The file %(entry)s in %(name)s uses a compression method that cannot be read and "
            "was skipped; make the ZIP file again with ordinary (Deflate) compression."),
            entry=relative))
    else:
        _extract_file(job, zip_file, info, relative)


def _extract_file(job: _Unpacking, zip_file: zipfile.ZipFile, info: zipfile.ZipInfo,
                  relative: str) -> None:
    destination = job.target / relative
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
        with zip_file.open(info) as source, destination.open("xb") as sink:
            _copy(job, source, sink, info, relative)
    except (FileExistsError, NotADirectoryError, IsADirectoryError):
        job.problems.append(job.problem("zip-duplicate", N_(
            "The file %(entry)s appears twice in %(name)s (or clashes with a folder of the same "
            "name); only the first was kept."), entry=relative))
    except (zipfile.BadZipFile, zlib.error, EOFError):
        destination.unlink(missing_ok=True)
        job.problems.append(job.problem("zip-damaged", N_(
            "The file %(entry)s in %(name)s is damaged and was skipped; make the ZIP file "
            "again."), entry=relative))
    except OSError as error:
        if error.errno != errno.ENAMETOOLONG:
            raise
        job.problems.append(job.problem("zip-name", N_(
            "The name of the file %(entry)s in %(name)s is too long and it was skipped; "
            "shorten the name."), entry=relative))


def _copy(job: _Unpacking, source, sink, info: zipfile.ZipInfo, relative: str) -> None:
    copied = 0
    while chunk := source.read(CHUNK):
        copied += len(chunk)
        job.written += len(chunk)
        if copied > info.file_size or job.written > job.limits.max_total_bytes:
            raise _Refused(job.problem("zip-bomb", N_(
                "%(name)s was refused: the entry %(entry)s unpacks to more than the size it "
                "declares, which is how a ZIP bomb works."), entry=relative))
        sink.write(chunk)


def entry_name(info: zipfile.ZipInfo, legacy_encoding: str = "cp437") -> str:
    """The entry's name as its maker meant it: UTF-8 flag, Info-ZIP Unicode path, or legacy."""
    name = info.filename
    if not info.flag_bits & _UTF8_FLAG:
        raw = name.encode("cp437")  # zipfile decoded the raw bytes as cp437: undo it
        name = _unicode_path(info) or _decode_legacy(raw, legacy_encoding)
    return name.replace("\\", "/")


def _decode_legacy(raw: bytes, encoding: str) -> str:
    try:
        return raw.decode("utf-8")  # macOS and Linux tools write UTF-8 without the flag
    except UnicodeDecodeError:
        return raw.decode(encoding, errors="replace")


def _unicode_path(info: zipfile.ZipInfo) -> str | None:
    """The Info-ZIP Unicode Path extra field (0x7075), which ``zipfile`` does not read."""
    extra, offset = info.extra, 0
    while offset + 4 <= len(extra):
        kind, size = struct.unpack_from("<HH", extra, offset)
        body = extra[offset + 4:offset + 4 + size]
        offset += 4 + size
        if kind == _UNICODE_PATH_EXTRA and len(body) > 5 and body[0] == 1:
            try:
                return body[5:].decode("utf-8")
            except UnicodeDecodeError:
                return None
    return None


def safe_relative(name: str) -> bool:
    """Whether ``name`` (``/`` separated) stays inside the folder it is unpacked into."""
    if not name or "\x00" in name or name.startswith("/") or _DRIVE.match(name):
        return False
    return ".." not in name.split("/")


def _gigabytes(size: int) -> str:
    return f"{size / GB:.1f} GB"
