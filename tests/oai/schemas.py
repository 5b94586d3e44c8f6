"""Offline validation of OAI-PMH responses against the shared XSDs: the XML catalog's
``uri`` entries map the schemas' remote imports to the local copies, via an lxml resolver
(so that it works whatever else loaded libxml2 first)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from lxml import etree

from tests.backends import SHARED

SCHEMAS = Path(SHARED) / "data" / "oai-pmh" / "schemas"
CATALOG_NS = "urn:oasis:names:tc:entity:xmlns:xml:catalog"


class CatalogResolver(etree.Resolver):
    def __init__(self, catalog: Path) -> None:
        super().__init__()
        tree = etree.parse(str(catalog))
        self.mapping = {entry.get("name"): str(catalog.parent / entry.get("uri"))
                        for entry in tree.iter(f"{{{CATALOG_NS}}}uri")}

    def resolve(self, url, _pubid, context):
        if url in self.mapping:
            return self.resolve_filename(self.mapping[url], context)
        if url.startswith(("http:", "https:")):
            raise AssertionError(f"schema import {url} is not in the catalog")
        return None


@cache
def oai_schema() -> etree.XMLSchema:
    """OAI-PMH.xsd and oai_dc.xsd together (metadata is checked strictly, not skipped)."""
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(CatalogResolver(SCHEMAS / "catalog.xml"))
    wrapper = f"""<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
      <xs:import namespace="http://www.openarchives.org/OAI/2.0/"
                 schemaLocation="{SCHEMAS / 'OAI-PMH.xsd'}"/>
      <xs:import namespace="http://www.openarchives.org/OAI/2.0/oai_dc/"
                 schemaLocation="{SCHEMAS / 'oai_dc.xsd'}"/>
    </xs:schema>"""
    document = etree.fromstring(wrapper.encode(), parser,
                                base_url=str(SCHEMAS / "wrapper.xsd"))
    return etree.XMLSchema(document)


def validated(body: bytes) -> etree._Element:
    """The parsed response; fails the test with the schema's complaint if it is invalid."""
    root = etree.fromstring(body, etree.XMLParser(no_network=True, resolve_entities=False))
    schema = oai_schema()
    if not schema.validate(root):
        raise AssertionError(f"invalid OAI-PMH response: {schema.error_log}\n{body[:2000]!r}")
    return root
