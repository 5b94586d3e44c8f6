"""The demo collection: a few Vietnamese pages rendered at set-up, so the portal is never empty."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select
from sqlalchemy.orm import Session

import storage
from repository import collections, items
from repository.access_rules import RuleChange, set_rule
from repository.dublin_core import Statement
from repository.files import add_file
from repository.models import AccessLevel, Collection, FileRole, ItemStatus, Page

CONTENT = Path(__file__).with_name("demo_collection.json")
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
    "/usr/share/fonts/truetype/noto/NotoSerif-Regular.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
)
PAGE_SIZE = (1240, 1754)        # A5 at 300 dpi
THUMBNAIL_WIDTH = 240


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
    font = _font()
    with tempfile.TemporaryDirectory(prefix="khoso-demo-") as work:
        for entry in content["items"]:
            statements = [Statement(element, value, language=language)
                          for element, value, language in entry["metadata"]]
            statements.append(Statement("format", "image/png"))
            item = items.create_item(session, collection, statements)
            for sequence, lines in enumerate(entry["pages"], start=1):
                _add_page(session, store, item, sequence, lines, font, Path(work))
            items.change_status(session, item, ItemStatus.PUBLISHED)
    return collection


def _add_page(session, store, item, sequence: int, lines: list[str], font, work: Path) -> None:
    page = Page(item=item, sequence=sequence, label=str(sequence), width=PAGE_SIZE[0],
                height=PAGE_SIZE[1], text="\n".join(lines))
    session.add(page)
    master = work / f"{item.handle}-{sequence}.png"
    thumbnail = work / f"{item.handle}-{sequence}.jpg"
    image = render_page(lines, font, sequence)
    image.save(master, dpi=(300, 300))
    image.thumbnail((THUMBNAIL_WIDTH, THUMBNAIL_WIDTH * 2))
    image.convert("RGB").save(thumbnail, quality=85)
    add_file(session, store, item, FileRole.MASTER, master, media_type="image/png",
             extension="png", page=page)
    add_file(session, store, item, FileRole.THUMBNAIL, thumbnail, media_type="image/jpeg",
             extension="jpg", page=page)


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
