"""Finding the real servers that backend suites need: under CI=true a missing one fails the run."""

from __future__ import annotations

import os

import pytest

SHARED = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "shared"))
POSTGRES_URL = os.environ.get(
    "KHOSO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("KHOSO_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def under_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def service_missing(name: str, reason: str) -> None:
    """Skip with ``reason`` on a developer's machine; fail under CI, where the server must run."""
    message = f"{name} is not available: {reason}"
    if under_ci():
        pytest.fail(message + " (CI=true requires it)", pytrace=False)
    pytest.skip(message)
