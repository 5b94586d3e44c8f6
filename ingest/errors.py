"""How an input file or a stage can fail: one class per failure, each with a code and exit code.

Stages raise only these. ``code`` is stable (the web layer translates it and the task table stores
it); ``message`` says what happened and what the person uploading can do about it; ``exit_code``
is what ``khoso ingest`` returns, numbered after OCRmyPDF's where they mean the same thing.
"""

from __future__ import annotations

from enum import IntEnum

from repository.errors import N_


class ExitCode(IntEnum):
    ok = 0
    input_file = 2
    missing_dependency = 3
    child_process_error = 7
    encrypted_pdf = 8
    wrong_password = 9
    corrupt = 11
    truncated = 12
    too_large = 13
    timed_out = 14
    other_error = 15
    crashed = 16


class IngestError(Exception):
    """Base of every ingest failure; ``str(error)`` is the message."""

    code = "error"
    exit_code = ExitCode.other_error
    default = N_("The file could not be processed.")

    def __init__(self, message: str | None = None, *, path: str | None = None) -> None:
        self.message = message or self.default
        self.path = path
        super().__init__(self.message)

    def __reduce__(self):
        # Errors cross process boundaries (limits.run_limited, worker pools): keep the keywords.
        return (_rebuild, (type(self), self.message, self.path))

    def as_dict(self) -> dict[str, object]:
        """What a task record or a JSON answer carries."""
        return {"code": self.code, "message": self.message, "exit_code": int(self.exit_code)}


def _rebuild(cls: type[IngestError], message: str, path: str | None) -> IngestError:
    return cls(message, path=path)


class EmptyFile(IngestError):
    code = "empty"
    exit_code = ExitCode.input_file
    default = N_("The file is empty (0 bytes); upload it again.")


class UnsupportedFormat(IngestError):
    code = "unsupported"
    exit_code = ExitCode.input_file
    default = N_("This kind of file is not accepted: send TIFF, JPEG, PNG, JPEG 2000 or PDF.")


class CorruptFile(IngestError):
    code = "corrupt"
    exit_code = ExitCode.corrupt
    default = N_("The file is damaged and cannot be read; export or scan it again.")


class TruncatedFile(IngestError):
    code = "truncated"
    exit_code = ExitCode.truncated
    default = N_("The file ends too early (incomplete upload or copy); send the whole file again.")


class EncryptedPdf(IngestError):
    """The PDF needs a password to open: the interface should ask for it and retry."""

    code = "encrypted"
    exit_code = ExitCode.encrypted_pdf
    needs_password = True
    default = N_("The PDF is password-protected. What is the password to open it? "
                 "Enter it and try again, or upload a copy without the password.")


class WrongPassword(EncryptedPdf):
    code = "wrong-password"
    exit_code = ExitCode.wrong_password
    default = N_("The password given does not open this PDF. Check it and try again.")


class TooLarge(IngestError):
    code = "too-large"
    exit_code = ExitCode.too_large
    default = N_("The file is larger than this repository accepts; split it or scan at lower size.")


class TimedOut(IngestError):
    code = "timeout"
    exit_code = ExitCode.timed_out
    default = N_("Reading the file took too long and was stopped; the file is probably damaged.")


class DecoderCrashed(IngestError):
    code = "crashed"
    exit_code = ExitCode.crashed
    default = N_("The decoder crashed on this file; the file is probably damaged.")


class MissingDependency(IngestError):
    code = "missing-dependency"
    exit_code = ExitCode.missing_dependency
    default = N_("A program that ingest needs is not installed on this server.")


class ToolFailed(IngestError):
    code = "tool-failed"
    exit_code = ExitCode.child_process_error
    default = N_("An external program failed on this page.")


class OcrFailed(ToolFailed):
    code = "ocr-failed"
    default = N_("Text recognition failed on this page.")


class UnexpectedError(IngestError):
    """A library raised something we have not classified: a bug to report, not the user's fault."""

    code = "internal"
    exit_code = ExitCode.other_error
    default = N_("An unexpected error occurred while reading the file.")


ALL_ERRORS: tuple[type[IngestError], ...] = (
    EmptyFile, UnsupportedFormat, CorruptFile, TruncatedFile, EncryptedPdf, WrongPassword,
    TooLarge, TimedOut, DecoderCrashed, MissingDependency, ToolFailed, OcrFailed, UnexpectedError,
)
