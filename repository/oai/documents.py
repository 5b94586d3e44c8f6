"""Building OAI-PMH response documents with lxml: the envelope, headers, oai_dc records,
errors. Text that XML 1.0 cannot carry (control characters) is dropped, never escaped."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree

from repository.oai.dates import format_datestamp
from repository.oai.errors import OAIError

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC_NS = "http://purl.org/dc/elements/1.1/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XML_NS = "http://www.w3.org/XML/1998/namespace"
OAI_SCHEMA = "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
OAI_DC_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean(text: str) -> str:
    """``text`` without the characters XML 1.0 forbids."""
    return _NOT_XML.sub("", text)


@dataclass(frozen=True)
class Header:
    """What a record header says: identifier, datestamp, sets, and whether it is deleted."""

    identifier: str
    datestamp: datetime
    set_specs: tuple[str, ...] = ()
    deleted: bool = False


@dataclass(frozen=True)
class DCStatement:
    element: str
    value: str
    language: str | None = None


@dataclass(frozen=True)
class Record:
    header: Header
    metadata: tuple[DCStatement, ...] = field(default=())


def oai(tag: str) -> str:
    return f"{{{OAI_NS}}}{tag}"


def envelope(response_date: datetime, base_url: str,
             arguments: Mapping[str, str] | None) -> etree._Element:
    """The OAI-PMH root with responseDate and request (attributes only when allowed)."""
    root = etree.Element(oai("OAI-PMH"), nsmap={None: OAI_NS, "xsi": XSI_NS})
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_NS} {OAI_SCHEMA}")
    etree.SubElement(root, oai("responseDate")).text = format_datestamp(response_date)
    request = etree.SubElement(root, oai("request"))
    request.text = base_url
    for name, value in sorted((arguments or {}).items()):
        request.set(name, clean(value))
    return root


def add_errors(root: etree._Element, errors: Iterable[OAIError]) -> None:
    for error in errors:
        element = etree.SubElement(root, oai("error"), code=error.code)
        element.text = clean(error.message)


def add_text(parent: etree._Element, tag: str, text: str) -> etree._Element:
    element = etree.SubElement(parent, oai(tag))
    element.text = clean(text)
    return element


def add_header(parent: etree._Element, header: Header) -> etree._Element:
    element = etree.SubElement(parent, oai("header"))
    if header.deleted:
        element.set("status", "deleted")
    add_text(element, "identifier", header.identifier)
    add_text(element, "datestamp", format_datestamp(header.datestamp))
    for set_spec in header.set_specs:
        add_text(element, "setSpec", set_spec)
    return element


def add_record(parent: etree._Element, record: Record) -> None:
    element = etree.SubElement(parent, oai("record"))
    add_header(element, record.header)
    if not record.header.deleted:
        add_dublin_core(etree.SubElement(element, oai("metadata")), record.metadata)


def add_dublin_core(parent: etree._Element, statements: Iterable[DCStatement]) -> None:
    """An ``oai_dc:dc`` element holding ``statements`` as simple Dublin Core."""
    dc = etree.SubElement(parent, f"{{{OAI_DC_NS}}}dc",
                          nsmap={"oai_dc": OAI_DC_NS, "dc": DC_NS, "xsi": XSI_NS})
    dc.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_DC_NS} {OAI_DC_SCHEMA}")
    for statement in statements:
        value = clean(statement.value)
        if not value.strip():
            continue
        element = etree.SubElement(dc, f"{{{DC_NS}}}{statement.element}")
        element.text = value
        if statement.language:
            element.set(f"{{{XML_NS}}}lang", statement.language)


def serialize(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
