"""Read the two archival package formats staff bring: DSpace Simple Archive Format and BagIt.

A SAF package is a folder of item folders, each with ``dublin_core.xml``, optional
``metadata_<schema>.xml`` and a ``contents`` file listing the item's files (one per line, options
after tabs: ``bundle:ORIGINAL``, ``description:...``, ``primary:true``). A BagIt bag is validated
with the ``bagit`` library (checksums included) and refused with bagit's reason if invalid; its
payload under ``data/`` becomes one item and ``bag-info.txt`` suggests Dublin Core.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

import bagit

from ingest.archives import safe_relative
from ingest.plan import (
    ItemPlan,
    Origin,
    SourceProblem,
    UnpackLimits,
    checked,
    dc_column,
    find_path,
    is_junk,
    is_page_file,
    natural_key,
    nfc,
    not_a_page,
    problem_no_pages,
    unique,
)
from repository.dublin_core import Statement
from repository.errors import N_, InvalidInput

SAF_METADATA = "dublin_core.xml"
SAF_CONTENTS = "contents"
# bag-info.txt labels (RFC 8493 section 2.2.2) that say something a catalogue record says too.
BAG_INFO_FIELDS: dict[str, Statement] = {
    "external-identifier": Statement("identifier", ""),
    "external-description": Statement("description", ""),
    "source-organization": Statement("contributor", ""),
    "bagging-date": Statement("date", "", "submitted"),
}
_BAGIT_DECLARATION = re.compile(r"^(BagIt-Version|Tag-File-Character-Encoding): \S")
_MAX_REASON = 1000


@dataclass
class _Item:
    """One SAF item folder being read."""

    folder: Path
    name: str
    metadata: list[Statement] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    problems: list[SourceProblem] = field(default_factory=list)
    notes: list[SourceProblem] = field(default_factory=list)

    def problem(self, code: str, template: str, **params: object) -> None:
        """A problem that keeps the item out of the batch."""
        self.problems.append(SourceProblem(code, template, {"name": self.name, **params},
                                           self.name))

    def note(self, code: str, template: str, **params: object) -> None:
        """Something to tell the person uploading; the item goes on."""
        self.notes.append(SourceProblem(code, template, {"name": self.name, **params},
                                        self.name))


class _Refused(ValueError):
    """An XML file uses a DTD or entities: never expanded, so refused."""


# --- DSpace Simple Archive Format ---------------------------------------------------------------

def is_saf_item(folder: Path) -> bool:
    return (folder / SAF_METADATA).is_file() or (folder / SAF_CONTENTS).is_file()


def saf_item_folders(root: Path) -> list[Path]:
    """``[root]`` if ``root`` is itself an item folder, else its item folders in natural order."""
    if is_saf_item(root):
        return [root]
    return [folder for folder in _subfolders(root) if is_saf_item(folder)]


def plan_saf(root: Path, origin: Origin, limits: UnpackLimits
             ) -> tuple[list[ItemPlan], list[SourceProblem]]:
    """One item per item folder; an item with a problem is skipped, the others go on."""
    items: list[ItemPlan] = []
    problems: list[SourceProblem] = []
    folders = saf_item_folders(root)
    for other in (folder for folder in _subfolders(root) if folder not in folders):
        name = origin.name(other)
        problems.append(SourceProblem("saf-not-an-item", N_(
            "%(name)s is not a SAF item folder (it has no dublin_core.xml or contents file) and "
            "was skipped."), {"name": name}, name))
    for folder in folders:
        item = read_saf_item(folder, origin.name(folder), limits)
        problems += item.notes + item.problems
        if not item.problems:
            items.append(ItemPlan(item.name, nfc(folder.name), item.files, item.metadata))
    return items, problems


def read_saf_item(folder: Path, name: str, limits: UnpackLimits) -> _Item:
    """Read one item folder: its metadata files, then its ``contents``."""
    item = _Item(folder, name)
    metadata_files = [folder / SAF_METADATA, *sorted(folder.glob("metadata_*.xml"))]
    for path in (path for path in metadata_files if path.is_file()):
        _read_metadata_file(item, path, limits)
    item.metadata = unique(item.metadata)
    if not (folder / SAF_CONTENTS).is_file():
        item.problem("saf-missing-contents", N_(
            "The SAF item %(name)s has no contents file listing its files; the item was "
            "skipped."))
        return item
    _read_contents(item, limits)
    if not item.files and not item.problems:
        item.problems.append(problem_no_pages(name))
    return item


def read_dublin_core(path: Path, limits: UnpackLimits = UnpackLimits()
                     ) -> list[tuple[str, dict[str, str], str]]:
    """The ``dcvalue`` elements of a SAF metadata file: ``(schema, attributes, text)`` each.

    Parsed with expat, refusing any DTD (so no entity can expand). Raises ``expat.ExpatError``
    or ``ValueError`` saying why the file cannot be read.
    """
    if path.stat().st_size > limits.max_xml_bytes:
        raise _Refused(f"larger than {limits.max_xml_bytes} bytes")
    reader = _DcValueReader()
    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = reader.refuse_dtd
    parser.EntityDeclHandler = reader.refuse_dtd
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    parser.CharacterDataHandler = reader.text
    parser.Parse(path.read_bytes(), True)
    return reader.values


class _DcValueReader:
    """Collects ``<dcvalue element= qualifier= language=>text</dcvalue>`` under its schema."""

    def __init__(self) -> None:
        self.values: list[tuple[str, dict[str, str], str]] = []
        self.schema = "dc"
        self.current: dict[str, str] | None = None
        self.buffer: list[str] = []

    def refuse_dtd(self, *_: object) -> None:
        raise _Refused("a DTD or an entity declaration is not allowed")

    def start(self, tag: str, attributes: dict[str, str]) -> None:
        if tag == "dublin_core":
            self.schema = attributes.get("schema", "dc") or "dc"
        elif tag == "dcvalue":
            self.current, self.buffer = attributes, []

    def end(self, tag: str) -> None:
        if tag == "dcvalue" and self.current is not None:
            self.values.append((self.schema, self.current, "".join(self.buffer)))
            self.current = None

    def text(self, data: str) -> None:
        if self.current is not None:
            self.buffer.append(data)


def _read_metadata_file(item: _Item, path: Path, limits: UnpackLimits) -> None:
    try:
        values = read_dublin_core(path, limits)
    except (expat.ExpatError, ValueError) as error:
        item.problem("saf-bad-xml", N_(
            "%(file)s of the SAF item %(name)s cannot be read (%(reason)s); the item was "
            "skipped."), file=path.name, reason=str(error))
        return
    unknown: set[str] = set()
    for schema, attributes, text in values:
        _add_dc_value(item, schema, attributes, text, unknown)


def _add_dc_value(item: _Item, schema: str, attributes: dict[str, str], text: str,
                  unknown: set[str]) -> None:
    field_name = _saf_field(schema, attributes)
    template = dc_column(field_name)
    if template is None:
        if field_name not in unknown:
            unknown.add(field_name)
            item.note("saf-unknown-field", N_(
                "The field %(field)s of the SAF item %(name)s is not a Dublin Core field; its "
                "values were ignored."), field=field_name)
        return
    if not text.strip():
        return
    language = attributes.get("language", "").replace("_", "-").strip(" *") or None
    try:
        item.metadata.append(checked(Statement(template.element, "", template.qualifier,
                                               language), text))
    except InvalidInput as error:
        item.problems.append(SourceProblem.invalid("saf-invalid-value", error, item.name,
                                                   name=item.name))


def _saf_field(schema: str, attributes: dict[str, str]) -> str:
    qualifier = attributes.get("qualifier", "")
    parts = [schema, attributes.get("element", "")]
    return ".".join(parts + ([qualifier] if qualifier and qualifier != "none" else []))


def _read_contents(item: _Item, limits: UnpackLimits) -> None:
    path = item.folder / SAF_CONTENTS
    if path.stat().st_size > limits.max_xml_bytes:
        item.problem("saf-bad-contents", N_(
            "The contents file of the SAF item %(name)s is too large; the item was skipped."))
        return
    for line in path.read_text("utf-8", errors="replace").splitlines():
        if line.strip():
            _read_contents_line(item, line)


def _read_contents_line(item: _Item, line: str) -> None:
    name, *options = line.split("\t")
    settings = {key.strip().lower(): value.strip()
                for key, _, value in (option.partition(":") for option in options)}
    if settings.get("bundle", "ORIGINAL").upper() != "ORIGINAL":
        return  # thumbnails, extracted text, licences: ingest makes its own
    if name.startswith("-r "):
        item.problem("saf-registered", N_(
            "The SAF item %(name)s refers to a registered file stored elsewhere (%(file)s); put "
            "the file itself in the package. The item was skipped."), file=name)
        return
    relative = name.strip().replace("\\", "/")
    if not safe_relative(relative):
        item.problem("unsafe-path", N_(
            "The contents file of the SAF item %(name)s names %(file)s, which is outside the "
            "item folder. The item was skipped."), file=name)
        return
    found = find_path(item.folder, relative)
    if found is None or not found.is_file():
        item.problem("saf-missing-file", N_(
            "The contents file of the SAF item %(name)s lists %(file)s, which is not in the "
            "package. The item was skipped."), file=name)
        return
    item.files.append(found)


def _subfolders(root: Path) -> list[Path]:
    return sorted((entry for entry in root.iterdir() if entry.is_dir() and not is_junk(entry.name)),
                  key=natural_key)


# --- BagIt ------------------------------------------------------------------------------------

def is_bag(folder: Path) -> bool:
    """A ``bagit.txt``, or a payload folder beside a manifest (a bag that lost its bagit.txt)."""
    if (folder / "bagit.txt").is_file():
        return True
    return (folder / "data").is_dir() and any(folder.glob("manifest-*.txt"))


def plan_bag(root: Path, origin: Origin) -> tuple[list[ItemPlan], list[SourceProblem]]:
    """The bag's payload as one item if bagit finds the bag valid; else one ``bag-invalid``."""
    name = origin.name(root)
    bag, reason, respelled = validated_bag(root)
    if bag is None:
        return [], [SourceProblem("bag-invalid", N_(
            "The bag %(name)s is not valid and was refused: %(reason)s"),
            {"name": name, "reason": reason.replace(str(root), name)[:_MAX_REASON]}, name)]
    problems = [_respelled(name, entry) for entry in respelled]
    pages, page_problems = _payload_pages(root, bag, origin)
    metadata, metadata_problems = bag_info_metadata(bag.info, name)
    problems += page_problems + metadata_problems
    if not pages:
        return [], [*problems, problem_no_pages(name)]
    return [ItemPlan(name, _bag_name(root, bag.info), pages, metadata)], problems


