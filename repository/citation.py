"""Citations of items, in a plain style a reader can paste into a bibliography."""

from __future__ import annotations

from repository.models import Item


def cite(item: Item, permalink: str | None = None) -> str:
    """``Creator; Creator (Year). Title. Publisher. Link`` with the parts the item has."""
    creators = "; ".join(item.values("creator"))
    year = item.first("date")[:4]
    parts = []
    head = creators
    if year:
        head = f"{head} ({year})" if head else f"({year})"
    if head:
        parts.append(head + ".")
    parts.append(item.title.rstrip(".") + ".")
    publisher = item.first("publisher")
    if publisher:
        parts.append(publisher.rstrip(".") + ".")
    if permalink:
        parts.append(permalink)
    return " ".join(parts)
