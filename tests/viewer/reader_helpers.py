"""Items to read, made on the fly: page images with hOCR, a searchable PDF, access rules.

Also used by bench/reader_bench.py (a 300-page PDF, a 1,000-page item).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw
from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    EncodedStreamObject,
    NameObject,
    NumberObject,
)

from repository import collections, items
from repository.access_rules import RuleChange, set_rule
from repository.dublin_core import Statement
from repository.files import add_file
from repository.models import AccessLevel, FileRole, ItemStatus, Page

RESOURCES = Path(__file__).resolve().parent.parent / "resources" / "reader"
HOCR_PAGE = RESOURCES / "gazetteer-page.hocr"
HOCR_IMAGE = RESOURCES / "gazetteer-page.png"
HOCR_TEXT = ("ĐỊA CHÍ TỈNH BẮC NINH\nNăm 1938, huyện Tiên Du có\nmười bảy làng ven sông Đuống.\n"
             "Bản đồ các làng ở trang sau.\nNguyễn Du viết Truyện Kiều.")
A5 = (420, 595)


def text_pdf(path: Path, pages: Sequence[Sequence[str]], *, image_size: tuple[int, int] | None
             = None, quality: int = 40) -> Path:
    """A PDF whose pages carry ``pages``' lines in Helvetica (so pypdf can extract them) and,
    when ``image_size`` is given, a grey scanned-looking JPEG under the text, as scans have."""
    writer = PdfWriter()
    font = writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica")}))
    for number, lines in enumerate(pages, start=1):
        page = writer.add_blank_page(*A5)
        resources = {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
        drawing = b""
        if image_size is not None:
            resources[NameObject("/XObject")] = DictionaryObject(
                {NameObject("/Im1"): writer._add_object(_jpeg_xobject(number, image_size,
                                                                      quality))})
            drawing = f"q {A5[0]} 0 0 {A5[1]} 0 0 cm /Im1 Do Q\n".encode()
        text = "\n".join(f"BT /F1 14 Tf 40 {A5[1] - 60 - 22 * index} Td ({line}) Tj ET"
                         for index, line in enumerate(lines))
        content = DecodedStreamObject()
        content.set_data(drawing + text.encode("latin-1"))
        page[NameObject("/Contents")] = writer._add_object(content)
        page[NameObject("/Resources")] = DictionaryObject(resources)
    with path.open("wb") as out:
        writer.write(out)
    return path


def _jpeg_xobject(number: int, size: tuple[int, int], quality: int) -> EncodedStreamObject:
    image = Image.effect_noise(size, 24).point(lambda value: 150 + value // 3)
    draw = ImageDraw.Draw(image)
    for row in range(60, size[1] - 40, 28):
        draw.rectangle((40, row, size[0] - 40 - (row * number) % 90, row + 10), fill=60)
    data = io.BytesIO()
    image.save(data, "JPEG", quality=quality)
    stream = EncodedStreamObject()
    stream._data = data.getvalue()
    stream.update({
        NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Image"),
        NameObject("/Width"): NumberObject(size[0]), NameObject("/Height"): NumberObject(size[1]),
        NameObject("/ColorSpace"): NameObject("/DeviceGray"),
        NameObject("/BitsPerComponent"): NumberObject(8),
        NameObject("/Filter"): ArrayObject([NameObject("/DCTDecode")])})
    return stream


def page_image(path: Path, size: tuple[int, int], shade: int = 235) -> Path:
    """A plain page with a dark band, as PNG."""
    image = Image.new("L", size, shade)
    ImageDraw.Draw(image).rectangle((size[0] // 10, size[1] // 10, size[0] // 2,
                                     size[1] // 8), fill=40)
    image.save(path)
    return path


@dataclass
class Book:
    """What a test needs of a made item: its handle, page uids, file ids by role."""

    handle: str
    uids: list[str] = field(default_factory=list)
    files: dict[FileRole, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Rights:
    view: AccessLevel = AccessLevel.OPEN
    download: AccessLevel = AccessLevel.OPEN
    watermark: bool = False
    groups: tuple[str, ...] = ()


def make_book(session, store, work: Path, *, title: str, rights: Rights = Rights(),
              pages: int = 3, slug: str = "dia-chi", with_pdf: bool = True) -> Book:
    """A published item: page 2 is the OCR'd gazetteer page with its hOCR, the others plain
    pages; a searchable PDF of all pages; the uploaded original."""
    item = items.create_item(session, _collection(session, slug), [
        Statement("title", title, language="vi"), Statement("title", "Gazetteer", language="en"),
        Statement("creator", "Sở Học chính"), Statement("date", "1938"),
        Statement("language", "vi")])
    book = Book(item.handle)
    for number in range(1, pages + 1):
        _add_page(session, store, item, number, work, book)
    made = [add_file(session, store, item, FileRole.ORIGINAL, HOCR_IMAGE,
                     media_type="image/png", extension="png", original_name="bản gốc.png")]
    if with_pdf:
        lines = [["Dia chi tinh Bac Ninh", f"Trang {number}"] for number in range(1, pages + 1)]
        made.append(add_file(session, store, item, FileRole.PDF,
                             text_pdf(work / f"{item.handle}.pdf", lines),
                             media_type="application/pdf", extension="pdf"))
    session.flush()
    book.files.update({stored.role: stored.id for stored in made})
    set_rule(session, None, RuleChange(
        metadata=AccessLevel.OPEN, view=rights.view, download=rights.download,
        groups=list(rights.groups), watermark=rights.watermark), item=item)
    items.change_status(session, item, ItemStatus.PUBLISHED)
    return book


def _collection(session, slug: str):
    from sqlalchemy import select

    from repository.models import Collection
    found = session.scalar(select(Collection).where(Collection.slug == slug))
    if found is None:
        found = collections.create_collection(session, slug=slug, title="Địa chí")
        set_rule(session, None, RuleChange(metadata=AccessLevel.OPEN), collection=found)
    return found


def _thumbnail(master: Path, work: Path, number: int) -> Path:
    path = work / f"thumb-{master.stem}-{number}.jpg"
    with Image.open(master) as image:
        image.thumbnail((240, 480))
        image.convert("RGB").save(path, quality=80)
    return path


def _add_page(session, store, item, number: int, work: Path, book: Book) -> None:
    if number == 2:
        master, text = HOCR_IMAGE, HOCR_TEXT
        size = (1200, 700)
    else:
        size = (600, 850)
        master = page_image(work / f"{item.handle}-{number}.png", size)
        text = f"Trang {number} của địa chí."
    page = Page(item=item, sequence=number, label=str(number), width=size[0], height=size[1],
                text=text)
    session.add(page)
    add_file(session, store, item, FileRole.MASTER, master, media_type="image/png",
             extension="png", page=page)
    add_file(session, store, item, FileRole.THUMBNAIL, _thumbnail(master, work, number),
             media_type="image/jpeg", extension="jpg", page=page)
    if number == 2:
        add_file(session, store, item, FileRole.HOCR, HOCR_PAGE, media_type="text/vnd.hocr+html",
                 extension="html", page=page)
    session.flush()
    book.uids.append(page.uid)


PASSWORD = "mat-khau-doc-gia-1"
CARD = "HT-0042"
TITLE = "Địa chí tỉnh"
BOOKS = (
    ("open", TITLE, Rights()),
    ("view-only", "Chỉ xem", Rights(download=AccessLevel.GROUPS, groups=("researchers",))),
    ("readers", "Bạn đọc", Rights(view=AccessLevel.READERS, download=AccessLevel.READERS)),
    ("watermark", "Có dấu", Rights(download=AccessLevel.READERS, watermark=True)),
    ("staff", "Nội bộ", Rights(view=AccessLevel.STAFF, download=AccessLevel.STAFF)),
)


def reading_library(session, store, work: Path, pages: int = 3) -> dict[str, Book]:
    """Readers (``docgia`` with card CARD, ``nghiencuu`` in the researchers group, staff
    ``thuthu``) and one book per kind of rights in BOOKS; the open one has ``pages`` pages,
    the others three."""
    from argon2 import PasswordHasher

    from repository import accounts
    from repository.models import Group, Role

    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)   # tests need no cost
    group = Group(name="researchers", title="Nhà nghiên cứu")
    session.add(group)
    session.flush()
    for username, role, card in (("docgia", Role.READER, CARD),
                                 ("nghiencuu", Role.READER, "HT-0077"),
                                 ("thuthu", Role.STAFF, None)):
        user = accounts.create_user(session, username=username, password=PASSWORD, role=role,
                                    card_number=card, hasher=cheap)
        if username == "nghiencuu":
            user.groups.append(group)
    return {name: make_book(session, store, work, title=title, rights=rights,
                            pages=pages if name == "open" else 3)
            for name, title, rights in BOOKS}
