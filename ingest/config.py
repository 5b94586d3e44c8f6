"""Ingest settings: read once from the application's configuration, then passed as a value.

Workers, the CLI and the web layer build one ``IngestSettings`` from ``app.config`` and hand it
down; nothing in ``ingest`` reads the environment or ``current_app``. The settings are plain and
picklable, so a worker process can rebuild its database, store and queue from them after a fork.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.context import DEBIAN_TESSDATA, Options
from ingest.limits import Limits

# Keys this package reads from the application's configuration, with their defaults.
DEFAULTS: dict[str, Any] = {
    "INGEST_WORK_ROOT": None,           # default: <instance>/ingest; shared by every worker
    "INGEST_LANGUAGES": "vie",          # Tesseract languages unless a collection says otherwise
    "INGEST_COLLECTION_OPTIONS": {},    # {"han-nom": {"languages": "vie+eng"}, ...}
    "INGEST_QUEUE_NAME": "khoso",       # the Huey queue's name (Redis keys, SQLite table rows)
    "INGEST_WORKERS": None,             # worker processes; default: one per core
    "INGEST_RETRIES": 3,                # further attempts after an unexpected error or a crash
    "INGEST_RETRY_DELAY": 10.0,         # seconds before the first retry, doubled each time
    "INGEST_STALE_AFTER": 900.0,        # a running task untouched this long is presumed dead
    "INGEST_TESSDATA": DEBIAN_TESSDATA,
    "INGEST_LIMITS": {},                # Limits per file or page: seconds, memory_mb, max_pages...
}

# Options a collection or a batch may set (everything else comes from the defaults).
OPTION_KEYS = frozenset({"languages", "dpi", "deskew", "ocr"})


@dataclass(frozen=True)
class IngestSettings:
    """Everything a worker needs to run a task, whatever process or machine it runs on."""

    work_root: Path
    database_url: str = ""
    storage_url: str = ""
    search_url: str = ""
    queue_url: str = ""
    queue_name: str = "khoso"
    workers: int | None = None
    languages: str = "vie"
    collection_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    retries: int = 3
    retry_delay: float = 10.0
    stale_after: float = 900.0
    tessdata: str = DEBIAN_TESSDATA
    limits: Limits = field(default_factory=Limits)

    @property
    def max_attempts(self) -> int:
        return self.retries + 1

    @property
    def processes(self) -> int:
        return self.workers or os.cpu_count() or 1

    def batch_options(self, collection_slug: str, **given: Any) -> dict[str, Any]:
        """The options a new batch records: defaults, then the collection's, then ``given``."""
        chosen: dict[str, Any] = {"languages": self.languages}
        chosen.update(self.collection_options.get(collection_slug, {}))
        chosen.update({key: value for key, value in given.items() if value is not None})
        return {key: value for key, value in chosen.items() if key in OPTION_KEYS}

    def options(self, recorded: Mapping[str, Any]) -> Options:
        """The stages' ``Options`` for a batch from what the batch recorded."""
        known = {key: recorded[key] for key in ("languages", "dpi", "deskew") if key in recorded}
        return Options(tessdata=self.tessdata, limits=self.limits, **known)

    def replace(self, **changes: Any) -> IngestSettings:
        return dataclasses.replace(self, **changes)


def settings_from_config(config: Mapping[str, Any], instance_path: str | Path
                         ) -> IngestSettings:
    """Build the settings from a Flask ``app.config`` (after the app factory filled it)."""
    def get(key: str) -> Any:
        value = config.get(key)
        return DEFAULTS[key] if value is None else value

    work_root = get("INGEST_WORK_ROOT") or Path(instance_path) / "ingest"
    return IngestSettings(
        database_url=config["DATABASE_URL"], storage_url=config["STORAGE_URL"],
        search_url=config["SEARCH_URL"], queue_url=config["QUEUE_URL"],
        work_root=Path(work_root).resolve(), queue_name=get("INGEST_QUEUE_NAME"),
        workers=_optional_int(get("INGEST_WORKERS")), languages=get("INGEST_LANGUAGES"),
        collection_options=dict(get("INGEST_COLLECTION_OPTIONS")),
        retries=int(get("INGEST_RETRIES")), retry_delay=float(get("INGEST_RETRY_DELAY")),
        stale_after=float(get("INGEST_STALE_AFTER")), tessdata=get("INGEST_TESSDATA"),
        limits=Limits(**get("INGEST_LIMITS")))


def _optional_int(value: Any) -> int | None:
    return None if value in (None, "", 0, "0") else int(value)
