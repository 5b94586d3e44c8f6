"""The API's OpenAPI 3.0.3 document, written by hand next to the views it describes, and a
plain reference page made from it (no scripts, nothing from elsewhere).

Hand-written rather than generated: the views are ordinary Flask views returning dicts, and a
generator (apispec, flask-smorest) would want marshmallow schemas for every shape and the views
rewritten around them. The schemathesis test keeps the document and the views in agreement.
"""

from __future__ import annotations

from flask import jsonify, render_template, request

from repository.collections import SLUG
from repository.listing import MAX_PER_PAGE
from repository.models import DC_ELEMENTS, BatchStatus, FileRole, ItemStatus, TaskState
from repository.search import FACETS, Sort
from repository.search.backend import MAX_RESULT_PAGE
from viewer.api.common import MAX_PAGE, bp

JSON = "application/json"
HANDLE_PATTERN = "^[0-9a-z]{1,32}$"


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict) -> dict:
    return {**schema, "nullable": True}


def obj(properties: dict, required: list[str] | None = None, **extra) -> dict:
    """An object schema; every property is required unless ``required`` says otherwise (OpenAPI
    3.0 wants no ``required`` at all rather than an empty list)."""
    names = list(properties) if required is None else required
    return {"type": "object", "properties": properties, **extra,
            **({"required": names} if names else {})}


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
TIMESTAMP = {"type": "string", "format": "date-time"}
LINKS = {"type": "object", "additionalProperties": {"type": "string", "format": "uri"}}
PAGING = {"page": {"type": "integer", "minimum": 1}, "per_page": {"type": "integer", "minimum": 1},
          "total": {"type": "integer", "minimum": 0}, "pages": {"type": "integer", "minimum": 1}}


def listing(entry: str, **extra: dict) -> dict:
    return obj({"items": {"type": "array", "items": ref(entry)}, **PAGING, **extra})


SCHEMAS = {
    "Error": obj({"error": STRING, "message": STRING, "status": INTEGER}),
    "Collection": obj({
        "slug": STRING, "title": STRING, "title_en": nullable(STRING), "description": STRING,
        "description_en": STRING, "parent": nullable(STRING),
        "children": {"type": "array", "items": STRING}, "item_count": INTEGER, "links": LINKS}),
    "Item": obj({
        "handle": STRING, "title": STRING,
        "status": {"type": "string", "enum": [status.value for status in ItemStatus]},
        "collection": STRING, "created_at": TIMESTAMP, "updated_at": TIMESTAMP,
        "published_at": nullable(TIMESTAMP), "links": LINKS}),
    "MetadataValue": obj({
        "element": {"type": "string", "enum": list(DC_ELEMENTS)},
        "qualifier": nullable(STRING), "value": STRING, "language": nullable(STRING)},
        required=["element", "value"]),
    "FieldRef": obj({"element": {"type": "string", "enum": list(DC_ELEMENTS)},
                     "qualifier": nullable(STRING), "language": nullable(STRING)},
                    required=["element"]),
    "Rights": obj({"view_pages": {"type": "boolean"}, "download": {"type": "boolean"},
                   "edit": {"type": "boolean"}}),
    "ItemDetail": {"allOf": [ref("Item"), obj({
        "metadata": {"type": "array", "items": ref("MetadataValue")},
        "page_count": INTEGER, "rights": ref("Rights")})]},
    "MetadataReplace": obj({"metadata": {"type": "array", "items": ref("MetadataValue")}}),
    "MetadataPatch": obj({"metadata": {"type": "array", "items": ref("MetadataValue")},
                          "remove": {"type": "array", "items": ref("FieldRef")}}, required=[]),
    "File": obj({
        "id": INTEGER, "role": {"type": "string", "enum": [role.value for role in FileRole]},
        "media_type": STRING, "size": INTEGER, "sha256": STRING, "name": STRING,
        "page": nullable(INTEGER), "content_url": nullable({"type": "string", "format": "uri"})}),
    "FileList": obj({"files": {"type": "array", "items": ref("File")}}),
    "Hit": obj({
        "handle": nullable(STRING), "title": STRING,
        "creators": {"type": "array", "items": STRING}, "year": nullable(INTEGER),
        "score": {"type": "number"}, "pages": {"type": "array", "items": INTEGER},
        "page_count": INTEGER,
        "snippets": {"type": "array", "items": obj({"page": INTEGER, "html": STRING})},
        "links": LINKS}),
    "FacetValue": obj({"value": STRING, "count": INTEGER, "selected": {"type": "boolean"}}),
    "TaskCounts": obj({state.value: INTEGER for state in TaskState}),
    "Batch": obj({
        "id": INTEGER, "collection": STRING, "source_name": STRING,
        "status": {"type": "string", "enum": [status.value for status in BatchStatus]},
        "created_by": nullable(STRING), "created_at": TIMESTAMP, "updated_at": TIMESTAMP,
        "finished_at": nullable(TIMESTAMP), "tasks": ref("TaskCounts"),
        "problem_count": INTEGER, "links": LINKS}),
    "Task": obj({"id": INTEGER, "kind": STRING, "sequence": INTEGER, "original_name": STRING,
                 "item": nullable(STRING), "attempts": INTEGER, "error_code": STRING,
                 "error_message": STRING}),
    "BatchDetail": {"allOf": [ref("Batch"), obj({
        "problems": {"type": "array", "items": {}},
        "failures": {"type": "array", "items": ref("Task")}})]},
    "CollectionList": listing("Collection"),
    "ItemList": listing("Item"),
    "BatchList": listing("Batch"),
    "SearchResults": listing("Hit", query=STRING, sort=STRING, facets={
        "type": "object", "additionalProperties": {"type": "array", "items": ref("FacetValue")}}),
}


