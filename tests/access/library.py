"""A library for the access matrix: one item per policy, readers of every kind, reading room.

Every item carries a unique marker in its title (metadata) and in its page text (content), so
a response can be checked for what it reveals."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select

from repository import accounts, collections, items
from repository.access_rules import RuleChange, set_reading_room, set_rule
from repository.dublin_core import Statement
from repository.files import add_file
from repository.models import (
    AccessLevel,
    FileRole,
    Group,
    ItemStatus,
    Page,
    Role,
    User,
)
from viewer.extensions import parts

OPEN, READERS, GROUPS, ONSITE, STAFF = (AccessLevel.OPEN, AccessLevel.READERS, AccessLevel.GROUPS,
                                        AccessLevel.ONSITE, AccessLevel.STAFF)
PASSWORD = "mat-khau-kiem-thu-1"
ONSITE_ADDRESS = "10.20.0.5"
OFFSITE_ADDRESS = "203.0.113.9"


@dataclass(frozen=True)
class PolicyCase:
    name: str
    metadata: AccessLevel = OPEN
    view: AccessLevel = OPEN
    download: AccessLevel = OPEN
    embargo: bool = False
    status: ItemStatus = ItemStatus.PUBLISHED
    watermark: bool = False


POLICIES = (
    PolicyCase("open"),
    PolicyCase("view-readers", view=READERS, download=READERS),
    PolicyCase("download-staff", download=STAFF),
    PolicyCase("groups", metadata=READERS, view=GROUPS, download=GROUPS),
    PolicyCase("onsite", view=ONSITE, download=ONSITE),
    PolicyCase("metadata-onsite", metadata=ONSITE, view=ONSITE, download=ONSITE),
    PolicyCase("view-staff", view=STAFF, download=STAFF),
    PolicyCase("staff-only", metadata=STAFF, view=STAFF, download=STAFF),
    PolicyCase("embargoed", embargo=True),
    PolicyCase("draft", status=ItemStatus.DRAFT),
    PolicyCase("withdrawn", status=ItemStatus.WITHDRAWN),
)


@dataclass(frozen=True)
class ReaderCase:
    name: str
    username: str | None
    address: str = OFFSITE_ADDRESS


READER_CASES = (
    ReaderCase("anonymous", None),
    ReaderCase("anonymous-onsite", None, ONSITE_ADDRESS),
    ReaderCase("reader", "docgia"),
    ReaderCase("reader-onsite", "docgia", ONSITE_ADDRESS),
    ReaderCase("group-member", "nghiencuu"),
    ReaderCase("expired-reader", "hethan"),
    ReaderCase("staff", "canbo"),
    ReaderCase("admin", "quantri"),
)


@dataclass
class Fixture:
    """What the URL builders need: per policy the item's handle, page uid, file ids."""

    handle: dict[str, str] = field(default_factory=dict)
    page_uid: dict[str, str] = field(default_factory=dict)
    files: dict[str, dict[FileRole, int]] = field(default_factory=dict)


def title_marker(policy: str) -> str:
    return f"Tieu de {policy.replace('-', '')} QWZX"


def text_marker(policy: str) -> str:
    return f"noidung{policy.replace('-', '')}kqvj"


def build(app, work_dir) -> Fixture:
    fixture = Fixture()
    with app.app_context(), parts().db.session() as session:
        _people(session)
        set_reading_room(session, None, "Phòng đọc", ["10.20.0.0/16"])
        collection = collections.create_collection(session, slug="ma-tran", title="Ma trận")
        set_rule(session, None, RuleChange(metadata=OPEN, view=OPEN, download=OPEN),
                 collection=collection)
        for case in POLICIES:
            _item(session, collection, case, fixture, work_dir)
    return fixture


def _people(session) -> None:
    session.add(Group(name="researchers", title="Nhà nghiên cứu"))
    session.flush()
    specs = [("docgia", Role.READER, {}), ("nghiencuu", Role.READER, {}),
             ("hethan", Role.READER, {"expires_on": date.today() - timedelta(days=2)}),
             ("canbo", Role.STAFF, {}), ("quantri", Role.ADMIN, {})]
    for username, role, extra in specs:
        accounts.create_user(session, username=username, password=PASSWORD, role=role,
                             card_number=f"HT-{username.upper()}", **extra)
    member = session.scalar(select(User).where(User.username == "nghiencuu"))
    member.groups.append(session.scalar(select(Group).where(Group.name == "researchers")))


def _item(session, collection, case: PolicyCase, fixture: Fixture, work_dir) -> None:
    item = items.create_item(session, collection, [
        Statement("title", title_marker(case.name)), Statement("type", f"Loai{case.name}"),
        Statement("date", "1938")])
    page = Page(item=item, sequence=1, text=f"Trang có {text_marker(case.name)} ở đây",
                width=40, height=60)
    session.add(page)
    session.flush()
    fixture.handle[case.name] = item.handle
    fixture.page_uid[case.name] = page.uid
    fixture.files[case.name] = _files(session, item, page, work_dir)
    set_rule(session, None, RuleChange(
        metadata=case.metadata, view=case.view, download=case.download,
        groups=["researchers"], watermark=case.watermark,
        embargo_until=date.today() + timedelta(days=30) if case.embargo else None), item=item)
    if case.status is not ItemStatus.DRAFT:
        items.change_status(session, item, ItemStatus.PUBLISHED)
    if case.status is ItemStatus.WITHDRAWN:
        items.change_status(session, item, ItemStatus.WITHDRAWN, reason="ma trận")


def _files(session, item, page, work_dir) -> dict[FileRole, int]:
    from PIL import Image
    image = work_dir / f"{item.handle}.png"
    Image.new("L", (40, 60), 200).save(image)
    thumbnail = work_dir / f"{item.handle}.jpg"
    Image.new("RGB", (20, 30), (200, 180, 150)).save(thumbnail)
    pdf = work_dir / f"{item.handle}.pdf"
    pdf.write_bytes(b"%PDF-1.4\n% " + item.handle.encode() + b"\n%%EOF\n")
    made = {
        FileRole.MASTER: add_file(session, parts().store, item, FileRole.MASTER, image,
                                  media_type="image/png", extension="png", page=page),
        FileRole.DERIVATIVE: add_file(session, parts().store, item, FileRole.DERIVATIVE, image,
                                      media_type="image/png", extension="png", page=page),
        FileRole.THUMBNAIL: add_file(session, parts().store, item, FileRole.THUMBNAIL,
                                     thumbnail, media_type="image/jpeg", extension="jpg",
                                     page=page),
        FileRole.PDF: add_file(session, parts().store, item, FileRole.PDF, pdf,
                               media_type="application/pdf", extension="pdf"),
    }
    session.flush()
    return {role: record.id for role, record in made.items()}
