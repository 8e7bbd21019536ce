"""Reader registry: plugins come from the `nwbconvert.readers` entry-point group; detection by content."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path

from nwbconvert.errors import AmbiguousFormat, MissingDependency, SourceError, UnknownFormat, UsageError
from nwbconvert.readers.base import SOURCE_PREFIX, InputKind, Match, Reader, Verified

ENTRY_POINT_GROUP = "nwbconvert.readers"


@dataclass(frozen=True)
class ReaderInfo:
    """What `nwbconvert formats` shows about one reader."""

    name: str
    description: str
    suffixes: tuple[str, ...]
    missing: tuple[tuple[str, str], ...]  # (package, extra) not installed
    verified: Verified = "unverified"  # tested on a real file, on a generated one, or not at all
    requires: tuple[tuple[str, str], ...] = ()  # (package, extra) of every optional package
    input: InputKind = "file"
    manufacturer: str = ""
    source_options: tuple[str, ...] = ()  # `--set source.KEY=VALUE` keys the reader takes
    note: str = ""  # what else it needs beyond Python packages

    @property
    def available(self) -> bool:
        return not self.missing

    @property
    def extras(self) -> tuple[str, ...]:
        """pip extras that provide the optional packages, in order, without repeats."""
        return tuple(dict.fromkeys(extra for _, extra in self.requires))


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


def info(reader: Reader) -> ReaderInfo:
    """What `nwbconvert formats` and the README table show about `reader` (third-party ones may omit fields)."""
    return ReaderInfo(
        name=reader.name,
        description=reader.description,
        suffixes=tuple(reader.suffixes),
        missing=missing_packages(reader),
        verified=getattr(reader, "verified", "unverified"),
        requires=tuple(reader.requires),
        input=getattr(reader, "input_kind", "file"),
        manufacturer=getattr(reader, "manufacturer", ""),
        source_options=tuple(getattr(reader, "source_options", ())),
        note=getattr(reader, "note", ""),
    )


def describe() -> list[ReaderInfo]:
    return [info(r) for r in readers().values()]


def check_reader_options(reader: Reader, options: tuple[tuple[str, str], ...]) -> None:
    """Refuse `--set source.KEY=...` keys that `reader` does not take."""
    accepted = tuple(getattr(reader, "source_options", ()))
    unknown = sorted({key for key, _ in options if key not in accepted})
    if not unknown:
        return
    keys = ", ".join(SOURCE_PREFIX + k for k in unknown)
    if not accepted:
        raise UsageError(f"--set {keys}: the {reader.name} reader takes no source.* settings; remove them.")
    known = ", ".join(SOURCE_PREFIX + k for k in accepted)
    raise UsageError(f"--set {keys}: not a setting of the {reader.name} reader. Its settings: {known}.")


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


VERIFIED_TEXT = {
    "real": "real file",
    "generated": "generated file",
    "unverified": "not verified",
}


def markdown_table(infos: list[ReaderInfo] | None = None) -> str:
    """The README's format table: one row per registered reader, generated from the registry."""
    rows = [
        "| reader | system | files | input | needs | verified on |",
        "|---|---|---|---|---|---|",
    ]
    for i in describe() if infos is None else infos:
        needs = [f"`pip install 'nwbconvert[{extra}]'`" for extra in i.extras]
        if i.note:
            needs.append(i.note)
        rows.append(
            f"| `{i.name}` | {i.description} | {', '.join(f'`{s}`' for s in i.suffixes)} | {i.input} "
            f"| {'; '.join(needs) or '-'} | {VERIFIED_TEXT.get(i.verified, i.verified)} |"
        )
    return "\n".join(rows) + "\n"
