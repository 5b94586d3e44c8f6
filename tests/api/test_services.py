"""The services under the API, on SQLite and PostgreSQL: paged listings under the policy, token
authentication, field-by-field metadata edits."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from repository import accounts, api_tokens, collections, items, listing
from repository.access import Identity, Policy
from repository.access_rules import RuleChange, set_rule
from repository.db import Database
from repository.dublin_core import Statement
from repository.errors import InvalidInput
from repository.metadata_edit import Field, merge
from repository.models import AccessLevel, ItemStatus, Role, utcnow

STAFF = Identity(user_id=1, role=Role.STAFF)
TODAY = date(2026, 11, 26)


@pytest.fixture
def database(any_database_url):
    database = Database(any_database_url)
    yield database
    database.dispose()


def test_listings_count_only_what_the_caller_may_find(database):
    with database.session() as session:
        collection = collections.create_collection(session, slug="sach", title="Sách")
        set_rule(session, None, RuleChange(metadata=AccessLevel.OPEN), collection=collection)
        for number in range(5):
            item = items.create_item(session, collection, [Statement("title", f"Số {number}")])
            if number < 3:
                items.change_status(session, item, ItemStatus.PUBLISHED)
    with database.session() as session:
        page = listing.list_items(session, Identity.anonymous(), Policy(), listing.Paging(2, 2))
        assert page.total == 3 and page.pages == 2 and len(page.entries) == 1
        drafts = listing.list_items(session, STAFF, Policy(), listing.Paging(),
                                    statuses=[ItemStatus.DRAFT])
        assert drafts.total == 2
        assert listing.list_collections(session, listing.Paging()).total == 1


def test_tokens_authenticate_until_revoked_or_expired(database):
    with database.session() as session:
        staff = accounts.create_user(session, username="thuthu", password="mat-khau-dai-1",
                                     role=Role.STAFF)
        token, secret = api_tokens.create_token(session, staff, name="x", expires_days=30)
        _, old_secret = api_tokens.create_token(session, staff, expires_days=1,
                                                now=utcnow() - timedelta(days=2))
    with database.session() as session:
        assert api_tokens.authenticate(session, secret, TODAY).username == "thuthu"
        assert api_tokens.authenticate(session, old_secret, TODAY) is None
        assert api_tokens.authenticate(session, "khoso_" + "a" * 43, TODAY) is None
        assert api_tokens.authenticate(session, "garbage", TODAY) is None
        api_tokens.revoke_token(session, token.id)
    with database.session() as session:
        assert api_tokens.authenticate(session, secret, TODAY) is None
        with pytest.raises(InvalidInput):
            api_tokens.create_token(session, accounts.get_user(session, "thuthu"),
                                    expires_days=0)


def test_merge_replaces_named_fields_in_place():
    statements = [Statement("title", "Truyện Kiều", language="vi"),
                  Statement("subject", "Thơ"), Statement("creator", "Nguyễn Du")]
    merged = merge(statements, {Field("subject"): ["Văn học", "Nôm"],
                                Field("date", "issued"): ["1820"],
                                Field("creator"): []})
    assert [(s.element, s.value) for s in merged] == [
        ("title", "Truyện Kiều"), ("subject", "Văn học"), ("subject", "Nôm"), ("date", "1820")]
    assert Field.parse("dc.title[VI]") == Field("title", None, "vi")
    assert Field.parse("dc.date.issued").column == "dc.date.issued"
    assert Field.parse("dc.author") is None and Field.parse("handle") is None
