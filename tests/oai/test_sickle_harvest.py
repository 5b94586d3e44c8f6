"""A real harvester (sickle) takes the whole feed of a 2,500-record repository from a live
server, 100 records a page, while records change under it: every record comes exactly once,
except those whose public view changed after they were sent (they come again, newer)."""

from __future__ import annotations

from collections import Counter

import pytest
from sickle import Sickle
from sqlalchemy import select, update

from repository.access_rules import RuleChange, set_rule
from repository.models import AccessLevel, Collection, DCValue, Item, utcnow
from repository.oai.records import sync_all
from tests.oai.conftest import live_server, oai_app
from tests.oai.helpers import bulk_items, open_collection
from tests.oai.schemas import validated

RECORDS = 2500
PAGE = 100


class CheckedRequests:
    """WSGI middleware counting the requests a harvester makes and validating each answer
    against the schemas."""

    def __init__(self, app) -> None:
        self.app, self.count = app, 0

    def __call__(self, environ, start_response):
        self.count += 1
        body = b"".join(self.app(environ, start_response))
        validated(body)
        return [body]


@pytest.fixture
def big_app(tmp_path, any_database_url):
    app = oai_app(tmp_path, any_database_url, OAI_PAGE_SIZE=PAGE)
    khoso = app.extensions["khoso"]
    with khoso.db.session() as session:
        books = open_collection(session, "sach", "Sách")
        ids = bulk_items(session, books, RECORDS)
    sync_all(khoso.db.sessionmaker, khoso.policy)
    yield app, ids
    khoso.db.dispose()


def change_mid_harvest(app, ids: list[int]) -> dict[str, list[int]]:
    """Changes the public cannot see (a rights change that keeps items open, which rewrites
    every item row; staff notes), new items, and new titles for records already sent and
    not yet sent."""
    khoso = app.extensions["khoso"]
    sent, unsent = ids[100:105], ids[2000:2005]
    with khoso.db.session() as session:
        books = session.scalar(select(Collection).where(Collection.slug == "sach"))
        set_rule(session, None, RuleChange(download=AccessLevel.STAFF), collection=books)
        session.execute(update(Item).where(Item.id.in_(ids[:1500]))
                        .values(withdrawal_reason="ghi chú", updated_at=utcnow()))
        session.execute(update(DCValue).where(DCValue.item_id.in_(sent + unsent),
                                              DCValue.element == "title")
                        .values(value=DCValue.value + " (sửa)"))
        added = bulk_items(session, books, 10, prefix="new")
    sync_all(khoso.db.sessionmaker, khoso.policy)
    return {"sent": sent, "unsent": unsent, "added": added}


@pytest.mark.slow
def test_sickle_harvests_every_record_exactly_once(big_app):
    app, ids = big_app
    counter = CheckedRequests(app)
    handles = handle_map(app)
    with live_server(counter) as base:
        harvested = []
        for record in Sickle(f"{base}/oai").ListRecords(metadataPrefix="oai_dc"):
            harvested.append((record.header.identifier, record.metadata["title"][0]))
            if len(harvested) == 1000:
                changed = change_mid_harvest(app, ids)
                handles = handle_map(app)
    seen = Counter(identifier.rsplit(":", 1)[1] for identifier, _ in harvested)
    again = {handles[i] for i in changed["sent"]}
    assert set(seen) == set(handles.values())  # every record, old and new
    assert {handle for handle, n in seen.items() if n > 1} == again
    assert all(n == 1 for handle, n in seen.items() if handle not in again)
    assert sum(seen.values()) == RECORDS + 10 + 5
    titles = dict((identifier.rsplit(":", 1)[1], title) for identifier, title in harvested)
    assert all(titles[handles[i]].endswith("(sửa)") for i in changed["sent"] + changed["unsent"])
    assert counter.count == -(-(RECORDS + 15) // PAGE)  # one request a page, nothing more


def handle_map(app) -> dict[int, str]:
    with app.extensions["khoso"].db.session() as session:
        return dict(session.execute(select(Item.id, Item.handle)).all())
