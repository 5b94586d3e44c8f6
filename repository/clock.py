"""The library's calendar: days begin at midnight in Viet Nam, whatever the server's zone."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

LIBRARY_TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def library_today() -> date:
    """Embargoes lift, cards expire and months turn at midnight in Viet Nam."""
    return datetime.now(LIBRARY_TIMEZONE).date()
