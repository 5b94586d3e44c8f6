"""The OAI-PMH 2.0 data provider: one request (its arguments) in, one XML document out.

Six verbs, oai_dc only, sets for collections, datestamps to the second, persistent deleted
records, stateless signed resumption tokens. Only what the public may see is disseminated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from repository.access import Policy
from repository.models import Collection, utcnow
from repository.oai import documents as doc
from repository.oai import listing
from repository.oai.arguments import RESUMPTION_TOKEN, OAIRequest, parse_request
from repository.oai.dates import SECONDS, parse_bound, truncate
from repository.oai.errors import (
    BadArgument,
    BadResumptionToken,
    CannotDisseminateFormat,
    IdDoesNotExist,
    NoMetadataFormats,
    NoRecordsMatch,
    OAIError,
)
from repository.oai.models import OAIRecord
from repository.oai.records import SET_PREFIX, dublin_core, set_specs
from repository.oai.tokens import ListQuery, Position, TokenSigner

OAI_DC = "oai_dc"
ROOT_SET_NAME = "Bộ sưu tập (Collections)"


@dataclass(frozen=True)
class ProviderSettings:
    """What the provider needs from configuration and the web layer."""

    base_url: str
    repository_name: str
    admin_email: str
    repository_identifier: str
    signer: TokenSigner
    item_url: Callable[[str], str]
    page_size: int = 100

    def identifier(self, handle: str) -> str:
        return f"oai:{self.repository_identifier}:{handle}"

    def handle_of(self, identifier: str) -> str | None:
        prefix = f"oai:{self.repository_identifier}:"
        return identifier[len(prefix):] if identifier.startswith(prefix) else None


def respond(session: Session, policy: Policy, settings: ProviderSettings,
            pairs: Iterable[tuple[str, str]], now: datetime | None = None) -> bytes:
    """The response document to the request made of ``pairs`` (query and form arguments)."""
    return Provider(session, policy, settings, truncate(now or utcnow())).respond(pairs)


class Provider:
    """Answers requests against one database session, at the moment ``now``."""

    def __init__(self, session: Session, policy: Policy, settings: ProviderSettings,
                 now: datetime) -> None:
        self.session = session
        self.policy = policy
        self.settings = settings
        self.now = now
        self.verbs = {
            "Identify": self.identify, "ListMetadataFormats": self.list_metadata_formats,
            "ListSets": self.list_sets, "GetRecord": self.get_record,
            "ListIdentifiers": self.list_identifiers, "ListRecords": self.list_records,
        }

    def respond(self, pairs: Iterable[tuple[str, str]]) -> bytes:
        request = None
        try:
            request = parse_request(pairs)
            root = doc.envelope(self.now, self.settings.base_url, _echo(request))
            self.verbs[request.verb](request, root)
        except OAIError as error:
            echoed = _echo(request) if request and error.echoes_request else None
            root = doc.envelope(self.now, self.settings.base_url, echoed)
            doc.add_errors(root, [error])
        return doc.serialize(root)

    def identify(self, _request: OAIRequest, root: etree._Element) -> None:
        settings = self.settings
        element = etree.SubElement(root, doc.oai("Identify"))
        earliest = listing.earliest_datestamp(self.session) or self.now
        for tag, text in (("repositoryName", settings.repository_name),
                          ("baseURL", settings.base_url), ("protocolVersion", "2.0"),
                          ("adminEmail", settings.admin_email),
                          ("earliestDatestamp", doc.format_datestamp(earliest)),
                          ("deletedRecord", "persistent"), ("granularity", SECONDS)):
            doc.add_text(element, tag, text)

    def list_metadata_formats(self, request: OAIRequest, root: etree._Element) -> None:
        identifier = request.get("identifier")
        if identifier is not None and self._record(identifier).deleted:
            raise NoMetadataFormats("A deleted record has no metadata to disseminate")
        element = etree.SubElement(root, doc.oai("ListMetadataFormats"))
        formats = etree.SubElement(element, doc.oai("metadataFormat"))
        doc.add_text(formats, "metadataPrefix", OAI_DC)
        doc.add_text(formats, "schema", doc.OAI_DC_SCHEMA)
        doc.add_text(formats, "metadataNamespace", doc.OAI_DC_NS)

    def list_sets(self, request: OAIRequest, root: etree._Element) -> None:
        if request.get(RESUMPTION_TOKEN) is not None:
            raise BadResumptionToken("This repository issues no resumptionToken for ListSets")
        element = etree.SubElement(root, doc.oai("ListSets"))
        _add_set(element, SET_PREFIX, ROOT_SET_NAME, "")
        specs = set_specs(self.session)
        collections = self.session.scalars(select(Collection))
        for collection in sorted(collections, key=lambda c: specs[c.id]):
            _add_set(element, specs[collection.id], collection.title, collection.description)

    def get_record(self, request: OAIRequest, root: etree._Element) -> None:
        record = self._record(request.arguments["identifier"])
        _require_oai_dc(request.arguments["metadataPrefix"])
        element = etree.SubElement(root, doc.oai("GetRecord"))
        for built in self._records([record], with_metadata=True):
            doc.add_record(element, built)

    def list_identifiers(self, request: OAIRequest, root: etree._Element) -> None:
        self._list(request, root, with_metadata=False)

    def list_records(self, request: OAIRequest, root: etree._Element) -> None:
        self._list(request, root, with_metadata=True)

    def _list(self, request: OAIRequest, root: etree._Element, with_metadata: bool) -> None:
        token = request.get(RESUMPTION_TOKEN)
        position = (self.settings.signer.decode(token, request.verb) if token
                    else Position(_list_query(request)))
        size = self.settings.page_size
        rows = listing.list_page(self.session, self.policy, position.query,
                                 position.after_seq, size + 1)
        if not rows:
            raise NoRecordsMatch("No records match the arguments")
        page, more = rows[:size], len(rows) > size
        element = etree.SubElement(root, doc.oai(request.verb))
        for built in self._records(page, with_metadata):
            if with_metadata:
                doc.add_record(element, built)
            else:
                doc.add_header(element, built.header)
        if more or token:
            self._add_token(element, position, page, more)

    def _add_token(self, parent: etree._Element, position: Position, page: list[OAIRecord],
                   more: bool) -> None:
        delivered = position.cursor + len(page)
        total = max(listing.count(self.session, self.policy, position.query), delivered)
        element = etree.SubElement(parent, doc.oai("resumptionToken"),
                                   completeListSize=str(total), cursor=str(position.cursor))
        if more:
            element.text = self.settings.signer.encode(
                Position(position.query, page[-1].seq, delivered))

    def _record(self, identifier: str) -> OAIRecord:
        handle = self.settings.handle_of(identifier)
        record = listing.find_record(self.session, self.policy, handle) if handle else None
        if record is None:
            raise IdDoesNotExist("No record has this identifier in this repository")
        return record

    def _records(self, rows: list[OAIRecord], with_metadata: bool) -> list[doc.Record]:
        live = [row.item_id for row in rows if not row.deleted]
        metadata = dublin_core(self.session, live) if with_metadata else {}
        built = []
        for row in rows:
            header = doc.Header(self.settings.identifier(row.handle), row.datestamp,
                                (row.set_spec,) if row.set_spec else (), row.deleted)
            statements = metadata.get(row.item_id, []) if with_metadata else []
            built.append(doc.Record(header, tuple(self._with_link(row, statements))))
        return built

    def _with_link(self, row: OAIRecord, statements: list[doc.DCStatement]):
        """The item's statements, and its page in the portal as a dc:identifier."""
        yield from statements
        if not row.deleted:
            yield doc.DCStatement("identifier", self.settings.item_url(row.handle))


