"""Error families of nwbconvert; each carries the process exit code that the CLI returns."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes are part of the command-line interface (documented in the README)."""

    OK = 0
    VALIDATION = 1
    USAGE = 2
    SOURCE = 3
    METADATA = 4
    OUTPUT = 5
    DEPENDENCY = 6
    INTERRUPTED = 130


class NwbConvertError(Exception):
    """Root of every error nwbconvert reports to a user: one paragraph, one exit code."""

    exit_code: ExitCode = ExitCode.SOURCE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(NwbConvertError):
    exit_code = ExitCode.USAGE


class SourceError(NwbConvertError):
    """The input cannot be read: missing, unreadable, corrupt or of an unknown layout."""

    exit_code = ExitCode.SOURCE


class UnknownFormat(SourceError):
    pass


class AmbiguousFormat(SourceError):
    pass


class MetadataError(NwbConvertError):
    exit_code = ExitCode.METADATA


class OutputError(NwbConvertError):
    exit_code = ExitCode.OUTPUT


class MissingDependency(NwbConvertError):
    exit_code = ExitCode.DEPENDENCY

    def __init__(self, what: str, package: str, extra: str = "") -> None:
        how = f"pip install 'nwbconvert[{extra}]' (or: pip install {package})" if extra else f"pip install {package}"
        super().__init__(
            f"{what} needs the optional package '{package}', which is not installed. Install it with: {how}."
        )
        self.package = package
        self.extra = extra


class ValidationFailed(NwbConvertError):
    """The written file has error-level findings; it was kept aside, not moved into place."""

    exit_code = ExitCode.VALIDATION
