"""A small OAI-PMH client for harvesting: Identify and ListRecords with resumption,
oai_dc records parsed into plain values, every failure turned into a HarvestError.

Written on urllib and lxml rather than on sickle (unmaintained since 2020): a harvester
must survive feeds sickle stops on, such as headers without an identifier.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode, urlsplit

from lxml import etree

from repository.harvest.errors import HarvestError
from repository.oai.dates import parse_datestamp
from repository.oai.documents import DC_NS, OAI_DC_NS, OAI_NS
from repository.search.analysis import fold

NO_RECORDS = "noRecordsMatch"
MAX_BYTES = 64 * 1024 * 1024
MAX_WAIT = 60


@dataclass(frozen=True)
class HarvestedRecord:
    identifier: str
    datestamp: datetime | None
    deleted: bool
    dc: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Page:
    """One response of a list: its records and how many were unusable (no identifier)."""

    records: list[HarvestedRecord]
    skipped: int = 0


@dataclass(frozen=True)
class RepositoryInfo:
    name: str
    granularity: str


class OAIClient:
    """Talks to one partner endpoint at a time; ``timeout`` in seconds per request."""

    def __init__(self, timeout: float = 60, user_agent: str = "Khoso OAI-PMH harvester",
                 retries: int = 2, sleep: Callable[[float], None] = time.sleep) -> None:
        self.timeout = timeout
        self.user_agent = user_agent
        self.retries = retries
        self.sleep = sleep

    def identify(self, base_url: str) -> RepositoryInfo:
        root = self.request(base_url, {"verb": "Identify"})
        identify = root.find(f"{{{OAI_NS}}}Identify")
        if identify is None:
            raise HarvestError("the Identify response has no Identify element")
        return RepositoryInfo(identify.findtext(f"{{{OAI_NS}}}repositoryName", "").strip(),
                              identify.findtext(f"{{{OAI_NS}}}granularity", "").strip())

    def list_records(self, base_url: str, prefix: str, set_spec: str | None = None,
                     since: str | None = None) -> Iterator[Page]:
        """The pages of ListRecords, following resumption tokens to the end."""
        arguments = {"verb": "ListRecords", "metadataPrefix": prefix}
        arguments |= {"set": set_spec} if set_spec else {}
        arguments |= {"from": since} if since else {}
        seen_tokens: set[str] = set()
        while True:
            root = self.request(base_url, arguments)
            if _error_codes(root) == [NO_RECORDS]:
                return
            listed = root.find(f"{{{OAI_NS}}}ListRecords")
            if listed is None:
                raise HarvestError("the ListRecords response has no ListRecords element")
            yield parse_page(listed)
            token = (listed.findtext(f"{{{OAI_NS}}}resumptionToken") or "").strip()
            if not token:
                return
            if token in seen_tokens:
                raise HarvestError("the partner sent the same resumptionToken twice")
            seen_tokens.add(token)
            arguments = {"verb": "ListRecords", "resumptionToken": token}

    def request(self, base_url: str, arguments: dict[str, str]) -> etree._Element:
        """The parsed response; HarvestError for transport, XML and OAI-PMH errors
        (noRecordsMatch excepted: it is an empty list, not a failure)."""
        root = parse_response(self._fetch(base_url, arguments))
        codes = _error_codes(root)
        if codes and codes != [NO_RECORDS]:
            error = root.find(f"{{{OAI_NS}}}error")
            raise HarvestError(f"the partner answered {codes[0]}: "
                               f"{(error.text or '').strip() or 'no explanation'}")
        return root

    def _fetch(self, base_url: str, arguments: dict[str, str]) -> bytes:
        url = f"{base_url}{'&' if '?' in base_url else '?'}{urlencode(arguments)}"
        if urlsplit(url).scheme not in ("http", "https"):
            raise HarvestError(f"not an http(s) address: {base_url}")
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
            url, headers={"User-Agent": self.user_agent})
        for attempt in range(self.retries + 1):
            try:
                with urllib.request.urlopen(  # noqa: S310 - the scheme is checked above
                        request, timeout=self.timeout) as response:
                    return _read_limited(response)
            except urllib.error.HTTPError as exc:
                wait = _retry_after(exc)
                if wait is None or attempt == self.retries:
                    raise HarvestError(f"HTTP {exc.code} from {base_url}") from exc
                self.sleep(wait)
            except (urllib.error.URLError, TimeoutError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                raise HarvestError(f"cannot reach {base_url}: {reason}") from exc
        raise HarvestError(f"no answer from {base_url}")


def make_client(timeout: float, library_name: str) -> OAIClient:
    """A client that names the library in its User-Agent (in ASCII: HTTP headers are)."""
    library = fold(library_name).encode("ascii", "ignore").decode()
    return OAIClient(timeout=timeout, user_agent=f"Khoso OAI-PMH harvester ({library})")


def parse_response(body: bytes) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=False)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        raise HarvestError(f"the response is not well-formed XML ({exc})") from exc
    if root.tag != f"{{{OAI_NS}}}OAI-PMH":
        raise HarvestError("the response is not an OAI-PMH document")
    return root


def parse_page(listed: etree._Element) -> Page:
    records, skipped = [], 0
    for element in listed.iterfind(f"{{{OAI_NS}}}record"):
        record = parse_record(element)
        if record is None:
            skipped += 1
        else:
            records.append(record)
    return Page(records, skipped)


def parse_record(element: etree._Element) -> HarvestedRecord | None:
    """A record's header and oai_dc values; None when it has no identifier to key it by."""
    header = element.find(f"{{{OAI_NS}}}header")
    identifier = (header.findtext(f"{{{OAI_NS}}}identifier") or "").strip() if (
        header is not None) else ""
    if not identifier:
        return None
    try:
        datestamp = parse_datestamp(header.findtext(f"{{{OAI_NS}}}datestamp") or "")
    except ValueError:
        datestamp = None
    deleted = header.get("status") == "deleted"
    dc = {} if deleted else _dublin_core(element.find(f"{{{OAI_NS}}}metadata/{{{OAI_DC_NS}}}dc"))
    return HarvestedRecord(identifier, datestamp, deleted, dc)


def _dublin_core(dc: etree._Element | None) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for child in dc if dc is not None else ():
        if not isinstance(child.tag, str) or not child.tag.startswith(f"{{{DC_NS}}}"):
            continue
        text = " ".join((child.text or "").split())
        if text:
            values.setdefault(etree.QName(child).localname, []).append(text)
    return values


def _error_codes(root: etree._Element) -> list[str]:
    return [error.get("code", "") for error in root.iterfind(f"{{{OAI_NS}}}error")]


def _read_limited(response) -> bytes:
    body = response.read(MAX_BYTES + 1)
    if len(body) > MAX_BYTES:
        raise HarvestError(f"a response is larger than {MAX_BYTES // 2**20} MiB")
    return body


def _retry_after(exc: urllib.error.HTTPError) -> float | None:
    """Seconds to wait when the partner asks for it (503 with Retry-After), else None."""
    if exc.code != 503:
        return None
    try:
        return min(float(exc.headers.get("Retry-After", "5")), MAX_WAIT)
    except ValueError:
        return 5.0