def _echo(request: OAIRequest) -> dict[str, str]:
    return request.arguments | {"verb": request.verb}


def _list_query(request: OAIRequest) -> ListQuery:
    """The selection of a first ListIdentifiers/ListRecords request, every argument checked
    before the format, so that an error response may echo them."""
    bounds = {name: parse_bound(name, request.arguments[name], upper=(name == "until"))
              for name in ("from", "until") if name in request.arguments}
    if len(bounds) == 2:
        (since, since_unit), (until, until_unit) = bounds["from"], bounds["until"]
        if since_unit != until_unit:
            raise BadArgument("'from' and 'until' must have the same granularity")
        if since > until:
            raise BadArgument("'from' is later than 'until'")
    _require_oai_dc(request.arguments["metadataPrefix"])
    return ListQuery(request.verb, OAI_DC, request.get("set"),
                     bounds["from"][0] if "from" in bounds else None,
                     bounds["until"][0] if "until" in bounds else None)


def _require_oai_dc(prefix: str) -> None:
    if prefix != OAI_DC:
        raise CannotDisseminateFormat(f"This repository disseminates oai_dc only, not {prefix}")


def _add_set(parent: etree._Element, spec: str, name: str, description: str) -> None:
    element = etree.SubElement(parent, doc.oai("set"))
    doc.add_text(element, "setSpec", spec)
    doc.add_text(element, "setName", name)
    if description.strip():
        doc.add_dublin_core(etree.SubElement(element, doc.oai("setDescription")),
                            [doc.DCStatement("description", description)])
