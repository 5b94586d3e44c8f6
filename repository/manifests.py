"""IIIF documents of an item, as plain dicts: the Presentation 3.0 manifest and the Content
Search 2.0 answer of a search inside it.

Pure functions of the models and of URLs that the web layer builds: nothing here knows the
request, the locale or the routes. Labels come in as language maps (``{"vi": [...], ...}``).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from repository.dublin_core import DISPLAY_ORDER
from repository.models import Item
from repository.reading import InsideHits, PageHit, PageRef

PRESENTATION_CONTEXT = "http://iiif.io/api/presentation/3/context.json"
SEARCH_CONTEXT = "http://iiif.io/api/search/2/context.json"
IMAGE_PROFILE = "level2"
RIGHTS_URI = re.compile(r"^https?://(creativecommons\.org|rightsstatements\.org)/\S+$")
LanguageMap = dict[str, list[str]]
UNSUPPORTED_SEARCH_PARAMETERS = ("motivation", "date", "user")


@dataclass(frozen=True)
class ManifestUrls:
    """Where things are: the manifest, the item's page, and prefixes to which a page uid is
    appended (canvases, image services)."""

    manifest: str
    homepage: str
    site: str
    canvas_prefix: str
    image_prefix: str
    search: str
    pdf: str | None = None          # set only when the asker may download the PDF

    def canvas(self, page: PageRef) -> str:
        return f"{self.canvas_prefix}{page.uid}"

    def image(self, page: PageRef) -> str:
        return f"{self.image_prefix}{page.uid}"


@dataclass(frozen=True)
class ManifestText:
    """The words of the manifest in each language: the Dublin Core element names, and a few
    labels of its own (``attribution``, ``pdf``, ``homepage``)."""

    elements: Mapping[str, LanguageMap]
    labels: Mapping[str, LanguageMap]
    provider: LanguageMap
    citation: str


def manifest(item: Item, pages: Sequence[PageRef], urls: ManifestUrls,
             text: ManifestText) -> dict:
    """The Presentation 3.0 manifest of ``item`` with one canvas per page."""
    document = {
        "@context": PRESENTATION_CONTEXT,
        "id": urls.manifest,
        "type": "Manifest",
        "label": title_map(item),
        "metadata": metadata(item, text.elements),
        "requiredStatement": {"label": text.labels["attribution"],
                              "value": {"none": [text.citation]}},
        "provider": [{"id": urls.site, "type": "Agent",
                      "label": text.provider}],
        "homepage": [{"id": urls.homepage, "type": "Text", "format": "text/html",
                      "label": text.labels["homepage"]}],
        "viewingDirection": "left-to-right",
        "behavior": ["paged"],
        "items": [canvas(page, urls) for page in pages],
        "service": [{"id": urls.search, "type": "SearchService2"}],
    }
    document.update(_optional(item, pages, urls, text))
    return document


def _optional(item: Item, pages: Sequence[PageRef], urls: ManifestUrls,
              text: ManifestText) -> dict:
    extra: dict = {}
    summary = item.values("description")
    if summary:
        extra["summary"] = {"none": summary[:1]}
    rights = next((value for value in item.values("rights") if RIGHTS_URI.match(value)), None)
    if rights:
        extra["rights"] = rights.replace("https://", "http://", 1)
    year = item.first("date")[:4]
    if year.isdigit():
        extra["navDate"] = f"{year}-01-01T00:00:00Z"
    if pages:
        extra["thumbnail"] = [image_resource(pages[0], urls, "240,")]
    if urls.pdf:
        extra["rendering"] = [{"id": urls.pdf, "type": "Text", "format": "application/pdf",
                               "label": text.labels["pdf"]}]
    return extra


def title_map(item: Item) -> LanguageMap:
    """The title in Vietnamese and English: each language's own title, else the main one."""
    main = item.title
    by_language: dict[str, str] = {}
    for value in item.dc_values:
        if value.element == "title" and value.language:
            by_language.setdefault(value.language.split("-")[0].lower(), value.value)
    return {"vi": [by_language.get("vi", main)], "en": [by_language.get("en", main)]}


