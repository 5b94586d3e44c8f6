"""Dublin Core as XML: simple DC in the ``oai_dc`` container (valid against the OAI-PMH oai_dc
schema) for readers and harvesters, and DSpace's ``dublin_core.xml`` for Simple Archive Format."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # noqa: S405 - used to write XML, never to parse it
from collections.abc import Iterable, Sequence

from repository.dublin_core import DISPLAY_ORDER
from repository.models import DCValue, Item

OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC = "http://purl.org/dc/elements/1.1/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
SCHEMA_LOCATION = f"{OAI_DC} http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
# Characters XML 1.0 cannot carry at all (C0 controls other than tab, newline, return).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

ET.register_namespace("oai_dc", OAI_DC)
ET.register_namespace("dc", DC)
ET.register_namespace("xsi", XSI)


def xml_text(value: str) -> str:
    return _NOT_XML.sub("", value)


def display_sorted(values: Iterable[DCValue]) -> list[DCValue]:
    """The item's values in the order its page shows them, repeats in their own order."""
    rank = {element: index for index, element in enumerate(DISPLAY_ORDER)}
    return sorted(values, key=lambda value: (rank.get(value.element, len(rank)),
                                             value.qualifier or "", value.position))


def dublin_core_xml(item: Item, identifiers: Sequence[str] = ()) -> bytes:
    """Simple Dublin Core of ``item`` (qualifiers dropped, as simple DC has none), each value
    with its ``xml:lang``; ``identifiers`` (such as the permanent link) are added as dc:identifier.
    """
    root = ET.Element(f"{{{OAI_DC}}}dc", {f"{{{XSI}}}schemaLocation": SCHEMA_LOCATION})
    for value in display_sorted(item.dc_values):
        element = ET.SubElement(root, f"{{{DC}}}{value.element}")
        element.text = xml_text(value.value)
        if value.language:
            element.set(XML_LANG, value.language)
    for identifier in identifiers:
        ET.SubElement(root, f"{{{DC}}}identifier").text = xml_text(identifier)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def saf_dublin_core_xml(item: Item) -> bytes:
    """DSpace's ``dublin_core.xml``: ``<dcvalue element qualifier language>`` per value."""
    root = ET.Element("dublin_core", {"schema": "dc"})
    for value in display_sorted(item.dc_values):
        attributes = {"element": value.element, "qualifier": value.qualifier or "none"}
        if value.language:
            attributes["language"] = value.language
        ET.SubElement(root, "dcvalue", attributes).text = xml_text(value.value)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
