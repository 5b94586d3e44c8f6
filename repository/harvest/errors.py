"""Why a harvest failed: one message a member of staff can act on, kept on the partner."""

from __future__ import annotations


class HarvestError(Exception):
    """The partner's feed could not be harvested (unreachable, HTTP error, broken XML, an
    OAI-PMH error other than noRecordsMatch). ``str()`` is the message shown to staff."""
