"""Reading an OAI-PMH request: the verb and its arguments, checked as the protocol says
(repeated, unknown, missing and exclusive arguments, and the syntax of each value)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from repository.oai.errors import BadArgument, BadVerb

RESUMPTION_TOKEN = "resumptionToken"  # noqa: S105 - an argument name
_LIST = ({"metadataPrefix"}, {"from", "until", "set", RESUMPTION_TOKEN})
# verb → (required, optional) arguments; resumptionToken is exclusive wherever it is allowed.
VERBS: dict[str, tuple[set[str], set[str]]] = {
    "Identify": (set(), set()),
    "ListMetadataFormats": (set(), {"identifier"}),
    "ListSets": (set(), {RESUMPTION_TOKEN}),
    "GetRecord": ({"identifier", "metadataPrefix"}, set()),
    "ListIdentifiers": _LIST,
    "ListRecords": _LIST,
}
_PREFIX = re.compile(r"[A-Za-z0-9\-_.!~*'()]+")
SET_SPEC = re.compile(r"[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*")


@dataclass(frozen=True)
class OAIRequest:
    """A well-formed request: a known verb with arguments it allows."""

    verb: str
    arguments: dict[str, str]

    def get(self, name: str) -> str | None:
        return self.arguments.get(name)


def parse_request(pairs: Iterable[tuple[str, str]]) -> OAIRequest:
    """Check ``pairs`` (query string and form body together, in order) and return the
    request; BadVerb or BadArgument otherwise."""
    pairs = list(pairs)
    verbs = [value for name, value in pairs if name == "verb"]
    if len(verbs) != 1 or verbs[0] not in VERBS:
        raise BadVerb("The verb is missing, repeated or not one of the six OAI-PMH verbs")
    verb = verbs[0]
    arguments: dict[str, str] = {}
    for name, value in pairs:
        if name == "verb":
            continue
        if name in arguments:
            raise BadArgument(f"The argument '{name}' is repeated")
        arguments[name] = value
    _check_names(verb, arguments)
    _check_values(arguments)
    return OAIRequest(verb, arguments)


def _check_names(verb: str, arguments: dict[str, str]) -> None:
    required, optional = VERBS[verb]
    unknown = sorted(set(arguments) - required - optional)
    if unknown:
        raise BadArgument(f"{verb} does not take the argument '{unknown[0]}'")
    if RESUMPTION_TOKEN in arguments:
        if len(arguments) > 1:
            raise BadArgument("resumptionToken is an exclusive argument")
        return
    missing = sorted(required - set(arguments))
    if missing:
        raise BadArgument(f"{verb} needs the argument '{missing[0]}'")


def _check_values(arguments: dict[str, str]) -> None:
    for name, value in arguments.items():
        if not value:
            raise BadArgument(f"The argument '{name}' is empty")
    prefix = arguments.get("metadataPrefix")
    if prefix is not None and not _PREFIX.fullmatch(prefix):
        raise BadArgument("metadataPrefix has characters the protocol does not allow")
    set_spec = arguments.get("set")
    if set_spec is not None and not SET_SPEC.fullmatch(set_spec):
        raise BadArgument("set is not a valid setSpec")
