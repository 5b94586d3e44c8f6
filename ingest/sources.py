"""The first stage of ingest: unpack a batch into a plain, typed work list (no database, no pixels).

``plan_batch`` tells what it was given by its content: a ZIP by its magic bytes (unpacked safely,
then read as any folder), a BagIt bag by ``bagit.txt``, a CSV manifest, a DSpace Simple Archive
Format package by its item folders, folders of page images, or one PDF or image. The answer is a
``BatchPlan``: the items that can go on and a problem for every file, row or package that cannot.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ingest.archives import is_zip, unpack_zip
from ingest.errors import IngestError, UnsupportedFormat
from ingest.identify import HEAD_BYTES, sniff
from ingest.manifest import plan_manifest
from ingest.packages import is_bag, plan_bag, plan_saf, saf_item_folders
from ingest.plan import (
    PAGE_SUFFIXES,
    BatchPlan,
    ItemPlan,
    Origin,
    SourceProblem,
    UnpackLimits,
    is_junk,
    natural_key,
    nfc,
    not_a_page,
    page_files,
    problem_no_pages,
)
from repository.errors import N_

__all__ = ["BatchPlan", "ItemPlan", "SourceProblem", "UnpackLimits", "plan_batch"]

MANIFEST_SUFFIXES = (".csv",)


def plan_batch(path: Path, *, manifest: Path | None = None, work_dir: Path,
               limits: UnpackLimits = UnpackLimits()) -> BatchPlan:
    """What the batch at ``path`` holds; a ZIP is unpacked under ``work_dir``.

    ``manifest`` names a CSV that came beside the batch; its file names are looked up in the
    batch first, then beside the manifest. Without it, a single CSV at the top of a folder or ZIP
    is the manifest.
    """
    if path.is_dir():
        plan = _plan_folder(Origin(path, nfc(path.name)), manifest, limits)
    elif is_zip(path):
        plan = _plan_zip(path, manifest, work_dir, limits)
    elif manifest is not None or path.suffix.lower() in MANIFEST_SUFFIXES:
        plan = _plan_manifest(Origin(path.parent, ""), path.parent, manifest or path, limits)
        plan.source = nfc(path.name)
    else:
        plan = _plan_file(path)
    if not plan.items and not plan.problems:
        plan.problems.append(problem_no_pages(plan.source))
    return plan


def _plan_zip(path: Path, manifest: Path | None, work_dir: Path, limits: UnpackLimits
              ) -> BatchPlan:
    name = nfc(path.name)
    work_dir.mkdir(parents=True, exist_ok=True)
    target = Path(tempfile.mkdtemp(prefix="unzipped-", dir=work_dir))
    unpacked, problems = unpack_zip(path, target, limits, name)
    if not unpacked:
        return BatchPlan(name, "zip", problems=problems)
    plan = _plan_folder(Origin(target, name), manifest, limits)
    plan.problems[:0] = problems
    return plan


def _plan_folder(origin: Origin, manifest: Path | None, limits: UnpackLimits) -> BatchPlan:
    root = _unwrap(origin.root)
    if is_bag(root):
        return BatchPlan(origin.label, "bag", *plan_bag(root, origin))
    manifests = [manifest] if manifest else _manifests_in(root)
    if len(manifests) > 1:
        return BatchPlan(origin.label, "manifest", problems=[_ambiguous(origin, manifests)])
    if manifests:
        return _plan_manifest(origin, root, manifests[0], limits)
    if saf_item_folders(root):
        return BatchPlan(origin.label, "saf", *plan_saf(root, origin, limits))
    return BatchPlan(origin.label, "folder", *_plan_page_folders(root, origin))


def _plan_manifest(origin: Origin, root: Path, manifest: Path, limits: UnpackLimits
                   ) -> BatchPlan:
    wrappers = [root, *(folder for folder in root.parents if folder.is_relative_to(origin.root))]
    bases = list(dict.fromkeys([*wrappers, manifest.parent]))
    items, problems = plan_manifest(manifest, bases=bases, name=origin.name(manifest),
                                    limits=limits)
    return BatchPlan(origin.label, "manifest", items, problems)


def _plan_page_folders(root: Path, origin: Origin) -> tuple[list[ItemPlan], list[SourceProblem]]:
    """One item per folder that holds page files, in natural order, nested folders included."""
    items: list[ItemPlan] = []
    problems: list[SourceProblem] = []
    for directory, subfolders, _ in os.walk(root):
        subfolders[:] = sorted((name for name in subfolders if not is_junk(name)),
                               key=natural_key)
        folder = Path(directory)
        pages, others = page_files(folder)
        problems += [not_a_page(origin.name(other)) for other in others]
        if pages:
            items.append(ItemPlan(origin.name(folder), _folder_name(folder, origin), pages))
    return items, problems


def _plan_file(path: Path) -> BatchPlan:
    """One PDF or image is one item; anything else that is recognised is refused by name."""
    name = nfc(path.name)
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    try:
        kind = "pdf" if sniff(head) == "pdf" else "image"
    except UnsupportedFormat:
        if path.suffix.lower() not in PAGE_SUFFIXES:
            return BatchPlan(name, "unsupported", problems=[_unsupported(name)])
        kind = "file"
    except IngestError:  # damaged or empty: the identify stage says how, as for any page
        kind = "file"
    return BatchPlan(name, kind, [ItemPlan(name, name, [path])])


def _unwrap(root: Path) -> Path:
    """Skip folders that only wrap one folder (``scans.zip/scans/...``, ``saf/item_000/``)."""
    while True:
        entries = [entry for entry in root.iterdir() if not is_junk(entry.name)]
        if len(entries) != 1 or not entries[0].is_dir() or entries[0].is_symlink():
            return root
        root = entries[0]


def _manifests_in(root: Path) -> list[Path]:
    return sorted((entry for entry in root.iterdir() if entry.is_file()
                   and not is_junk(entry.name) and entry.suffix.lower() in MANIFEST_SUFFIXES),
                  key=natural_key)


def _folder_name(folder: Path, origin: Origin) -> str:
    if folder == origin.root:
        return nfc(Path(origin.label).stem if origin.label.lower().endswith(".zip")
                   else origin.label)
    return nfc(folder.name)


def _ambiguous(origin: Origin, manifests: list[Path]) -> SourceProblem:
    names = ", ".join(origin.name(path) for path in manifests)
    return SourceProblem("manifest-ambiguous", N_(
        "%(name)s holds several CSV files (%(files)s); keep one manifest, or say which one it "
        "is."), {"name": origin.label, "files": names}, origin.label)


def _unsupported(name: str) -> SourceProblem:
    return SourceProblem("unsupported", N_(
        "%(name)s cannot be ingested: send page images (TIFF, JPEG, PNG, JPEG 2000), a PDF, a "
        "ZIP file, a CSV manifest, a DSpace SAF package or a BagIt bag."), {"name": name}, name)
