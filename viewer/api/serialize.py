"""The JSON shapes of the API's resources (the OpenAPI document describes the same shapes)."""

from __future__ import annotations

from datetime import datetime

from repository.access import Action, Identity, Policy
from repository.collections import CollectionSummary
from repository.exports.dublin_core import display_sorted
from repository.models import Collection, DCValue, IngestBatch, IngestTask, Item, ItemFile
from repository.search import Hit
from viewer.api.common import link


def timestamp(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def collection_json(summary: CollectionSummary) -> dict:
    collection: Collection = summary.collection
    return {
        "slug": collection.slug,
        "title": collection.title,
        "title_en": collection.title_en,
        "description": collection.description,
        "description_en": collection.description_en,
        "parent": collection.parent.slug if collection.parent else None,
        "children": [child.slug for child in collection.children],
        "item_count": summary.item_count,
        "links": {
            "self": link("api.collection", slug=collection.slug),
            "items": link("api.items_list", collection=collection.slug),
            "web": link("public.collection", slug=collection.slug),
        },
    }


def value_json(value: DCValue) -> dict:
    return {"element": value.element, "qualifier": value.qualifier, "value": value.value,
            "language": value.language}


def item_json(item: Item) -> dict:
    """An item as listings show it."""
    return {
        "handle": item.handle,
        "title": item.title,
        "status": item.status.value,
        "collection": item.collection.slug,
        "created_at": timestamp(item.created_at),
        "updated_at": timestamp(item.updated_at),
        "published_at": timestamp(item.published_at),
        "links": {
            "self": link("api.item", handle=item.handle),
            "files": link("api.item_files", handle=item.handle),
            "web": link("public.item", handle=item.handle),
        },
    }


def item_detail_json(item: Item, identity: Identity, policy: Policy, page_count: int) -> dict:
    """An item with its whole description and what the caller may do with it."""
    return {
        **item_json(item),
        "metadata": [value_json(value) for value in display_sorted(item.dc_values)],
        "page_count": page_count,
        "rights": {
            "view_pages": policy.can(identity, Action.VIEW_PAGES, item),
            "download": policy.can(identity, Action.DOWNLOAD, item),
            "edit": policy.can(identity, Action.EDIT, item),
        },
    }


def file_json(stored: ItemFile, handle: str, allowed: bool) -> dict:
    return {
        "id": stored.id,
        "role": stored.role.value,
        "media_type": stored.media_type,
        "size": stored.size,
        "sha256": stored.sha256,
        "name": stored.original_name,
        "page": stored.page.sequence if stored.page is not None else None,
        "content_url": link("api.file_content", handle=handle, file_id=stored.id)
        if allowed else None,
    }


def hit_json(hit: Hit, handle: str | None) -> dict:
    return {
        "handle": handle,
        "title": hit.title,
        "creators": list(hit.creators),
        "year": hit.year,
        "score": hit.score,
        "pages": list(hit.pages),
        "page_count": hit.page_count,
        "snippets": [{"page": snippet.page, "html": snippet.html} for snippet in hit.snippets],
        "links": {"self": link("api.item", handle=handle)} if handle else {},
    }


def batch_json(batch: IngestBatch, counts: dict[str, int]) -> dict:
    return {
        "id": batch.id,
        "collection": batch.collection.slug,
        "source_name": batch.source_name,
        "status": batch.status.value,
        "created_by": batch.created_by.username if batch.created_by else None,
        "created_at": timestamp(batch.created_at),
        "updated_at": timestamp(batch.updated_at),
        "finished_at": timestamp(batch.finished_at),
        "tasks": counts,
        "problem_count": len(batch.problems or []),
        "links": {"self": link("api.batch", batch_id=batch.id)},
    }


def task_json(task: IngestTask) -> dict:
    return {
        "id": task.id,
        "kind": task.kind,
        "sequence": task.sequence,
        "original_name": task.original_name,
        "item": task.item.handle if task.item is not None else None,
        "attempts": task.attempts,
        "error_code": task.error_code,
        "error_message": task.error_message,
    }
