"""The reader contract (`Reader`), the base that gives its defaults (`ReaderBase`) and helpers for readers.

A third-party reader registers a class under the entry-point group `nwbconvert.readers`. The simplest way to
meet the contract is to subclass `ReaderBase`, set `name`, `description` and `suffixes` (and whichever of the
other attributes differ from their defaults) and implement `probe` and `read`. A class that does not subclass
it must declare every attribute of `Reader` itself; one that misses any is reported broken by
`nwbconvert formats` and skipped.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import ClassVar, Literal, Protocol, runtime_checkable

from nwbconvert.errors import NwbConvertError, SourceError
from nwbconvert.model import Session, SourceNote

Verified = Literal["real", "real-headers", "generated", "unverified"]
"""What a test converts with a reader: a real recording, a recording built around real headers with generated
samples, a file the project writes in the vendor format, or nothing."""

VERIFIED_TEXT: dict[str, str] = {
    "real": "real file",
    "real-headers": "real headers",  # real headers (SpikeGLX .meta), generated samples
    "generated": "generated file",
    "unverified": "not verified",
}

InputKind = Literal["file", "folder", "file or folder"]


class Match(IntEnum):
    """How sure a reader is that it can read a path; detection keeps the strongest."""

    NO = 0
    SUFFIX = 1
    CONTENT = 2


@dataclass(frozen=True)
class ReadOptions:
    """Options that change what a reader returns."""

    stub_seconds: float | None = None
    reader_options: tuple[tuple[str, str], ...] = ()  # `--set source.KEY=VALUE` pairs, KEY without "source."
    allow_incomplete: bool = False  # --allow-incomplete: convert what an incomplete copy holds, with a warning

    def reader_option(self, key: str) -> str | None:
        """The last value given for `source.<key>`, or None."""
        found = [value for k, value in self.reader_options if k == key]
        return found[-1] if found else None


@runtime_checkable
class Reader(Protocol):
    """Everything the registry reads from a reader; `ReaderBase` gives the defaults of the optional ones."""

    name: ClassVar[str]  # what --format takes
    description: ClassVar[str]
    suffixes: ClassVar[tuple[str, ...]]
    requires: ClassVar[tuple[tuple[str, str], ...]]  # (import name, pip extra) of optional packages
    verified: ClassVar[Verified]  # what a test converts: a real file, real headers, a generated file, or none
    input_kind: ClassVar[InputKind]
    manufacturer: ClassVar[str]
    source_options: ClassVar[tuple[str, ...]]  # `--set source.KEY=VALUE` keys the reader takes
    note: ClassVar[str]  # what else it needs beyond Python packages

    def probe(self, path: Path) -> Match:
        """How well this reader matches `path`, reading at most a few header bytes."""
        ...

    def read(self, path: Path, options: ReadOptions) -> Session:
        """Parse headers now; samples stay on disk until the writer reads them."""
        ...


class ReaderBase(ABC):
    """A `Reader` with the defaults: subclasses set `name`, `description`, `suffixes`, `probe` and `read`."""

    name: ClassVar[str]
    description: ClassVar[str]
    suffixes: ClassVar[tuple[str, ...]]
    requires: ClassVar[tuple[tuple[str, str], ...]] = ()
    verified: ClassVar[Verified] = "unverified"
    input_kind: ClassVar[InputKind] = "file"
    manufacturer: ClassVar[str] = ""
    source_options: ClassVar[tuple[str, ...]] = ()
    note: ClassVar[str] = ""
    unreadable_advice: ClassVar[str] = (
        "The recording may be truncated, damaged or incomplete (a missing sibling file); check that every file "
        "of the recording was copied, or choose another reader with --format."
    )

    @abstractmethod
    def probe(self, path: Path) -> Match: ...

    @abstractmethod
    def read(self, path: Path, options: ReadOptions) -> Session: ...

    def unreadable(self, path: Path, exc: Exception) -> SourceError:
        """The one-paragraph error for a source the library could not read: what is wrong in plain words (see
        `plain.explain`; the library's own text is in the traceback --debug prints), then what to do."""
        from nwbconvert.readers.plain import explain

        return SourceError(
            f"{path}: could not be read as {self.description} ({explain(exc, path)}). {self.unreadable_advice}"
        )

    @contextmanager
    def reading(self, path: Path) -> Iterator[None]:
        """Any failure of the library inside becomes `unreadable`; nwbconvert's own errors pass through."""
        try:
            yield
        except NwbConvertError:
            raise
        except Exception as exc:
            raise self.unreadable(path, exc) from exc


def shortfall(path: Path, what: str, expected: str, found: str, options: ReadOptions) -> SourceNote:
    """The one rule for a source holding less than its headers declare (a truncated or incompletely copied
    recording): an error (exit 3) saying what is missing, or with --allow-incomplete the note to keep with it.

    `what` names what falls short ("the AP band's samples", "event file Events.nev"); `expected` and `found` say by
    how much ("7 200 000 samples (fileSizeBytes in the .meta)", "3 600 000 samples")."""
    if not options.allow_incomplete:
        raise SourceError(
            f"{path}: the copy looks incomplete: {what}: expected {expected}, found {found}. Copy the recording "
            "again from where it was recorded, or give --allow-incomplete to convert what is there (the file then "
            "records the shortfall)."
        )
    return SourceNote(
        "incomplete",
        str(path),
        f"{path}: {what}: expected {expected}, found {found}; converted what is there.",
        expected,
        found,
    )


def head(path: Path, n: int) -> bytes:
    """The first `n` bytes of a file (fewer if it is shorter; empty if unreadable)."""
    try:
        with path.open("rb") as f:
            return f.read(n)
    except OSError:
        return b""


def walk_files(root: Path, max_depth: int = 4) -> Iterator[Path]:
    """Files below `root`, breadth-first, at most `max_depth` folders deep, hidden ones skipped."""
    level = [root]
    for _ in range(max_depth + 1):
        nxt: list[Path] = []
        for folder in level:
            try:
                entries = sorted(folder.iterdir())
            except OSError:
                continue
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                if entry.is_dir():
                    nxt.append(entry)
                else:
                    yield entry
        level = nxt


def has_file(root: Path, pattern: str, max_depth: int = 4) -> bool:
    """True when a file below `root` matches the glob `pattern` (by name)."""
    return any(p.match(pattern) for p in walk_files(root, max_depth))