def metadata(item: Item, elements: Mapping[str, LanguageMap]) -> list[dict]:
    """Label/value pairs of the Dublin Core description, in display order (the title is the
    manifest's label)."""
    entries = []
    for element in DISPLAY_ORDER[1:] if DISPLAY_ORDER[0] == "title" else DISPLAY_ORDER:
        values: LanguageMap = {}
        for value in item.dc_values:
            if value.element == element:
                values.setdefault(value.language or "none", []).append(value.value)
        if values:
            entries.append({"label": dict(elements[element]), "value": values})
    return entries


def canvas(page: PageRef, urls: ManifestUrls) -> dict:
    canvas_id = urls.canvas(page)
    return {
        "id": canvas_id,
        "type": "Canvas",
        "label": {"none": [page.label]},
        "width": page.width,
        "height": page.height,
        "items": [{
            "id": f"{canvas_id}/page",
            "type": "AnnotationPage",
            "items": [{
                "id": f"{canvas_id}/image",
                "type": "Annotation",
                "motivation": "painting",
                "body": image_resource(page, urls, "max", sized=True),
                "target": canvas_id,
            }],
        }],
    }


def image_resource(page: PageRef, urls: ManifestUrls, size: str, sized: bool = False) -> dict:
    service = urls.image(page)
    resource = {"id": f"{service}/full/{size}/0/default.jpg", "type": "Image",
                "format": "image/jpeg"}
    if sized:
        resource.update(width=page.width, height=page.height)
    resource["service"] = [{"id": service, "type": "ImageService3", "profile": IMAGE_PROFILE}]
    return resource


def search_response(hits: InsideHits, urls: ManifestUrls, query_url: str,
                    ignored: Sequence[str] = ()) -> dict:
    """A Content Search 2.0 AnnotationPage: one annotation per matching word (its box on the
    canvas), or per page when the page has no word boxes; with, for each page, a
    highlighting annotation that quotes the snippet around the first match."""
    items: list[dict] = []
    context: list[dict] = []
    for hit in hits.pages:
        annotations = word_annotations(hit, urls)
        items.extend(annotations)
        quote = snippet_quote(hit.snippet)
        if quote is not None:
            context.append(_highlighting(annotations[0]["id"], quote))
    document = {"@context": SEARCH_CONTEXT, "id": query_url, "type": "AnnotationPage",
                "items": items}
    if context:
        document["annotations"] = [{"type": "AnnotationPage", "items": context}]
    if ignored:
        document["ignored"] = list(ignored)
    return document


def word_annotations(hit: PageHit, urls: ManifestUrls) -> list[dict]:
    canvas_id = urls.canvas(hit.page)
    if not hit.boxes:
        quote = snippet_quote(hit.snippet)
        value = quote[1] if quote else ""
        return [_annotation(f"{canvas_id}/match", value, canvas_id)]
    return [_annotation(f"{canvas_id}/match/{index}", box.text,
                        f"{canvas_id}#xywh={box.x},{box.y},{box.w},{box.h}")
            for index, box in enumerate(hit.boxes, start=1)]


def _annotation(identifier: str, value: str, target: str) -> dict:
    return {"id": identifier, "type": "Annotation", "motivation": "supplementing",
            "body": {"type": "TextualBody", "value": value, "format": "text/plain"},
            "target": target}


def _highlighting(annotation_id: str, quote: tuple[str, str, str]) -> dict:
    prefix, exact, suffix = quote
    return {"id": f"{annotation_id}/quote", "type": "Annotation", "motivation": "highlighting",
            "target": {"type": "SpecificResource", "source": annotation_id,
                       "selector": [{"type": "TextQuoteSelector", "prefix": prefix,
                                     "exact": exact, "suffix": suffix}]}}


_MARK = re.compile(r"^(.*?)<mark>(.*?)</mark>(.*)$", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


def snippet_quote(snippet: str | None) -> tuple[str, str, str] | None:
    """A snippet's (prefix, first marked words, suffix) as plain text."""
    if not snippet:
        return None
    found = _MARK.match(snippet)
    if found is None:
        return None
    prefix, exact, suffix = (html.unescape(_TAG.sub("", part)) for part in found.groups())
    return prefix, exact, suffix
