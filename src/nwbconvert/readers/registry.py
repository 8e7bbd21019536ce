"""Reader registry: plugins come from the `nwbconvert.readers` entry-point group; detection by content.

A plugin that cannot be used (its import or its class fails, it misses an attribute of `Reader`, its `probe`
raises) is kept aside as a `BrokenReader` with the reason in plain words: `nwbconvert formats` lists it,
detection and `--format` skip it, and nothing else fails because of it.
"""

from __future__ import annotations

import importlib.util
import tempfile
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import get_args

from nwbconvert.errors import AmbiguousFormat, MissingDependency, SourceError, UnknownFormat, UsageError
from nwbconvert.options import SOURCE_PREFIX
from nwbconvert.readers.base import VERIFIED_TEXT, InputKind, Match, Reader, Verified

ENTRY_POINT_GROUP = "nwbconvert.readers"
MAX_FOLDER_FILES = 256  # a folder with more top-level files is not searched for its one recording file
CONTRACT = (*Reader.__annotations__, "probe", "read")  # what every reader declares (see base.Reader)


@dataclass(frozen=True)
class ReaderInfo:
    """What `nwbconvert formats` shows about one reader."""

    name: str
    description: str
    suffixes: tuple[str, ...]
    missing: tuple[tuple[str, str], ...]  # (package, extra) not installed
    verified: Verified
    requires: tuple[tuple[str, str], ...]  # (package, extra) of every optional package
    input: InputKind
    manufacturer: str
    source_options: tuple[str, ...]  # `--set source.KEY=VALUE` keys the reader takes
    note: str  # what else it needs beyond Python packages
    broken: str = ""  # why a registered plugin cannot be used (it is skipped); "" for a working reader

    @property
    def available(self) -> bool:
        return not self.missing and not self.broken

    @property
    def extras(self) -> tuple[str, ...]:
        """pip extras that provide the optional packages, in order, without repeats."""
        return tuple(dict.fromkeys(extra for _, extra in self.requires))

    @property
    def verified_text(self) -> str:
        return VERIFIED_TEXT[self.verified]


@dataclass(frozen=True)
class BrokenReader:
    """A registered plugin that cannot be used, and why."""

    name: str  # the entry point's name
    error: str  # one sentence: which class of which package, what failed


@dataclass
class _Registry:
    readers: dict[str, Reader]
    entry_points: dict[str, EntryPoint]  # of each working reader, to name it when its probe breaks later
    broken: dict[str, BrokenReader] = field(default_factory=dict)

    def set_broken(self, name: str, problem: str) -> None:
        self.broken[name] = BrokenReader(name, _sentence(self.entry_points[name], problem))
        self.readers.pop(name, None)


def _sentence(ep: EntryPoint, problem: str) -> str:
    package = f"{ep.dist.name} {ep.dist.version}" if ep.dist is not None else "an unknown package"
    return f"{ep.value} (from {package}) {problem}; it is skipped until that package is fixed or uninstalled."


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _load(ep: EntryPoint, empty_folder: Path) -> Reader | str:
    """The reader an entry point names, or what is wrong with it."""
    try:
        cls = ep.load()
    except Exception as exc:
        return f"could not be imported ({_error(exc)})"
    try:
        reader = cls()
    except Exception as exc:
        return f"could not be created ({_error(exc)})"
    missing = [name for name in CONTRACT if not hasattr(reader, name)]
    if missing:
        return (
            f"does not declare {', '.join(missing)} (subclass nwbconvert.readers.base.ReaderBase to get the defaults)"
        )
    if reader.verified not in VERIFIED_TEXT or reader.input_kind not in get_args(InputKind):
        return f"declares verified={reader.verified!r} or input_kind={reader.input_kind!r}, not one of base.py's"
    try:  # every reader must answer an empty folder (detection may be given one) without raising
        Match(reader.probe(empty_folder))
    except Exception as exc:
        return f"failed in probe() on an empty folder ({_error(exc)})"
    return reader


