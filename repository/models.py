"""SQLAlchemy models of the repository: collections, items, Dublin Core, files, pages, people."""

from __future__ import annotations

import enum
import secrets
import uuid
from datetime import UTC, date, datetime
from typing import Annotated, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# The fifteen elements of the Dublin Core Metadata Element Set 1.1.
DC_ELEMENTS = (
    "contributor", "coverage", "creator", "date", "description", "format", "identifier",
    "language", "publisher", "relation", "rights", "source", "subject", "title", "type",
)

def utcnow() -> datetime:
    return datetime.now(UTC)

class UTCDateTime(TypeDecorator):
    """Timestamps stored as naive UTC and always returned timezone-aware (SQLite keeps no zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC timestamp is expected")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)

def new_handle() -> str:
    """A short, unguessable, permanent identifier for an item (lowercase base32, 12 chars)."""
    alphabet = "0123456789abcdefghjkmnpqrstvwxyz"
    return "".join(secrets.choice(alphabet) for _ in range(12))

intpk = Annotated[int, mapped_column(primary_key=True)]
created_at = Annotated[datetime, mapped_column(UTCDateTime, default=utcnow)]
updated_at = Annotated[datetime, mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)]
str255 = Annotated[str, mapped_column(String(255))]

def enum_column(enum_class: type[enum.Enum], **kwargs: Any):
    """Enums are stored as their values in a VARCHAR, the same on SQLite and PostgreSQL."""
    return mapped_column(
        Enum(enum_class, native_enum=False, length=32, validate_strings=True,
             values_callable=lambda members: [m.value for m in members]),
        **kwargs,
    )

class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)

class Collection(Base):
    """A node of the collection tree; items belong to exactly one collection."""

    __tablename__ = "collections"

    id: Mapped[intpk]
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("collections.id", ondelete="RESTRICT"))
    title: Mapped[str255]
    title_en: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]

    parent: Mapped[Collection | None] = relationship(
        back_populates="children", remote_side="Collection.id")
    children: Mapped[list[Collection]] = relationship(
        back_populates="parent", order_by="Collection.position, Collection.title")
    items: Mapped[list[Item]] = relationship(back_populates="collection")

    def label(self, locale: str) -> str:
        return self.title_en if locale == "en" and self.title_en else self.title

class ItemStatus(enum.Enum):
    DRAFT = "draft"
    REVIEW = "review"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"

class Item(Base):
    """A described work (book, newspaper issue, map, record) with its pages and files."""

    __tablename__ = "items"

    id: Mapped[intpk]
    handle: Mapped[str] = mapped_column(String(32), unique=True, default=new_handle)
    collection_id: Mapped[int] = mapped_column(
        ForeignKey("collections.id", ondelete="RESTRICT"), index=True)
    status: Mapped[ItemStatus] = enum_column(ItemStatus, default=ItemStatus.DRAFT, index=True)
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawal_reason: Mapped[str] = mapped_column(Text, default="")
    # The access rule in force: the item's own, else its collection's or the nearest ancestor's.
    # Kept up to date by repository.access_rules.refresh_effective_rules; None means staff only.
    effective_rule_id: Mapped[int | None] = mapped_column(
        ForeignKey("access_rules.id", ondelete="SET NULL", use_alter=True), index=True)

    collection: Mapped[Collection] = relationship(back_populates="items")
    effective_rule: Mapped[AccessRule | None] = relationship(foreign_keys=[effective_rule_id])
    dc_values: Mapped[list[DCValue]] = relationship(
        back_populates="item", cascade="all, delete-orphan",
        order_by="DCValue.element, DCValue.position")
    pages: Mapped[list[Page]] = relationship(
        back_populates="item", cascade="all, delete-orphan", order_by="Page.sequence")
    files: Mapped[list[ItemFile]] = relationship(
        back_populates="item", cascade="all, delete-orphan", order_by="ItemFile.id")

    def values(self, element: str, qualifier: str | None = None) -> list[str]:
        return [v.value for v in self.dc_values
                if v.element == element and (qualifier is None or v.qualifier == qualifier)]

    def first(self, element: str, default: str = "") -> str:
        found = self.values(element)
        return found[0] if found else default

    @property
    def title(self) -> str:
        return self.first("title")

class DCValue(Base):
    """One Dublin Core statement about an item: element, optional qualifier, value, language."""

    __tablename__ = "dc_values"
    __table_args__ = (Index("ix_dc_values_item_element", "item_id", "element"),)

    id: Mapped[intpk]
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    element: Mapped[str] = mapped_column(String(32))
    qualifier: Mapped[str | None] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(default=0)

    item: Mapped[Item] = relationship(back_populates="dc_values")

class Page(Base):
    """One page (canvas) of an item, in reading order, with its recognised text."""

    __tablename__ = "pages"
    __table_args__ = (UniqueConstraint("item_id", "sequence", name="uq_pages_item_sequence"),)

    id: Mapped[intpk]
    # The page's public, permanent identifier (the IIIF image identifier): a UUID.
    uid: Mapped[str] = mapped_column(String(64), unique=True, default=lambda: str(uuid.uuid4()))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    sequence: Mapped[int]
    label: Mapped[str] = mapped_column(String(64), default="")
    width: Mapped[int] = mapped_column(default=0)
    height: Mapped[int] = mapped_column(default=0)
    text: Mapped[str] = mapped_column(Text, default="")
    ocr_confidence: Mapped[float | None] = mapped_column(Float)

    item: Mapped[Item] = relationship(back_populates="pages")
    files: Mapped[list[ItemFile]] = relationship(back_populates="page", order_by="ItemFile.id")

class FileRole(enum.Enum):
    ORIGINAL = "original"      # the file as the staff uploaded it
    MASTER = "master"          # the normalised preservation image of a page
    DERIVATIVE = "derivative"  # web-sized page image for the viewer
    THUMBNAIL = "thumbnail"
    PDF = "pdf"                # the searchable PDF of the whole item
    TEXT = "text"
    HOCR = "hocr"

class ItemFile(Base):
    """A stored object belonging to an item (and optionally one of its pages)."""

    __tablename__ = "files"

    id: Mapped[intpk]
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    page_id: Mapped[int | None] = mapped_column(
        ForeignKey("pages.id", ondelete="CASCADE"), index=True)
    role: Mapped[FileRole] = enum_column(FileRole)
    storage_key: Mapped[str] = mapped_column(String(1024), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    media_type: Mapped[str] = mapped_column(String(127))
    original_name: Mapped[str] = mapped_column(String(512), default="")
    created_at: Mapped[created_at]

    item: Mapped[Item] = relationship(back_populates="files")
    page: Mapped[Page | None] = relationship(back_populates="files")

class Role(enum.Enum):
    ADMIN = "admin"
    STAFF = "staff"
    READER = "reader"

class AccountStatus(enum.Enum):
    PENDING = "pending"     # registered, waiting for staff approval
    ACTIVE = "active"
    DISABLED = "disabled"

group_members = Table(
    "group_members",
    Base.metadata,
    Column("group_id", ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)

class User(Base):
    """A person with an account: reader, staff or administrator."""

    __tablename__ = "users"

    id: Mapped[intpk]
    username: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(255), unique=True)
    display_name: Mapped[str] = mapped_column(String(255), default="")
    card_number: Mapped[str | None] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = enum_column(Role, default=Role.READER)
    status: Mapped[AccountStatus] = enum_column(AccountStatus, default=AccountStatus.PENDING)
    expires_on: Mapped[date | None] = mapped_column(Date)
    locale: Mapped[str] = mapped_column(String(8), default="vi")
    created_at: Mapped[created_at]
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Changes when the password changes, so that old sessions stop working.
    session_token: Mapped[str] = mapped_column(
        String(64), default=lambda: secrets.token_hex(16))

    groups: Mapped[list[Group]] = relationship(
        secondary=group_members, back_populates="members", order_by="Group.name")

    def is_expired(self, today: date) -> bool:
        return self.expires_on is not None and self.expires_on < today

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.STAFF, Role.ADMIN)

class Group(Base):
    """A named set of readers (card holders, researchers) that access rules can name."""

    __tablename__ = "groups"

    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str255]
    description: Mapped[str] = mapped_column(Text, default="")

    members: Mapped[list[User]] = relationship(
        secondary=group_members, back_populates="groups", order_by="User.username")

class AuditEvent(Base):
    """Who changed what, when: old and new values of every administrative change."""

    __tablename__ = "audit_events"

    id: Mapped[intpk]
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True)
    actor_name: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str] = mapped_column(String(64))
    old: Mapped[dict | None] = mapped_column(JSON)
    new: Mapped[dict | None] = mapped_column(JSON)

    actor: Mapped[User | None] = relationship()

class AccessLevel(enum.Enum):
    """Who a right is granted to."""

    OPEN = "open"          # everyone, signed in or not
    READERS = "readers"    # any signed-in account
    GROUPS = "groups"      # members of the rule's groups
    ONSITE = "onsite"      # requests from a reading room's network
    STAFF = "staff"        # library staff only


access_rule_groups = Table(
    "access_rule_groups",
    Base.metadata,
    Column("rule_id", ForeignKey("access_rules.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
)


class AccessRule(Base):
    """Rights over a collection (its default) or one item (an override): who may see the
    metadata, view the pages and download, from when, and whether deliveries carry a watermark."""

    __tablename__ = "access_rules"
    __table_args__ = (
        CheckConstraint("(collection_id IS NULL) <> (item_id IS NULL)", name="one_target"),
    )

    id: Mapped[intpk]
    collection_id: Mapped[int | None] = mapped_column(
        ForeignKey("collections.id", ondelete="CASCADE"), unique=True)
    item_id: Mapped[int | None] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), unique=True)
    metadata_level: Mapped[AccessLevel] = enum_column(AccessLevel, default=AccessLevel.OPEN)
    view_level: Mapped[AccessLevel] = enum_column(AccessLevel, default=AccessLevel.OPEN)
    download_level: Mapped[AccessLevel] = enum_column(AccessLevel, default=AccessLevel.READERS)
    embargo_until: Mapped[date | None] = mapped_column(Date)
    watermark: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[updated_at]

    groups: Mapped[list[Group]] = relationship(secondary=access_rule_groups,
                                               order_by="Group.name")


class ReadingRoom(Base):
    """A reading room and the networks its computers and Wi-Fi use (for on-site access)."""

    __tablename__ = "reading_rooms"

    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(String(128), unique=True)
    networks: Mapped[str] = mapped_column(Text, default="")  # CIDR blocks, one per line
    created_at: Mapped[created_at]

    def network_list(self) -> list[str]:
        return [line.strip() for line in self.networks.splitlines() if line.strip()]


class BatchStatus(enum.Enum):
    PLANNING = "planning"     # unpacking and checking the upload
    RUNNING = "running"       # pages are being processed
    DONE = "done"             # every file became an item
    PARTIAL = "partial"       # some files failed; the good ones were ingested
    FAILED = "failed"         # nothing could be ingested


class TaskState(enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"         # stopped after its retries, with the reason


class IngestBatch(Base):
    """One upload by staff: a folder, ZIP, PDF, manifest, SAF package or bag, and its items."""

    __tablename__ = "ingest_batches"

    id: Mapped[intpk]
    collection_id: Mapped[int] = mapped_column(
        ForeignKey("collections.id", ondelete="RESTRICT"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    source_name: Mapped[str] = mapped_column(String(512))
    work_dir: Mapped[str] = mapped_column(String(1024), default="")
    status: Mapped[BatchStatus] = enum_column(BatchStatus, default=BatchStatus.PLANNING,
                                              index=True)
    options: Mapped[dict] = mapped_column(JSON, default=dict)
    problems: Mapped[list] = mapped_column(JSON, default=list)  # planning problems per input
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    collection: Mapped[Collection] = relationship()
    created_by: Mapped[User | None] = relationship()
    tasks: Mapped[list[IngestTask]] = relationship(
        back_populates="batch", cascade="all, delete-orphan", order_by="IngestTask.id")


class IngestTask(Base):
    """One unit of work of a batch: a page of an item, or the item's finishing step."""

    __tablename__ = "ingest_tasks"
    __table_args__ = (
        UniqueConstraint("batch_id", "item_id", "kind", "sequence", name="uq_ingest_tasks_unit"),
        Index("ix_ingest_tasks_batch_state", "batch_id", "state"),
    )

    id: Mapped[intpk]
    batch_id: Mapped[int] = mapped_column(ForeignKey("ingest_batches.id", ondelete="CASCADE"))
    item_id: Mapped[int | None] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))        # "page" or "item"
    sequence: Mapped[int] = mapped_column(default=0)     # page number within the item
    source: Mapped[str] = mapped_column(String(1024), default="")  # file, relative to work_dir
    page_index: Mapped[int] = mapped_column(default=0)   # page within that file (PDF, TIFF)
    original_name: Mapped[str] = mapped_column(String(512), default="")
    state: Mapped[TaskState] = enum_column(TaskState, default=TaskState.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    error_code: Mapped[str] = mapped_column(String(64), default="")
    error_message: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[dict | None] = mapped_column(JSON)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    batch: Mapped[IngestBatch] = relationship(back_populates="tasks")
    item: Mapped[Item | None] = relationship()


class LoginFailure(Base):
    """A failed sign-in, keyed by a hash of the account name or of the client address."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_key_at", "key", "at"),)

    id: Mapped[intpk]
    key: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# Tables defined beside the services that own them; imported here so that the metadata (and so
# Alembic) knows every table.
from repository import api_tokens as _api_tokens  # noqa: E402,F401
from repository import fixity as _fixity  # noqa: E402,F401
from repository import usage as _usage  # noqa: E402,F401
from repository.harvest import models as _harvest_models  # noqa: E402,F401
from repository.oai import models as _oai_models  # noqa: E402,F401
