"""Resumption tokens: paging with cursor and completeListSize, tampering refused, and lists
that stay complete while records change between pages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from repository.models import Item
from repository.oai.errors import BadResumptionToken
from repository.oai.tokens import ListQuery, Position, TokenSigner
from tests.oai.helpers import (
    OAI,
    add_item,
    ask,
    error_codes,
    identifier,
    identifiers,
    open_collection,
    sync,
    token_of,
)

QUERY = ListQuery("ListRecords", "oai_dc", "collection:sach",
                  datetime(2026, 1, 1, tzinfo=UTC), None)


def test_a_token_carries_the_query_and_the_position():
    signer = TokenSigner("secret")
    token = signer.encode(Position(QUERY, after_seq=41, cursor=40))
    assert signer.decode(token, "ListRecords") == Position(QUERY, 41, 40)


@pytest.mark.parametrize("change", [
    lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
    lambda token: "x" + token,
    lambda token: token.split(".")[0],
    lambda token: "not-a-token",
    lambda token: TokenSigner("another key").encode(Position(QUERY, 41, 40)),
])
def test_altered_tokens_are_refused(change):
    signer = TokenSigner("secret")
    with pytest.raises(BadResumptionToken):
        signer.decode(change(signer.encode(Position(QUERY, 41, 40))), "ListRecords")


def test_a_token_belongs_to_its_verb():
    signer = TokenSigner("secret")
    with pytest.raises(BadResumptionToken, match="ListRecords"):
        signer.decode(signer.encode(Position(QUERY)), "ListIdentifiers")


@pytest.fixture
def seven(database):
    with database.session() as session:
        books = open_collection(session, "sach", "Sách")
        handles = [add_item(session, books, f"Sách {n}").handle for n in range(7)]
        sync(session, datetime(2026, 3, 1, tzinfo=UTC))
    return handles


def test_pages_carry_cursor_and_complete_list_size(database, seven):
    pages = []
    with database.session() as session:
        root = ask(session, page_size=3, verb="ListIdentifiers", metadataPrefix="oai_dc")
        while True:
            pages.append(root)
            token = token_of(root)
            if token is None or not token.text:
                break
            root = ask(session, page_size=3, verb="ListIdentifiers",
                       resumptionToken=token.text)
    assert [len(identifiers(page)) for page in pages] == [3, 3, 1]
    tokens = [token_of(page) for page in pages]
    assert [t.get("cursor") for t in tokens] == ["0", "3", "6"]
    assert {t.get("completeListSize") for t in tokens} == {"7"}
    assert tokens[-1].text is None  # the last page of a list ends with an empty token
    assert pages[1].find(f"{OAI}request").attrib == {
        "verb": "ListIdentifiers", "resumptionToken": tokens[0].text}


def test_tampered_and_foreign_tokens_get_bad_resumption_token(database, seven):
    with database.session() as session:
        first = ask(session, page_size=3, verb="ListRecords", metadataPrefix="oai_dc")
        token = token_of(first).text
        tampered = ask(session, page_size=3, verb="ListRecords",
                       resumptionToken=token.replace(token[5], "A" if token[5] != "A" else "B"))
        other_verb = ask(session, page_size=3, verb="ListIdentifiers", resumptionToken=token)
    assert error_codes(tampered) == error_codes(other_verb) == ["badResumptionToken"]


def test_changes_between_pages_skip_nothing(database, seven):
    """Records changed mid-list move to its end with a new datestamp: those not yet sent
    are sent once, those already sent are sent again (a newer version); new ones follow."""
    with database.session() as session:
        first = ask(session, page_size=3, verb="ListIdentifiers", metadataPrefix="oai_dc")
        seen = identifiers(first)
        books = open_collection(session, "moi", "Mới")
        add_item(session, books, "Sách mới")
        for handle in (seven[1], seven[5]):  # one already sent, one not yet
            item = session.scalar(select(Item).where(Item.handle == handle))
            item.dc_values[0].value += " (sửa)"
        sync(session, datetime(2026, 3, 2, tzinfo=UTC))
        token = token_of(first).text
        while token:
            page = ask(session, page_size=3, verb="ListIdentifiers", resumptionToken=token)
            seen += identifiers(page)
            token = token_of(page).text
    assert len(set(seen)) == 8
    assert [i for i in set(seen) if seen.count(i) > 1] == [identifier(seven[1])]
    assert seen[-1] == identifier(seven[5]) or seen[-2] == identifier(seven[5])
