"""Stateless resumption tokens: the list's query and the position reached, signed.

A token carries the verb, metadataPrefix, set, from and until of the first request, the
change number (``seq``) of the last record delivered, and how many were delivered (the
``cursor`` attribute). Records are listed in ``seq`` order and every change takes a new,
larger number, so a record that existed when the harvest began is never skipped, whatever
changes meanwhile. An HMAC with the application's secret key makes tampering visible.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from repository.oai.errors import BadResumptionToken

VERSION = 1
_SIGNATURE_BYTES = 16


@dataclass(frozen=True)
class ListQuery:
    """What a ListIdentifiers or ListRecords request selects."""

    verb: str
    metadata_prefix: str
    set_spec: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class Position:
    """A point in a list: after the record with change number ``after_seq``, having
    delivered ``cursor`` records."""

    query: ListQuery
    after_seq: int = 0
    cursor: int = 0


class TokenSigner:
    """Encodes positions as tokens and back, with ``secret`` (the app's SECRET_KEY)."""

    def __init__(self, secret: str | bytes) -> None:
        if not secret:
            raise ValueError("resumption tokens need a secret key")
        self._key = secret.encode() if isinstance(secret, str) else secret

    def encode(self, position: Position) -> str:
        query = position.query
        fields = [VERSION, query.verb, query.metadata_prefix, query.set_spec,
                  _epoch(query.since), _epoch(query.until), position.after_seq, position.cursor]
        payload = _b64(json.dumps(fields, separators=(",", ":")).encode())
        return f"{payload}.{_b64(self._sign(payload))}"

    def decode(self, token: str, verb: str) -> Position:
        """The position in ``token``; BadResumptionToken when it was not made here, was
        changed, or belongs to another verb."""
        payload, _, signature = token.partition(".")
        try:
            valid = hmac.compare_digest(_unb64(signature), self._sign(payload))
            fields = json.loads(_unb64(payload)) if valid else None
        except (binascii.Error, ValueError):
            fields = None
        if not isinstance(fields, list) or len(fields) != 8 or fields[0] != VERSION:
            raise BadResumptionToken("The resumptionToken is invalid or has been altered")
        _, token_verb, prefix, set_spec, since, until, after, cursor = fields
        if token_verb != verb:
            raise BadResumptionToken(f"The resumptionToken was issued for {token_verb}")
        query = ListQuery(verb, prefix, set_spec, _moment(since), _moment(until))
        return Position(query, int(after), int(cursor))

    def _sign(self, payload: str) -> bytes:
        digest = hmac.new(self._key, b"oai-pmh-token:" + payload.encode(), hashlib.sha256)
        return digest.digest()[:_SIGNATURE_BYTES]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _epoch(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp())


def _moment(seconds: int | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(int(seconds), UTC)
