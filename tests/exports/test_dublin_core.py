"""Dublin Core XML per item: valid simple DC (oai_dc) with xml:lang, and who may have it."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from lxml import etree
from sqlalchemy import select

from repository.exports import dublin_core_xml, saf_dublin_core_xml
from repository.models import Item
from tests.backends import SHARED

SCHEMAS = Path(SHARED) / "data" / "oai-pmh" / "schemas"
LOCAL_COPIES = {
    "http://dublincore.org/schemas/xmls/simpledc20021212.xsd": "simpledc20021212.xsd",
    "http://www.w3.org/2001/03/xml.xsd": "xml.xsd",
}
DC = "{http://purl.org/dc/elements/1.1/}"
LANG = "{http://www.w3.org/XML/1998/namespace}lang"


class LocalSchemas(etree.Resolver):
    """The schemas' imports from the shared copies; nothing from the network."""

    def resolve(self, url, _pubid, context):
        if url in LOCAL_COPIES:
            return self.resolve_filename(str(SCHEMAS / LOCAL_COPIES[url]), context)
        return None


@cache
def oai_dc_schema() -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(LocalSchemas())
    return etree.XMLSchema(etree.parse(str(SCHEMAS / "oai_dc.xsd"), parser))


def valid(body: bytes) -> etree._Element:
    root = etree.fromstring(body, etree.XMLParser(no_network=True, resolve_entities=False))
    schema = oai_dc_schema()
    assert schema.validate(root), schema.error_log
    return root


def load(repo, handle: str, session) -> Item:
    return session.scalar(select(Item).where(Item.handle == handle))


def test_dublin_core_xml_validates_with_languages(repo):
    with repo.db.session() as session:
        item = load(repo, repo.handles[0], session)
        root = valid(dublin_core_xml(item, identifiers=["https://thuvien.example/items/x"]))
    titles = {(element.text, element.get(LANG)) for element in root.iter(f"{DC}title")}
    assert titles == {("Truyện Kiều", "vi"), ("The Tale of Kieu", "en")}
    assert [element.text for element in root.iter(f"{DC}date")] == ["1820"]  # qualifier dropped
    assert [element.text for element in root.iter(f"{DC}subject")] == ["Thơ", "Văn học"]
    assert root[0].tag == f"{DC}title"  # the order an item page shows
    assert "https://thuvien.example/items/x" in [e.text for e in root.iter(f"{DC}identifier")]


def test_characters_xml_cannot_carry_are_dropped(repo):
    with repo.db.session() as session:
        item = load(repo, repo.handles[1], session)
        item.dc_values[0].value = "Nam quốc\x0b sơn hà"
        root = valid(dublin_core_xml(item))
        session.rollback()
    assert "Nam quốc sơn hà" in [element.text for element in root.iter(f"{DC}title")]


def test_saf_dublin_core_keeps_qualifiers(repo):
    with repo.db.session() as session:
        root = etree.fromstring(saf_dublin_core_xml(load(repo, repo.handles[0], session)))
    values = {(v.get("element"), v.get("qualifier"), v.get("language"), v.text)
              for v in root.iter("dcvalue")}
    assert ("date", "issued", None, "1820") in values
    assert ("title", "none", "vi", "Truyện Kiều") in values


def test_web_link_for_whoever_may_see_the_item(client, library):
    response = client.get(f"/items/{library.open_items[0]}/dublin-core.xml")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    root = valid(response.data)
    identifiers = [element.text for element in root.iter(f"{DC}identifier")]
    assert any(text.endswith(f"/items/{library.open_items[0]}") for text in identifiers)
    assert client.get(f"/items/{library.hidden}/dublin-core.xml").status_code == 404
