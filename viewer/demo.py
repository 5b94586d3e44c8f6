"""The demo collection: a few Vietnamese pages rendered at set-up, so the portal is never empty.

The pages go through the ingest pipeline like any upload (a folder of page images and a CSV
manifest, planned, processed and published), without OCR: the text is known, and set-up must stay
quick. Everything happens in the caller's transaction: the demo appears whole or not at all.
"""

from __future__ import annotations

import csv
import json
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select
from sqlalchemy.orm import Session

import storage
from ingest.config import IngestSettings
from ingest.services import BatchInput, open_batch, plan_into, ready_jobs
from ingest.tasks import Runtime, run_serially
from ingest.work import Bound
from repository import collections, items
from repository.access_rules import RuleChange, set_rule
from repository.models import AccessLevel, Collection, IngestBatch, IngestTask, Item, ItemStatus

CONTENT = Path(__file__).with_name("demo_collection.json")
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
    "/usr/share/fonts/truetype/noto/NotoSerif-Regular.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
)
PAGE_SIZE = (1240, 1754)        # A5 at 300 dpi


def load_demo(session: Session, store: storage.ObjectStore) -> Collection | None:
    """Create the demo collection and its published items; None when it exists already."""
    content = json.loads(CONTENT.read_text(encoding="utf-8"))
    spec = content["collection"]
    if session.scalar(select(Collection.id).where(Collection.slug == spec["slug"])):
        return None
    collection = collections.create_collection(
        session, slug=spec["slug"], title=spec["title"], title_en=spec["title_en"],
        description=spec["description"])
    collection.description_en = spec["description_en"]
    # Open to everyone: reading and downloading need no account.
    set_rule(session, None, RuleChange(metadata=AccessLevel.OPEN, view=AccessLevel.OPEN,
                                       download=AccessLevel.OPEN), collection=collection)
    with tempfile.TemporaryDirectory(prefix="khoso-demo-") as work:
        batch = _ingest(session, store, collection, content["items"], Path(work))
        _publish(session, batch, content["items"])
    return collection


def _ingest(session: Session, store: storage.ObjectStore, collection: Collection,
            entries: list[dict], work: Path) -> IngestBatch:
    manifest = write_pages(entries, work / "demo", _font())
    db = Bound(session, commit=False)
    settings = IngestSettings(work_root=work / "ingest")
    batch = open_batch(session, collection, manifest.name, actor=None,
                       options={"ocr": False, "deskew": False},
                       work_root=settings.work_root)
    plan_into(session, batch, BatchInput([manifest.parent], manifest), limits=settings.limits)
    run_serially(Runtime(settings, db, store, ocr=False), ready_jobs(db, batch.id))
    return batch


def _publish(session: Session, batch: IngestBatch, entries: list[dict]) -> None:
    """Give each page its known text (no OCR ran), then publish the items in order."""
    made = select(IngestTask.item_id).where(IngestTask.batch_id == batch.id,
                                            IngestTask.kind == "item")
    found = session.scalars(select(Item).where(Item.id.in_(made)).order_by(Item.id))
    for item, entry in zip(found, entries, strict=True):
        for page, lines in zip(item.pages, entry["pages"], strict=True):
            page.text = "\n".join(lines)
        items.change_status(session, item, ItemStatus.PUBLISHED)
    session.flush()


def write_pages(entries: list[dict], folder: Path, font: ImageFont.FreeTypeFont) -> Path:
    """Each item's pages as PNG files and a CSV manifest that describes the items."""
    folder.mkdir(parents=True)
    columns = _columns(entries)
    rows = []
    for number, entry in enumerate(entries, start=1):
        names = []
        for sequence, lines in enumerate(entry["pages"], start=1):
            names.append(f"{number}/trang-{sequence}.png")
            (folder / str(number)).mkdir(exist_ok=True)
            render_page(lines, font, sequence).save(folder / names[-1], dpi=(300, 300))
        rows.append({"files": ";".join(names), **_cells(entry["metadata"], columns)})
    manifest = folder / "manifest.csv"
    with manifest.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["files", *columns])
        writer.writeheader()
        writer.writerows(rows)
    return manifest


def _column(element: str, language: str | None) -> str:
    return f"dc.{element}[{language}]" if language else f"dc.{element}"


def _columns(entries: list[dict]) -> list[str]:
    names = [_column(element, language) for entry in entries
             for element, _value, language in entry["metadata"]]
    return [*dict.fromkeys(names), "dc.format"]


def _cells(metadata: list, columns: list[str]) -> dict[str, str]:
    cells: dict[str, list[str]] = {name: [] for name in columns}
    for element, value, language in metadata:
        cells[_column(element, language)].append(value)
    cells["dc.format"] = ["image/png"]
    return {name: "||".join(values) for name, values in cells.items()}


def render_page(lines: list[str], font: ImageFont.FreeTypeFont, number: int) -> Image.Image:
    """A page of printed text on old paper, with a page number."""
    image = Image.new("L", PAGE_SIZE, 236)
    draw = ImageDraw.Draw(image)
    left, top, leading = 130, 170, int(font.size * 1.7)
    for index, line in enumerate(lines):
        draw.text((left, top + index * leading), line, font=font, fill=28)
    draw.text((PAGE_SIZE[0] // 2, PAGE_SIZE[1] - 120), f"- {number} -", font=font, fill=60,
              anchor="mm")
    return image


def _font(size: int = 44) -> ImageFont.FreeTypeFont:
    for candidate in FONT_CANDIDATES:
        if Path(candidate).exists():
            return ImageFont.truetype(candidate, size)
    raise FileNotFoundError(
        "no font with Vietnamese letters found; install it with: apt-get install fonts-dejavu-core")