def validated_bag(root: Path) -> tuple[bagit.Bag | None, str, list[str]]:
    """The bag at ``root`` after full validation (checksums too), or None and bagit's reason.

    The third answer lists manifest entries accepted as a second spelling of another entry.
    """
    try:
        bag = bagit.Bag(str(root))
        bag.normalized_filesystem_names = _NfcKeys(bag.normalized_filesystem_names)
        respelled = _validate(bag)
    except (bagit.BagError, OSError, UnicodeError, LookupError, ValueError) as error:
        return None, str(error), []
    declaration = _declaration_problem(root / "bagit.txt")
    return (None, declaration, []) if declaration else (bag, "", respelled)


class _NfcKeys(dict):
    """bagit keys the files it found by their NFC name but looks manifest names up unnormalized,
    so a bag made on a Mac (NFD names) fails its checksums on Linux: look up by NFC too."""

    def get(self, key, default=None):
        return super().get(nfc(key), default)


def _validate(bag: bagit.Bag) -> list[str]:
    """Validate; a bag whose only fault is listing one file twice, spelt differently in capitals
    (made on a case-blind disk), is what the conformance suite calls a warning: accept it."""
    try:
        bag.validate()
        return []
    except bagit.BagValidationError as error:
        respelled = _respellings(bag, error.details or [])
        if not respelled:
            raise
    for entry in respelled:
        del bag.entries[entry]
    bag.validate()
    return respelled