@cache
def _registry() -> _Registry:
    found: dict[str, Reader] = {}
    eps: dict[str, EntryPoint] = {}
    broken: dict[str, BrokenReader] = {}
    with tempfile.TemporaryDirectory(prefix="nwbconvert-probe-") as empty:
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            loaded = _load(ep, Path(empty))
            if isinstance(loaded, str):
                broken[ep.name] = BrokenReader(ep.name, _sentence(ep, loaded))
            else:
                found[loaded.name], eps[loaded.name] = loaded, ep
    return _Registry(dict(sorted(found.items())), eps, broken)


def readers() -> dict[str, Reader]:
    """Every working registered reader, built-ins and third-party alike, by name."""
    return _registry().readers


def broken() -> list[BrokenReader]:
    """The registered plugins that cannot be used (skipped everywhere), by name."""
    return sorted(_registry().broken.values(), key=lambda b: b.name)


def _installed(package: str) -> bool:
    try:
        return importlib.util.find_spec(package) is not None
    except (ImportError, ValueError):
        return False


def missing_packages(reader: Reader) -> tuple[tuple[str, str], ...]:
    return tuple((pkg, extra) for pkg, extra in reader.requires if not _installed(pkg))


def info(reader: Reader) -> ReaderInfo:
    """What `nwbconvert formats` and the README table show about `reader`."""
    return ReaderInfo(
        name=reader.name,
        description=reader.description,
        suffixes=tuple(reader.suffixes),
        missing=missing_packages(reader),
        verified=reader.verified,
        requires=tuple(reader.requires),
        input=reader.input_kind,
        manufacturer=reader.manufacturer,
        source_options=tuple(reader.source_options),
        note=reader.note,
    )


def _broken_info(b: BrokenReader) -> ReaderInfo:
    return ReaderInfo(b.name, "broken plugin", (), (), "unverified", (), "file", "", (), "", broken=b.error)


def describe() -> list[ReaderInfo]:
    """Every registered reader, broken plugins included, by name."""
    rows = [info(r) for r in readers().values()] + [_broken_info(b) for b in broken()]
    return sorted(rows, key=lambda i: i.name)


def check_reader_options(reader: Reader, options: tuple[tuple[str, str], ...]) -> None:
    """Refuse `--set source.KEY=...` keys that `reader` does not take."""
    accepted = tuple(reader.source_options)
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
    if name in readers():
        return readers()[name]
    if name in _registry().broken:
        raise UsageError(f"--format {name}: that reader cannot be used: {_registry().broken[name].error}")
    names = ", ".join(readers())
    raise UsageError(f"There is no format called '{name}'. Known formats: {names}.")


def ensure_available(reader: Reader, path: Path) -> None:
    """Raise MissingDependency when the reader's optional packages are not installed."""
    for pkg, extra in missing_packages(reader):
        raise MissingDependency(f"Reading {path} as {reader.description}", pkg, extra)


def _builtin(reader: Reader) -> bool:
    return type(reader).__module__.startswith("nwbconvert.")


def _scores(path: Path, probe_errors: dict[str, Exception] | None = None) -> dict[str, Match]:
    """Each working reader's match for `path`. A built-in reader whose probe raises (on a damaged file) does not
    match it, and the failure goes to `probe_errors`; a third-party plugin whose probe raises is set aside as
    broken."""
    registry = _registry()
    scores: dict[str, Match] = {}
    failed: dict[str, str] = {}
    for name, reader in list(registry.readers.items()):
        try:
            scores[name] = Match(reader.probe(path))
        except Exception as exc:
            if _builtin(reader):
                scores[name] = Match.NO
                if probe_errors is not None:
                    probe_errors[name] = exc
            else:
                failed[name] = f"failed in probe() on {path} ({_error(exc)})"
    for name, problem in failed.items():
        registry.set_broken(name, problem)
    return scores


def claims(path: Path) -> tuple[Match, tuple[str, ...]]:
    """The strongest match for `path` and the readers that give it (none when no reader matches): what a session
    folder's discovery asks of each entry (session_folder.py)."""
    scores = _scores(path)
    best = max(scores.values(), default=Match.NO)
    return best, () if best == Match.NO else tuple(name for name, score in scores.items() if score == best)


