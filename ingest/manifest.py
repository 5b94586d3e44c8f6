"""Read a CSV manifest: one row per item, a column naming its files, Dublin Core columns.

The rules staff follow (and SAFCreator's sheets already do): UTF-8 with or without a BOM; a
``file``/``files``/``folder`` column (or SAFCreator's ``bundle:ORIGINAL``) naming page files or a
folder relative to the manifest, several separated by ``;`` or ``||``; Dublin Core columns such as
``dc.title``, ``title``, ``dc.date.issued`` or ``dc.title[vi]``, repeated values separated by
``||``. A bad row is reported and skipped; the other rows go on.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ingest.archives import safe_relative
from ingest.plan import (
    MB,
    ItemPlan,
    SourceProblem,
    UnpackLimits,
    checked,
    dc_column,
    find_path,
    nfc,
    page_files,
)
from repository.dublin_core import Statement
from repository.errors import N_, InvalidInput

FILE_COLUMNS = frozenset({"file", "files", "folder", "filename", "filenames", "bundle:original",
                          "tệp", "thư mục"})
VALUE_SEPARATOR = "||"
_FILE_SEPARATOR = re.compile(r"\|\||;")
_REMOTE = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_DELIMITERS = (",", ";", "\t")


class _Unreadable(Exception):
    def __init__(self, problem: SourceProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem


@dataclass
class ManifestRow:
    """One data row (``row`` counts as a spreadsheet does: the header is row 1)."""

    row: int
    files: list[str]
    metadata: list[Statement]
    problems: list[SourceProblem] = field(default_factory=list)


@dataclass
class Manifest:
    """A manifest read and checked, before its file names are looked up on disk."""

    name: str
    rows: list[ManifestRow] = field(default_factory=list)
    problems: list[SourceProblem] = field(default_factory=list)


@dataclass(frozen=True)
class _Columns:
    files: list[int]
    fields: list[tuple[int, Statement]]
    width: int


def read_manifest(path: Path, *, name: str = "", limits: UnpackLimits = UnpackLimits()
                  ) -> Manifest:
    """Parse ``path``; every rule broken becomes a problem of the manifest or of one row."""
    manifest = Manifest(name or nfc(path.name))
    try:
        text = _text(path, manifest.name, limits)
        records = list(csv.reader(io.StringIO(text), delimiter=_delimiter(text)))
    except _Unreadable as unreadable:
        manifest.problems.append(unreadable.problem)
        return manifest
    except csv.Error as error:
        manifest.problems.append(_problem(manifest.name, "manifest-unreadable", N_(
            "The manifest %(name)s cannot be read as CSV (%(reason)s)."), reason=str(error)))
        return manifest
    if not records:
        manifest.problems.append(_problem(manifest.name, "manifest-empty", N_(
            "The manifest %(name)s is empty.")))
        return manifest
    columns = _columns(records[0], manifest)
    if columns.files:
        manifest.rows = [row for number, cells in enumerate(records[1:], start=2)
                         if (row := _row(number, cells, columns, manifest.name))]
    return manifest


def plan_manifest(path: Path, *, bases: Sequence[Path], name: str = "",
                  limits: UnpackLimits = UnpackLimits()
                  ) -> tuple[list[ItemPlan], list[SourceProblem]]:
    """Items for the rows whose files are found under one of ``bases``; problems for the rest."""
    manifest = read_manifest(path, name=name, limits=limits)
    items: list[ItemPlan] = []
    problems = list(manifest.problems)
    for row in manifest.rows:
        files, row_problems = _resolve(row, bases, manifest.name)
        problems += row.problems + row_problems
        if files and not row.problems and not row_problems:
            items.append(ItemPlan(manifest.name, _original_name(row, files), files,
                                  row.metadata, row=row.row))
    return items, problems


def _text(path: Path, name: str, limits: UnpackLimits) -> str:
    if path.stat().st_size > limits.max_manifest_bytes:
        raise _Unreadable(_problem(name, "manifest-too-large", N_(
            "The manifest %(name)s is larger than %(limit)d MB; split it into several "
            "manifests."), limit=limits.max_manifest_bytes // MB))
    data = path.read_bytes()
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in data[:4096]:
        raise _Unreadable(_problem(name, "manifest-encoding", N_(
            "The manifest %(name)s is saved as UTF-16 text, not UTF-8. Open it in Excel or "
            "LibreOffice and save it as \"CSV UTF-8 (comma delimited)\".")))
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _Unreadable(_problem(name, "manifest-encoding", N_(
            "The manifest %(name)s is not UTF-8 text (line %(line)d is in another encoding, "
            "such as Windows-1258, TCVN3 or VNI). Open it in Excel or LibreOffice and save it "
            "as \"CSV UTF-8 (comma delimited)\"."),
            line=data[:error.start].count(b"\n") + 1)) from None


def _delimiter(text: str) -> str:
    """Excel set to Vietnamese separates with ``;``: take what the header line uses most."""
    header = text.partition("\n")[0]
    best = max(_DELIMITERS, key=header.count)
    return best if header.count(best) else ","


def _columns(header: list[str], manifest: Manifest) -> _Columns:
    files: list[int] = []
    fields: list[tuple[int, Statement]] = []
    for index, title in enumerate(header):
        title = nfc(title).strip().lstrip("\ufeff").strip()
        if title.casefold() in FILE_COLUMNS:
            files.append(index)
        elif title and (statement := _field(title, manifest)):
            fields.append((index, statement))
    if not files:
        manifest.problems.append(_problem(manifest.name, "manifest-no-file-column", N_(
            "The manifest %(name)s has no column naming the files: add a column called file "
            "(or files, folder) with the page files or the folder of each item.")))
    return _Columns(files, fields, len(header))


def _field(title: str, manifest: Manifest) -> Statement | None:
    statement = dc_column(title)
    if statement is None:
        manifest.problems.append(_problem(manifest.name, "manifest-unknown-column", N_(
            "The column %(column)s of the manifest %(name)s is not a Dublin Core field; its "
            "values were ignored."), column=title))
        return None
    try:
        checked(statement, "x")
    except InvalidInput as error:
        manifest.problems.append(SourceProblem.invalid(
            "manifest-bad-column", error, manifest.name, column=title, name=manifest.name))
        return None
    return statement


def _row(number: int, cells: list[str], columns: _Columns, name: str) -> ManifestRow | None:
    if not any(cell.strip() for cell in cells):
        return None
    row = ManifestRow(number, _file_names(cells, columns), [])
    if any(cell.strip() for cell in cells[columns.width:]):
        row.problems.append(_problem(name, "manifest-extra-cells", N_(
            "Row %(row)d of %(name)s has more cells than the header; a value that contains a "
            "comma must be in quotes. The row was skipped."), row=number))
    for index, template in columns.fields:
        for value in _cell(cells, index).split(VALUE_SEPARATOR):
            _add_value(row, template, value, name)
    if not row.files:
        row.problems.append(_problem(name, "manifest-no-files", N_(
            "Row %(row)d of %(name)s names no files; put the page files or the folder in the "
            "file column. The row was skipped."), row=number))
    return row


def _add_value(row: ManifestRow, template: Statement, value: str, name: str) -> None:
    if not value.strip():
        return
    try:
        row.metadata.append(checked(template, value))
    except InvalidInput as error:
        row.problems.append(SourceProblem.invalid(
            "manifest-invalid-value", error, name, row.row, name=name))


def _file_names(cells: list[str], columns: _Columns) -> list[str]:
    return [part.strip() for index in columns.files
            for part in _FILE_SEPARATOR.split(_cell(cells, index)) if part.strip()]


def _cell(cells: list[str], index: int) -> str:
    return cells[index] if index < len(cells) else ""


def _resolve(row: ManifestRow, bases: Sequence[Path], name: str
             ) -> tuple[list[Path], list[SourceProblem]]:
    files: list[Path] = []
    problems: list[SourceProblem] = []
    for entry in row.files:
        found, problem = _resolve_one(entry, row.row, bases, name)
        files += found
        problems += [problem] if problem else []
    return files, problems


def _resolve_one(entry: str, row: int, bases: Sequence[Path], name: str
                 ) -> tuple[list[Path], SourceProblem | None]:
    params = {"row": row, "file": entry}
    if _REMOTE.match(entry):
        return [], _problem(name, "manifest-remote-file", N_(
            "Row %(row)d of %(name)s names a web address (%(file)s); download the file, put it "
            "in the batch and name it instead. The row was skipped."), **params)
    relative = entry.replace("\\", "/")
    if not safe_relative(relative):
        return [], _problem(name, "unsafe-path", N_(
            "Row %(row)d of %(name)s names %(file)s, which is outside the batch folder. The "
            "row was skipped."), **params)
    path = next((found for base in bases if (found := find_path(base, relative))), None)
    if path is None:
        return [], _problem(name, "manifest-missing-file", N_(
            "Row %(row)d of %(name)s names %(file)s, which is not in the batch. The row was "
            "skipped."), **params)
    if not path.is_dir():
        return [path], None
    pages, _ = page_files(path)
    if not pages:
        return [], _problem(name, "manifest-empty-folder", N_(
            "Row %(row)d of %(name)s names the folder %(file)s, which holds no page images or "
            "PDFs. The row was skipped."), **params)
    return pages, None


def _original_name(row: ManifestRow, files: list[Path]) -> str:
    return nfc(Path(row.files[0].replace("\\", "/")).name or files[0].name)


def _problem(name: str, code: str, template: str, *, row: int | None = None, **params: object
             ) -> SourceProblem:
    values = {"name": name, **params} if row is None else {"name": name, "row": row, **params}
    return SourceProblem(code, template, values, name, row)
