"""The OAI-PMH error conditions, one class per code; the provider turns each into an
``<error code="...">`` element. Messages are in English: their readers are harvesters."""

from __future__ import annotations


class OAIError(Exception):
    """Base of the protocol errors; ``code`` is the OAI-PMH error code."""

    code = ""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(f"{self.code}: {message}")

    @property
    def echoes_request(self) -> bool:
        """Whether the response may repeat the request's arguments as attributes (the
        protocol forbids it after badVerb and badArgument)."""
        return True


class BadVerb(OAIError):
    code = "badVerb"

    @property
    def echoes_request(self) -> bool:
        return False


class BadArgument(OAIError):
    code = "badArgument"

    @property
    def echoes_request(self) -> bool:
        return False


class BadResumptionToken(OAIError):
    code = "badResumptionToken"


class CannotDisseminateFormat(OAIError):
    code = "cannotDisseminateFormat"


class IdDoesNotExist(OAIError):
    code = "idDoesNotExist"


class NoRecordsMatch(OAIError):
    code = "noRecordsMatch"


class NoMetadataFormats(OAIError):
    code = "noMetadataFormats"


class NoSetHierarchy(OAIError):
    code = "noSetHierarchy"
