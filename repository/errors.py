"""Errors of the domain. The web layer maps each class to one HTTP status; the CLI to a message."""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark a message for translation without translating it here (the web layer does)."""
    return message


class RepositoryError(Exception):
    """Base of every error the domain raises on purpose; ``str()`` is safe to show a user.

    ``template`` is an English msgid with ``%(name)s`` placeholders, so that the web layer can
    show it in the reader's language: ``gettext(exc.template, **exc.params)``.
    """

    def __init__(self, template: str, **params: object) -> None:
        self.template = template
        self.params = params
        super().__init__(template % params if params else template)


class NotFound(RepositoryError):
    """The thing asked for does not exist (or the asker may not know that it exists)."""


class PermissionDenied(RepositoryError):
    """The identity may not do this."""


class Gone(RepositoryError):
    """The item existed and was withdrawn."""


class InvalidInput(RepositoryError):
    """The input breaks a rule; the message says which."""


class Conflict(RepositoryError):
    """The change clashes with the current state (a duplicate name, a stale edit)."""
