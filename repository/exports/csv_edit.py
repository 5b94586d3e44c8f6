"""A collection's metadata as a spreadsheet, and the spreadsheet back as a bulk edit.

The CSV follows the manifest conventions staff know from ingest: UTF-8 (with a BOM, so that
Excel reads the accents), a ``handle`` column, then one column per Dublin Core field such as
``dc.title[vi]`` or ``dc.date.issued``, repeated values separated by ``||``. Importing replaces
the values of the columns present (an empty cell removes the field) and leaves the item's other
fields alone. A preview writes nothing; applying re-reads the file in one transaction.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from repository import audit
from repository.errors import N_, Conflict, InvalidInput
from repository.metadata_edit import (
    Field,
    changed_fields,
    field_values,
    merge,
    nfc,
    statements_of,
    update_metadata,
)
from repository.models import Collection, Item, User

HANDLE_COLUMN = "handle"
VALUE_SEPARATOR = "||"
_DELIMITERS = (",", ";", "\t")
MAX_CSV_CHARS = 64 * 1024 * 1024


@dataclass(frozen=True)
class Change:
    """One field of one item: its values before and after the edit."""

    handle: str
    row: int
    field: Field
    old: tuple[str, ...]
    new: tuple[str, ...]


@dataclass(frozen=True)
class Problem:
    """Why a row (or, with ``row`` None, the whole file or a column) cannot be applied.
    ``template`` is an English msgid with ``%(name)s`` placeholders, translated where shown."""

    template: str
    params: dict = field(default_factory=dict)
    row: int | None = None
    handle: str = ""

    @property
    def message(self) -> str:
        return self.template % self.params if self.params else self.template


@dataclass(frozen=True)
class _Layout:
    """The header read: where the handles are, which column is which field, how wide it is."""

    handle: int
    columns: dict[int, Field]
    width: int


@dataclass
class BulkEdit:
    """What an uploaded CSV would change: the changes per item and field, the problems, and
    how many rows were read. ``digest`` names exactly this set of changes."""

    changes: list[Change] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    rows: int = 0

    @property
    def items(self) -> list[str]:
        return list(dict.fromkeys(change.handle for change in self.changes))

    @property
    def digest(self) -> str:
        text = repr([(c.handle, c.field.column, c.old, c.new) for c in self.changes])
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- export ----------------------------------------------------------------------------------

def collection_items(session: Session, collection: Collection) -> list[Item]:
    """Every item of the collection, whatever its status, oldest first (staff export)."""
    return list(session.scalars(
        select(Item).where(Item.collection_id == collection.id)
        .options(selectinload(Item.dc_values)).order_by(Item.id)))


def collection_csv(items: Iterable[Item]) -> str:
    """The items' Dublin Core as CSV text, starting with a BOM: ``handle`` then one column per
    field any of them uses, in the order an item page shows fields."""
    rows = [(item.handle, field_values(statements_of(item))) for item in items]
    fields = sorted({key for _, values in rows for key in values}, key=Field.sort_key)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([HANDLE_COLUMN, *(key.column for key in fields)])
    for handle, values in rows:
        writer.writerow([handle, *(VALUE_SEPARATOR.join(values.get(key, ())) for key in fields)])
    return "\ufeff" + out.getvalue()


# --- import ----------------------------------------------------------------------------------

def preview_bulk_edit(session: Session, collection: Collection, csv_text: str) -> BulkEdit:
    """What importing ``csv_text`` into ``collection`` would change; nothing is written."""
    edit = BulkEdit()
    records = _records(csv_text, edit)
    if not records:
        return edit
    layout = _header(records[0], edit)
    if layout is None:
        return edit
    items = _items_by_handle(session, collection, records[1:], layout.handle)
    seen: set[str] = set()
    for number, cells in enumerate(records[1:], start=2):
        if any(cell.strip() for cell in cells):
            edit.rows += 1
            _row(edit, number, cells, layout, items, seen)
    return edit


def apply_bulk_edit(session: Session, collection: Collection, csv_text: str,
                    actor: User | None = None, expected_digest: str | None = None) -> BulkEdit:
    """Apply the rows without problems in the caller's transaction; each item's change is
    audited, and the items are re-indexed after the commit. With ``expected_digest`` (from the
    preview the person saw) the edit is refused if the changes are no longer the same."""
    edit = preview_bulk_edit(session, collection, csv_text)
    if expected_digest is not None and edit.digest != expected_digest:
        raise Conflict(N_("The items changed since the preview; look at the new preview and "
                          "confirm again."))
    items = _items_by_handle(session, collection, [[handle] for handle in edit.items], 0)
    by_item: dict[str, dict[Field, tuple[str, ...]]] = {}
    for change in edit.changes:
        by_item.setdefault(change.handle, {})[change.field] = change.new
    for handle, replacements in by_item.items():
        item = items[handle]
        update_metadata(session, item, merge(statements_of(item), replacements), actor)
    if by_item:
        audit.record(session, actor, "collection.bulk_edit", "collection", collection.slug,
                     new={"items": len(by_item), "changes": len(edit.changes)})
    return edit


def _records(csv_text: str, edit: BulkEdit) -> list[list[str]]:
    if len(csv_text) > MAX_CSV_CHARS:
        edit.problems.append(Problem(N_("The file is larger than %(limit)d MB; split it."),
                                     {"limit": MAX_CSV_CHARS // 1024 // 1024}))
        return []
    text = csv_text.removeprefix("\ufeff")
    header = text.partition("\n")[0]
    delimiter = max(_DELIMITERS, key=header.count) if header else ","
    try:
        records = list(csv.reader(io.StringIO(text), delimiter=delimiter or ","))
    except csv.Error as error:
        edit.problems.append(Problem(N_("The file cannot be read as CSV (%(reason)s)."),
                                     {"reason": str(error)}))
        return []
    if not records:
        edit.problems.append(Problem(N_("The file is empty.")))
    return records


def _header(header: list[str], edit: BulkEdit) -> _Layout | None:
    handle_index = None
    columns: dict[int, Field] = {}
    for index, title in enumerate(nfc(title).strip().lstrip("\ufeff").strip() for title in header):
        parsed = Field.parse(title)
        if title.casefold() == HANDLE_COLUMN and handle_index is None:
            handle_index = index
        elif parsed is None:
            edit.problems.append(Problem(N_(
                "The column %(column)s is not a Dublin Core field (such as dc.title[vi] or "
                "dc.date.issued); it was ignored."), {"column": title}))
        elif parsed in columns.values():
            edit.problems.append(Problem(N_(
                "The column %(column)s appears twice; the second one was ignored."),
                {"column": title}))
        else:
            columns[index] = parsed
    if handle_index is None:
        edit.problems.append(Problem(N_(
            "The file has no handle column, so its rows cannot be matched to items. Export the "
            "collection again and edit that file.")))
        return None
    return _Layout(handle_index, columns, len(header))


def _items_by_handle(session: Session, collection: Collection, rows: Sequence[Sequence[str]],
                     index: int) -> dict[str, Item]:
    handles = {row[index].strip() for row in rows if index < len(row) and row[index].strip()}
    found = session.scalars(
        select(Item).where(Item.handle.in_(sorted(handles)), Item.collection_id == collection.id)
        .options(selectinload(Item.dc_values)))
    return {item.handle: item for item in found}


def _row(edit: BulkEdit, number: int, cells: list[str], layout: _Layout,
         items: dict[str, Item], seen: set[str]) -> None:
    handle = _cell(cells, layout.handle).strip()
    problem = _row_problem(handle, cells, layout, items, seen)
    if problem is not None:
        edit.problems.append(Problem(problem, {}, number, handle))
        return
    seen.add(handle)
    item = items[handle]
    replacements = {key: _values(_cell(cells, index)) for index, key in layout.columns.items()}
    try:
        new = merge(statements_of(item), replacements)
        if not any(statement.element == "title" for statement in new):
            raise InvalidInput(N_("An item needs a title"))
    except InvalidInput as error:
        edit.problems.append(Problem(error.template, dict(error.params), number, handle))
        return
    for key, (old, after) in changed_fields(statements_of(item), new).items():
        edit.changes.append(Change(handle, number, key, old, after))


def _row_problem(handle: str, cells: list[str], layout: _Layout, items: dict[str, Item],
                 seen: set[str]) -> str | None:
    if not handle:
        return N_("The row has no handle; it was skipped.")
    if handle in seen:
        return N_("The item appears in an earlier row already; this row was skipped.")
    if handle not in items:
        return N_("There is no item with this handle in this collection; the row was skipped.")
    if any(cell.strip() for cell in cells[layout.width:]):
        return N_("The row has more cells than the header; a value that contains a comma must "
                  "be in quotes. The row was skipped.")
    return None


def _values(cell: str) -> list[str]:
    return [nfc(part).strip() for part in cell.split(VALUE_SEPARATOR) if part.strip()]


def _cell(cells: list[str], index: int) -> str:
    return cells[index] if index < len(cells) else ""


def read_csv_bytes(data: bytes) -> str:
    """Uploaded bytes as text: UTF-8 with or without a BOM; anything else is refused saying
    how to save the file from Excel or LibreOffice."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in data[:4096]:
        raise InvalidInput(N_("The file is saved as UTF-16 text, not UTF-8. Save it as \"CSV "
                              "UTF-8 (comma delimited)\" and upload it again."))
    try:
        return data.removeprefix(codecs.BOM_UTF8).decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidInput(N_(
            "The file is not UTF-8 text (line %(line)d is in another encoding, such as "
            "Windows-1258, TCVN3 or VNI). Save it as \"CSV UTF-8 (comma delimited)\" and upload "
            "it again."), line=data[:error.start].count(b"\n") + 1) from None