def parameter(name: str, where: str, schema: dict, description: str, required: bool = False,
              **extra) -> dict:
    return {"name": name, "in": where, "schema": schema, "description": description,
            "required": required or where == "path", **extra}


PAGE = parameter("page", "query", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
                 "Page number, from 1.")
PER_PAGE = parameter("per_page", "query",
                     {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
                     f"Entries per page (default 20, at most {MAX_PER_PAGE}).")
HANDLE = parameter("handle", "path", {"type": "string", "pattern": HANDLE_PATTERN},
                   "The item's permanent handle.")
ERRORS = {
    400: "The request is malformed (a parameter out of range, a body of the wrong shape).",
    401: "A token is needed, or the one sent is not valid.",
    403: "The caller may not do this.",
    404: "No such thing, or the caller may not know that it exists.",
    409: "The change clashes with the current state.",
    410: "The item was withdrawn; the message carries its citation.",
    416: "The byte range is outside the file.",
    422: "A value breaks a rule of the description; the message says which.",
    503: "Search or storage is not available right now.",
}


def responses(ok: str | None, *codes: int, ok_status: int = 200, headers: dict | None = None
              ) -> dict:
    answers: dict = {}
    if ok is not None:
        answers[str(ok_status)] = {"description": "OK",
                                   "content": {JSON: {"schema": ref(ok)}},
                                   **({"headers": headers} if headers else {})}
    for code in (*codes, 400, 401):
        answers[str(code)] = {"description": ERRORS[code],
                              "content": {JSON: {"schema": ref("Error")}}}
    return answers


LINK_HEADER = {"Link": {"description": "RFC 8288 links to the first, prev, next, last pages.",
                        "schema": STRING}}
READ = [{}, {"bearerAuth": []}]
STAFF = [{"bearerAuth": []}]


def operation(summary: str, ok: str | None, *codes: int, params: list | None = None,
              security: list | None = None, tag: str = "catalogue", **extra) -> dict:
    paged_list = ok is not None and ok.endswith(("List", "Results"))
    return {"summary": summary, "tags": [tag], "parameters": params or [],
            "security": security or READ,
            "responses": responses(ok, *codes, headers=LINK_HEADER if paged_list else None),
            **extra}


def metadata_body(schema: str) -> dict:
    return {"required": True, "content": {JSON: {"schema": ref(schema)}}}


SEARCH_PARAMS = [
    parameter("q", "query", {"type": "string", "maxLength": 2000},
              "Words, \"phrases\", AND/OR/NOT, field:value; with or without tone marks."),
    parameter("sort", "query", {"type": "string", "enum": [sort.value for sort in Sort]},
              "Order of the hits."),
    parameter("page", "query", {"type": "integer", "minimum": 1, "maximum": MAX_RESULT_PAGE},
              "Page number, from 1."),
    PER_PAGE,
    *(parameter(name, "query", {"type": "array", "items": STRING}, f"Only hits with this {name}.",
                style="form", explode=True) for name in FACETS),
]

FILE_CONTENT = {
    "summary": "The file's bytes (Range, ETag and If-None-Match honoured)",
    "tags": ["catalogue"], "security": READ,
    "parameters": [HANDLE, parameter("file_id", "path", {"type": "integer", "minimum": 1},
                                     "The file's id, from the file list.")],
    "responses": {
        "200": {"description": "The whole file",
                "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}},
        "206": {"description": "The byte range asked for",
                "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}},
        "304": {"description": "Not modified"},
        **responses(None, 403, 404, 410, 416),
    },
}

PATHS = {
    "/collections": {"get": operation("All collections, with the items each caller may find",
                                      "CollectionList", params=[PAGE, PER_PAGE])},
    "/collections/{slug}": {"get": operation(
        "One collection", "Collection", 404,
        params=[parameter("slug", "path", {"type": "string", "pattern": SLUG.pattern},
                          "The collection's short name.")])},
    "/items": {"get": operation(
        "Items the caller may find, newest first", "ItemList", 404, params=[
            parameter("collection", "query", {"type": "string"}, "Only this collection's."),
            parameter("status", "query", {"type": "array", "items": {
                "type": "string", "enum": [status.value for status in ItemStatus]}},
                "Only items with one of these statuses (others than published: staff).",
                style="form", explode=True),
            PAGE, PER_PAGE])},
    "/items/{handle}": {"get": operation("One item's description", "ItemDetail", 404, 410,
                                         params=[HANDLE])},
    "/items/{handle}/metadata": {
        "put": operation("Replace the whole description (staff)", "ItemDetail",
                         403, 404, 410, 422, params=[HANDLE], security=STAFF,
                         requestBody=metadata_body("MetadataReplace")),
        "patch": operation("Replace the values of the fields named; remove others (staff)",
                           "ItemDetail", 403, 404, 410, 422, params=[HANDLE], security=STAFF,
                           requestBody=metadata_body("MetadataPatch")),
    },
    "/items/{handle}/files": {"get": operation(
        "The item's files; content_url is null where the caller may not fetch the file",
        "FileList", 404, 410, params=[HANDLE])},
    "/items/{handle}/files/{file_id}/content": {"get": FILE_CONTENT},
    "/search": {"get": operation("Search, as the portal's search page", "SearchResults", 503,
                                 params=SEARCH_PARAMS, tag="search")},
    "/batches": {"get": operation("Ingest batches, newest first (staff)", "BatchList", 403,
                                  params=[PAGE, PER_PAGE], security=STAFF, tag="ingest")},
    "/batches/{batch_id}": {"get": operation(
        "One batch: task counts, planning problems, failed tasks (staff)", "BatchDetail", 403,
        404, params=[parameter("batch_id", "path", {"type": "integer", "minimum": 1},
                               "The batch's number.")], security=STAFF, tag="ingest")},
}


def document(server_url: str) -> dict:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Khoso API",
            "version": "1",
            "description": "Collections, items, files, search and ingest batches of the "
                           "library's digital repository, under the portal's access rules. "
                           "Staff scripts authenticate with 'Authorization: Bearer <token>' "
                           "(tokens from 'khoso token create'). Lists are paged with page and "
                           "per_page and carry Link headers.",
        },
        "servers": [{"url": server_url}],
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }


@bp.get("/openapi.json")
def openapi_document():
    return jsonify(document(request.url_root.rstrip("/") + bp.url_prefix))


@bp.get("/docs")
def docs():
    spec = document(request.url_root.rstrip("/") + bp.url_prefix)
    return render_template("api/docs.html", spec=spec)
