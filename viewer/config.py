"""Configuration: defaults, then the instance file, then KHOSO_* environment, then test config."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

INSTANCE_FILE = "khoso.cfg"
SECRET_FILE = "secret_key"  # noqa: S105 (a file name, not a secret)

DEFAULTS: dict[str, Any] = {
    # Parts chosen by URL; None means "the embedded default inside the instance folder".
    "DATABASE_URL": None,
    "STORAGE_URL": None,
    "SEARCH_URL": None,
    "QUEUE_URL": None,
    "SITE_NAME": "Khoso",
    "LIBRARY_NAME": "Thư viện tỉnh",
    "LANGUAGES": ["vi", "en"],
    "BABEL_DEFAULT_LOCALE": "vi",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,      # set True behind HTTPS (KHOSO_SESSION_COOKIE_SECURE=true)
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_SECURE": False,     # set True with SESSION_COOKIE_SECURE
    "REMEMBER_COOKIE_DURATION": 30 * 24 * 3600,
    # How many reverse proxies in front of the portal to trust for X-Forwarded-For (0: none),
    # so that throttling and reading-room checks see the reader's address, not the proxy's.
    "TRUSTED_PROXY_HOPS": 0,
    "PERMANENT_SESSION_LIFETIME": 8 * 3600,
    "MAX_CONTENT_LENGTH": 2 * 1024**3,
    "WTF_CSRF_TIME_LIMIT": None,         # tokens live as long as the session
    "LOGIN_MAX_FAILURES": 5,             # per account and per address ...
    "LOGIN_FAILURE_WINDOW": 15 * 60,     # ... within this many seconds
    # IIIF Image API: rendered tiles are cached on local disk (per web node, LRU-capped).
    "IIIF_CACHE_DIR": None,              # None: <instance>/iiif-cache
    "IIIF_CACHE_MAX_BYTES": 2 * 1024**3,
    "IIIF_MAX_WIDTH": 8192,
    "IIIF_MAX_HEIGHT": 8192,
    "IIIF_MAX_AREA": 4096 * 4096,
    "IIIF_TILE_SIZE": 512,
    "IIIF_DECODED_CACHE_BYTES": 128 * 1024**2,   # decoded source images kept per worker
    "IIIF_MAX_AGE": 86400,
    # OAI-PMH: set the identifier in production so record identifiers never depend on the host.
    "OAI_REPOSITORY_IDENTIFIER": None,   # None: the request's host name
    "OAI_ADMIN_EMAIL": None,
    "OAI_REPOSITORY_NAME": None,         # None: SITE_NAME · LIBRARY_NAME
    "OAI_PAGE_SIZE": 100,
    "HARVEST_TIMEOUT": 60,
    # Reading: appended PDF blocks (page trees for pdf.js, watermarks) cached per web node.
    "READER_CACHE_DIR": None,            # None: <instance>/reader-cache
    "READER_CACHE_MAX_BYTES": 1024**3,
    "READER_PRESIGN_SECONDS": 300,       # S3 presigned downloads of open, unwatermarked files
    "READER_PRESIGN_MIN_BYTES": 16 * 1024**2,
    "READER_MAX_AGE": 3600,
    "RATELIMIT_STORAGE_URI": "memory://",
    "SEARCH_RATE_LIMIT": "120/minute",   # per client address
    "REGISTER_RATE_LIMIT": "10/hour",
    "ADMIN_USERNAME": "admin",
    "ADMIN_PASSWORD": None,              # generated and printed once when unset
}


def load_config(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Fill ``app.config`` in order: defaults, instance file, environment, test config."""
    app.config.from_mapping(DEFAULTS)
    if test_config is None:
        app.config.from_pyfile(os.path.join(app.instance_path, INSTANCE_FILE), silent=True)
        app.config.from_prefixed_env(prefix="KHOSO")
    else:
        app.config.from_mapping(test_config)
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    _fill_embedded_defaults(app, instance)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = read_or_create_secret(instance / SECRET_FILE)


def _fill_embedded_defaults(app: Flask, instance: Path) -> None:
    defaults = {
        "DATABASE_URL": f"sqlite:///{instance / 'khoso.sqlite3'}",
        "STORAGE_URL": f"file://{instance / 'objects'}",
        "SEARCH_URL": f"tantivy://{instance / 'index'}",
        "QUEUE_URL": f"sqlite://{instance / 'queue.sqlite3'}",
    }
    for key, value in defaults.items():
        if not app.config.get(key):
            app.config[key] = value


def read_or_create_secret(path: Path) -> str:
    """The secret key is made once and kept (mode 0600) so sessions survive restarts."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    secret = secrets.token_hex(32)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret)
        handle.flush()
        os.fsync(handle.fileno())
    try:
        # link() fails if another process won the race; then its secret is the one to use.
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return path.read_text().strip()
