"""The reader protocol and small helpers shared by reader plugins."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import ClassVar, Protocol, runtime_checkable

from nwbconvert.model import Session


class Match(IntEnum):
    """How sure a reader is that it can read a path; detection keeps the strongest."""

    NO = 0
    SUFFIX = 1
    CONTENT = 2


@dataclass(frozen=True)
class ReadOptions:
    """Options that change what a reader returns."""

    stub_seconds: float | None = None


@runtime_checkable
class Reader(Protocol):
    name: ClassVar[str]
    description: ClassVar[str]
    suffixes: ClassVar[tuple[str, ...]]
    requires: ClassVar[tuple[tuple[str, str], ...]]  # (import name, pip extra) of optional packages

    def probe(self, path: Path) -> Match:
        """How well this reader matches `path`, reading at most a few header bytes."""
        ...

    def read(self, path: Path, options: ReadOptions) -> Session:
        """Parse headers now; samples stay on disk until the writer reads them."""
        ...


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