def _looks_damaged(path: Path, probe_errors: dict[str, Exception]) -> SourceError | None:
    """The refusal for a source no reader matches because it is damaged: an HDF5 file h5py cannot open, or one
    whose header a built-in reader's probe could not read."""
    from nwbconvert.readers.catalog_hdf5 import hdf5_damage
    from nwbconvert.readers.plain import explain

    hdf5 = hdf5_damage(path)
    if hdf5 is not None:
        what = f"it starts as an HDF5 file, but its contents cannot be opened: {explain(hdf5, path)}"
    elif probe_errors:
        name, exc = next(iter(probe_errors.items()))
        what = f"the {name} reader could not read its header to recognise it: {explain(exc, path)}"
    else:
        return None
    return SourceError(
        f"{path}: looks damaged, so its format cannot be told: {what}. Copy it again from where it was recorded; "
        "if it is intact, name its format with --format NAME (`nwbconvert formats` lists them)."
    )


def detect(path: Path) -> Reader:
    """The one reader whose content match for `path` is strongest, or a clear error (see `detect_source`)."""
    return detect_source(path)[0]


def detect_source(path: Path) -> tuple[Reader, Path]:
    """The reader for `path` and the path it reads: `path` itself, or, for a folder no reader recognises that
    holds exactly one file a reader recognises at its top level, that file."""
    if not path.exists():
        raise SourceError(f"{path}: no such file or folder. Check the path and try again.")
    probe_errors: dict[str, Exception] = {}
    scores = _scores(path, probe_errors)
    best = max(scores.values(), default=Match.NO)
    if best == Match.NO:
        recognised = _recognised_files(path) if path.is_dir() else []
        if len(recognised) == 1:
            return detect(recognised[0]), recognised[0]
        damaged = None if recognised else _looks_damaged(path, probe_errors)
        if damaged is not None:
            raise damaged
        names = ", ".join(readers())
        skipped = ", ".join(b.name for b in broken())
        several = (
            f" It holds {len(recognised)} recording files ({', '.join(p.name for p in recognised[:5])}"
            f"{', ...' if len(recognised) > 5 else ''}): convert each of them on its own, or the folder with "
            "`nwbconvert convert` (a session folder: its sources go into one file)."
            if recognised
            else ""
        )
        raise UnknownFormat(
            f"{path}: no reader recognises this {'folder' if path.is_dir() else 'file'}.{several} "
            f"Known formats: {names}. Point to the recording itself (a file, a SpikeGLX run folder, an "
            "Open Ephys record node, a Neuralynx folder) or name the format with --format NAME; "
            "`nwbconvert formats` lists them"
            + (f" and says why the broken plugins {skipped} were skipped." if skipped else ".")
        )
    winners = [name for name, score in scores.items() if score == best]
    if len(winners) > 1:
        raise AmbiguousFormat(
            f"{path}: several formats match equally well ({', '.join(winners)}). "
            f"Choose one with --format, for example --format {winners[0]}."
        )
    return readers()[winners[0]], path


def _recognised_files(folder: Path) -> list[Path]:
    """The files at the top level of `folder` (hidden ones skipped) that some reader recognises."""
    try:
        files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    except OSError:
        return []
    if len(files) > MAX_FOLDER_FILES:
        return []
    return [p for p in files if max(_scores(p).values(), default=Match.NO) > Match.NO]


def markdown_table(infos: list[ReaderInfo] | None = None) -> str:
    """The README's format table: one row per working registered reader, generated from the registry."""
    rows = [
        "| reader | system | files | input | needs | verified on |",
        "|---|---|---|---|---|---|",
    ]
    for i in describe() if infos is None else infos:
        if i.broken:
            continue
        needs = [f"`pip install 'nwbconvert[{extra}]'`" for extra in i.extras]
        if i.note:
            needs.append(i.note)
        rows.append(
            f"| `{i.name}` | {i.description} | {', '.join(f'`{s}`' for s in i.suffixes)} | {i.input} "
            f"| {'; '.join(needs) or '-'} | {i.verified_text} |"
        )
    return "\n".join(rows) + "\n"