def _respellings(bag: bagit.Bag, details: list[bagit.BagError]) -> list[str]:
    respelled = []
    for detail in details:
        if not isinstance(detail, bagit.FileMissing):
            return []
        twin = next((entry for entry in bag.entries if entry != detail.path
                     and _loose(entry) == _loose(detail.path)
                     and os.path.isfile(os.path.join(bag.path, entry))), None)
        if twin is None or bag.entries[twin] != bag.entries.get(detail.path):
            return []
        respelled.append(detail.path)
    return respelled


def _loose(name: str) -> str:
    return nfc(name).casefold()


def _respelled(name: str, entry: str) -> SourceProblem:
    return SourceProblem("bag-respelled", N_(
        "The bag %(name)s lists %(file)s, a second spelling (capitals or accents) of a file it "
        "already lists with the same checksum; the bag was accepted."),
        {"name": name, "file": nfc(entry)}, name)


def _declaration_problem(path: Path) -> str | None:
    """bagit-python lets ``BagIt-Version : 1.0`` through; RFC 8493 allows no such whitespace."""
    for line in path.read_text("utf-8", errors="replace").splitlines():
        if line.strip() and not _BAGIT_DECLARATION.match(line):
            return f"bagit.txt: {line.strip()!r} is not a declaration of the form 'Label: value'"
    return None


def _payload_pages(root: Path, bag: bagit.Bag, origin: Origin
                   ) -> tuple[list[Path], list[SourceProblem]]:
    pages: list[Path] = []
    problems: list[SourceProblem] = []
    for relative in sorted(bag.payload_files(), key=natural_key):
        path = root / relative
        if any(is_junk(part) for part in Path(relative).parts):
            continue
        if is_page_file(path):
            pages.append(path)
        else:
            problems.append(not_a_page(origin.name(path)))
    return pages, problems


def bag_info_metadata(info: dict[str, str | list[str]], name: str
                      ) -> tuple[list[Statement], list[SourceProblem]]:
    """Dublin Core suggested by ``bag-info.txt``: the RFC's labels above, and labels that are DC
    element names (``Title``, ``DC-Creator``). Other labels (contacts, sizes) are bag business."""
    metadata: list[Statement] = []
    problems: list[SourceProblem] = []
    for label, values in info.items():
        key = label.strip().lower()
        template = BAG_INFO_FIELDS.get(key) or dc_column(re.sub(r"^dc-", "dc.", key))
        for value in ([values] if isinstance(values, str) else values) if template else []:
            try:
                metadata.append(checked(template, " ".join(value.split())))
            except InvalidInput as error:
                problems.append(SourceProblem.invalid("bag-invalid-value", error, name,
                                                      name=name, field=label))
    return unique(metadata), problems


def _bag_name(root: Path, info: dict[str, str | list[str]]) -> str:
    identifier = info.get("External-Identifier")
    if isinstance(identifier, str) and identifier.strip():
        return nfc(identifier.strip())
    return nfc(root.name)

