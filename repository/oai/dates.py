"""OAI-PMH datestamps: UTC, to the second (``YYYY-MM-DDThh:mm:ssZ``) or to the day."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time

from repository.oai.errors import BadArgument

SECONDS = "YYYY-MM-DDThh:mm:ssZ"
DAYS = "YYYY-MM-DD"
_FORMS = {
    SECONDS: (re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z"), "%Y-%m-%dT%H:%M:%SZ"),
    DAYS: (re.compile(r"\d{4}-\d{2}-\d{2}"), "%Y-%m-%d"),
}


def format_datestamp(moment: datetime) -> str:
    """``moment`` as the protocol writes it, to the second, in UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def truncate(moment: datetime) -> datetime:
    """``moment`` in UTC without its fraction of a second (datestamps have none)."""
    return moment.astimezone(UTC).replace(microsecond=0)


def granularity_of(text: str) -> str | None:
    """Which of the two forms ``text`` is written in, or None."""
    return next((name for name, (pattern, _) in _FORMS.items() if pattern.fullmatch(text)),
                None)


def parse_bound(name: str, text: str, *, upper: bool) -> tuple[datetime, str]:
    """The instant that the ``from`` (lower) or ``until`` (upper) argument means, and its
    granularity; a day as ``until`` means up to the last second of that day."""
    granularity = granularity_of(text)
    if granularity is None:
        raise BadArgument(f"'{name}' must be YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ")
    try:
        parsed = datetime.strptime(text, _FORMS[granularity][1]).replace(tzinfo=UTC)
    except ValueError as exc:
        raise BadArgument(f"'{name}' is not a real date: {text}") from exc
    if granularity == DAYS and upper:
        parsed = datetime.combine(parsed.date(), time(23, 59, 59), tzinfo=UTC)
    return parsed, granularity


def parse_datestamp(text: str) -> datetime:
    """A harvested datestamp (either granularity) as a UTC instant; ValueError if neither."""
    text = text.strip()
    granularity = granularity_of(text)
    if granularity is None:
        raise ValueError(f"not an OAI-PMH datestamp: {text!r}")
    return datetime.strptime(text, _FORMS[granularity][1]).replace(tzinfo=UTC)


def format_for(moment: datetime, granularity: str) -> str:
    """``moment`` as a ``from`` argument for a repository of ``granularity``."""
    if granularity == DAYS:
        return moment.astimezone(UTC).strftime("%Y-%m-%d")
    return format_datestamp(moment)
