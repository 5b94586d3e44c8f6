"""Export tests: a repository without Flask (on SQLite and PostgreSQL) with a few described items
and their files, and the web app of the API tests for the pages and downloads."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

import storage
from repository import collections, items
from repository.access_rules import RuleChange, set_rule
from repository.db import Database
from repository.dublin_core import Statement
from repository.files import add_file
from repository.models import AccessLevel, FileRole, ItemStatus, Page
from tests.api.conftest import (  # noqa: F401 - shared fixtures
    app,
    cheap_hashing,
    library,
    library_template,
)

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


@dataclass
class Repo:
    db: Database
    store: storage.ObjectStore
    handles: list[str]


DESCRIPTIONS = [
    [Statement("title", "Truyện Kiều", language="vi"), Statement("creator", "Nguyễn Du"),
     Statement("subject", "Thơ"), Statement("subject", "Văn học"),
     Statement("date", "1820", "issued"), Statement("title", "The Tale of Kieu", language="en")],
    [Statement("title", "Nam quốc sơn hà", language="vi"),
     Statement("creator", "Lý Thường Kiệt"), Statement("description", "Bài thơ thần, 1077")],
]


@pytest.fixture
def repo(any_database_url, tmp_path) -> Repo:
    database = Database(any_database_url)
    store = storage.open_store(f"file://{tmp_path / 'objects'}")
    sources = tmp_path / "sources"
    sources.mkdir()
    with database.session() as session:
        collection = collections.create_collection(session, slug="sach", title="Sách")
        set_rule(session, None, RuleChange(metadata=AccessLevel.OPEN, view=AccessLevel.OPEN),
                 collection=collection)
        made = [_item(session, store, collection, description, sources)
                for description in DESCRIPTIONS]
        handles = [item.handle for item in made]
    yield Repo(database, store, handles)
    database.dispose()


def _item(session, store, collection, description, sources: Path):
    item = items.create_item(session, collection, description)
    for sequence in (1, 2):
        page = Page(item=item, sequence=sequence, label=str(sequence), text=f"trang {sequence}")
        session.add(page)
        for role, data in ((FileRole.MASTER, PNG), (FileRole.DERIVATIVE, PNG[:100]),
                           (FileRole.TEXT, f"trang {sequence}".encode())):
            extension = "txt" if role is FileRole.TEXT else "png"
            source = sources / f"{item.handle}-{sequence}-{role.value}.{extension}"
            source.write_bytes(data + bytes([sequence]))
            add_file(session, store, item, role, source, extension=extension, page=page,
                     media_type="text/plain" if extension == "txt" else "image/png",
                     original_name=f"trang {sequence}.{extension}")
    items.change_status(session, item, ItemStatus.PUBLISHED)
    return item
