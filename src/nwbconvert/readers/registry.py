"""Reader registry: plugins come from the `nwbconvert.readers` entry-point group; detection by content."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path

from nwbconvert.errors import AmbiguousFormat, MissingDependency, SourceError, UnknownFormat, UsageError
from nwbconvert.readers.base import Match, Reader

ENTRY_POINT_GROUP = "nwbconvert.readers"


@dataclass(frozen=True)
class ReaderInfo:
    """What `nwbconvert formats` shows about one reader."""

    name: str
    description: str
    suffixes: tuple[str, ...]
    missing: tuple[tuple[str, str], ...]  # (package, extra) not installed

    @property
    def available(self) -> bool:
        return not self.missing


@cache
def readers() -> dict[str, Reader]:
    """Every registered reader, built-ins and third-party alike, by name."""
    found: dict[str, Reader] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        cls = ep.load()
        found[cls.name] = cls()
    return dict(sorted(found.items()))


def _installed(package: str) -> bool:
    try:
        return importlib.util.find_spec(package) is not None
    except (ImportError, ValueError):
        return False


def missing_packages(reader: Reader) -> tuple[tuple[str, str], ...]:
    return tuple((pkg, extra) for pkg, extra in reader.requires if not _installed(pkg))


def describe() -> list[ReaderInfo]:
    return [ReaderInfo(r.name, r.description, r.suffixes, missing_packages(r)) for r in readers().values()]


def get(name: str) -> Reader:
    """The reader called `name`, or a usage error listing the names that exist."""
    try:
        return readers()[name]
    except KeyError:
        names = ", ".join(readers())
        raise UsageError(f"There is no format called '{name}'. Known formats: {names}.") from None


def ensure_available(reader: Reader, path: Path) -> None:
    """Raise MissingDependency when the reader's optional packages are not installed."""
    for pkg, extra in missing_packages(reader):
        raise MissingDependency(f"Reading {path} as {reader.description}", pkg, extra)


def detect(path: Path) -> Reader:
    """The one reader whose content match for `path` is strongest, or a clear error."""
    if not path.exists():
        raise SourceError(f"{path}: no such file or folder. Check the path and try again.")
    scores = {name: r.probe(path) for name, r in readers().items()}
    best = max(scores.values(), default=Match.NO)
    if best == Match.NO:
        names = ", ".join(readers())
        raise UnknownFormat(
            f"{path}: no reader recognises this {'folder' if path.is_dir() else 'file'}. "
            f"Known formats: {names}. Point to the recording itself (a file, a SpikeGLX run folder, an "
            "Open Ephys record node, a Neuralynx folder) or name the format with --format NAME; "
            "`nwbconvert formats` lists them."
        )
    winners = [name for name, score in scores.items() if score == best]
    if len(winners) > 1:
        raise AmbiguousFormat(
            f"{path}: several formats match equally well ({', '.join(winners)}). "
            f"Choose one with --format, for example --format {winners[0]}."
        )
    return readers()[winners[0]]
