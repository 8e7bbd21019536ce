"""Session folders: `nwbconvert convert DIR` finds every recognisable source under DIR and converts them as one
session (as a session config's `sources` would), or says why it cannot.

Discovery walks DIR (at most MAX_DEPTH folders deep and MAX_PROBED entries probed; hidden entries, the output and
nwbconvert's partial and rejected files skipped) and lets the registry probe each entry. A file a reader claims is
a source. A folder a reader claims is one source and is not descended into: when the reader claims none of its
entries (an ALF folder, whose tables the table reader would claim too) or is one of `WHOLE`, nothing in it is
looked at; else other readers' content matches in it are sources too (a sorting in a SpikeGLX run folder; not a
Neuralynx folder's Events.nev, which the Blackrock reader claims by suffix only). Two exceptions: a folder whose
one claimed entry is a folder beside other entries passes the claim down to it (`imaging/` claimed by suite2p
because it holds `imaging/suite2p/`, beside a TIFF movie); a folder whose reader claims several of its folders and
none of its files, each of them holding a folder the reader claims again, holds several sources of that reader
(two SpikeGLX runs, each holding its probe folders; not the planes of a suite2p folder, nor one run's probe
folders beside its NI-DAQ files). Entries no reader claims, or that several claim equally, are "not placed", with
the reason.

Each source has a role from its reader (`ROLES`). A role that one session holds once (a recording, a sorting, an
imaging movie, a segmentation of one reader; a trials table) found twice is a UsageError naming both and the
session-config keys that choose (`folder:` with `ignore:`, or the sources listed under `sources:`); so are two
pose files of one video (a SLEAP .slp and its analysis .h5; DeepLabCut's filtered and unfiltered tables). Pose files
are paired with their video by name (the pose's file name starts with the video's stem: DeepLabCut's
`m3v1mp4DLC_resnet50_…h5` and `m3v1mp4.mp4`); a paired video in the pose's folder is brought by the pose reader
(which times the pose by it), so it is not a source of its own. Sources of one reader whose files share a stem get
a `name` from their folder, so the names they bring never collide (merge.py).

How the sources found are put on one clock, and what `--dry-run` says of it: session_timing.py.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import Any

from nwbconvert.errors import UsageError
from nwbconvert.options import SourceSpec
from nwbconvert.readers.base import Match

MAX_DEPTH = 6  # folders below DIR that are searched
MAX_PROBED = 2000  # entries probed at most; the rest is listed as not searched
CONFIG_KEYS = "`folder: DIR` with `ignore: [PATH]` in a session config (or each source under `sources:`)"


class Role(str, Enum):
    RECORDING = "recording"
    SORTING = "sorting"
    MOVIE = "imaging movie"
    SEGMENTATION = "segmentation"
    POSE = "pose"
    VIDEO = "video"
    TABLE = "table"
    BEHAVIOR = "behavior"


SEGMENTATIONS = ("suite2p", "caiman", "cnmfe", "extract", "minian", "inscopix-cellset")
MOVIES = ("scanimage", "tiff", "hdf5-movie", "inscopix", "miniscope", "scanbox", "femtonics", "bruker", "thor")
ROLES: dict[str, Role] = {
    "sorting-folder": Role.SORTING,
    **dict.fromkeys(SEGMENTATIONS, Role.SEGMENTATION),
    **dict.fromkeys((*MOVIES, "micromanager"), Role.MOVIE),
    **dict.fromkeys(("deeplabcut", "lightning-pose", "sleap", "pose-sleap-io"), Role.POSE),
    "video": Role.VIDEO,
    "behavior-table": Role.TABLE,
    "ibl-alf": Role.BEHAVIOR,
}
WHOLE = ("ibl-alf",)  # readers whose claim of a folder covers everything in it (an IBL session's raw videos)
MANY = (Role.POSE, Role.VIDEO, Role.TABLE)  # several cameras, several tables: no limit (but one trials table)


def role_of(reader: str) -> Role:
    """The role of a reader's sources: from `ROLES`, else behavior for nwbconvert's behavior readers, else
    recording (every other reader, third-party ones included, reads a recording)."""
    if reader in ROLES:
        return ROLES[reader]
    from nwbconvert.readers import registry

    module = type(registry.readers()[reader]).__module__ if reader in registry.readers() else ""
    return Role.BEHAVIOR if module.startswith("nwbconvert.readers.behavior") else Role.RECORDING


@dataclass(frozen=True)
class Found:
    """One source found in the folder."""

    path: Path
    reader: str
    role: Role
    name: str | None = None  # appended to the names it brings (its reader found more than once)
    video: Path | None = None  # a pose: the video paired with it by name

    def spec(self) -> SourceSpec:
        return SourceSpec(self.path, format=self.reader, name=self.name)


@dataclass(frozen=True)
class Unplaced:
    """An entry of the folder that is not converted, and why."""

    path: Path
    reason: str


@dataclass(frozen=True)
class SessionFolder:
    """What `convert DIR` found in DIR; `timing` (per source, after reading) says how each is placed in time."""

    folder: Path
    sources: tuple[Found, ...]
    unplaced: tuple[Unplaced, ...] = ()
    timing: tuple[str, ...] = ()

    def specs(self) -> tuple[SourceSpec, ...]:
        return tuple(s.spec() for s in self.sources)

    def to_json(self) -> dict[str, Any]:
        timing = self.timing or ("",) * len(self.sources)
        return {
            "folder": str(self.folder),
            "sources": [
                {
                    "path": str(s.path),
                    "reader": s.reader,
                    "role": s.role.value,
                    "name": s.name,
                    "video": str(s.video) if s.video else None,
                    "timing": t,
                }
                for s, t in zip(self.sources, timing)
            ],
            "not_placed": [{"path": str(u.path), "reason": u.reason} for u in self.unplaced],
        }


@dataclass
class _Walk:
    """The state of one discovery: each entry's claim (probed once), what was found and what was not placed."""

    skip: tuple[Path, ...]
    claims: dict[Path, tuple[Match, tuple[str, ...]]] = field(default_factory=dict)
    found: list[Found] = field(default_factory=list)
    unplaced: list[Unplaced] = field(default_factory=list)
    full: bool = False

    def claim(self, path: Path) -> tuple[str, ...]:
        """The readers that claim `path` most strongly."""
        return self.scored(path)[1]

    def scored(self, path: Path) -> tuple[Match, tuple[str, ...]]:
        if path not in self.claims:
            from nwbconvert.readers import registry

            if len(self.claims) >= MAX_PROBED:
                self.full = True
                return Match.NO, ()
            self.claims[path] = registry.claims(path)
        return self.claims[path]

    def children(self, folder: Path) -> list[Path]:
        try:
            entries = sorted(folder.iterdir())
        except OSError as exc:
            self.unplaced.append(Unplaced(folder, f"could not be listed ({exc.strerror or exc})"))
            return []
        return [p for p in entries if not _skipped(p, self.skip)]

    def visit(self, path: Path, depth: int) -> None:
        readers = self.claim(path)
        if self.full:
            return
        if len(readers) > 1:
            why = f"several readers recognise it equally ({', '.join(readers)}); name its format under `sources:`"
            self.unplaced.append(Unplaced(path, why))
        elif path.is_file() or (readers and not path.is_dir()):
            if readers:
                self.found.append(Found(path, readers[0], role_of(readers[0])))
            else:
                self.unplaced.append(Unplaced(path, "no reader recognises it"))
        elif depth > MAX_DEPTH:
            self.unplaced.append(Unplaced(path, f"more than {MAX_DEPTH} folders deep: not searched"))
        else:
            self._folder(path, readers[0] if readers else None, depth)

    def _folder(self, folder: Path, reader: str | None, depth: int) -> None:
        kids = self.children(folder)
        if reader is None:
            for kid in kids:
                self.visit(kid, depth + 1)
            return
        mine = [k for k in kids if self.claim(k) == (reader,)]
        if not mine or reader in WHOLE:  # the reader claims the folder as a whole: its entries are its parts
            self.found.append(Found(folder, reader, role_of(reader)))
            return
        passes_down = len(mine) == 1 and mine[0].is_dir() and len(kids) > 1  # `folder` only holds the source
        if passes_down or (len(mine) > 1 and all(self._holds_source(k, reader) for k in mine)):
            for kid in kids:
                self.visit(kid, depth + 1)
            return
        self.found.append(Found(folder, reader, role_of(reader)))
        for kid in kids:  # other readers' content matches: a sorting in a run folder (not a .nev beside .ncs files)
            strength, readers = self.scored(kid)
            if strength == Match.CONTENT and readers != (reader,):
                self.visit(kid, depth + 1)

    def _holds_source(self, folder: Path, reader: str) -> bool:
        """Whether `folder` is a source of `reader` beside others of it: a folder holding a folder the reader
        claims (a SpikeGLX run holds its probe folders; a suite2p plane or a probe folder holds none)."""
        return folder.is_dir() and any(k.is_dir() and self.claim(k) == (reader,) for k in self.children(folder))


def _skipped(path: Path, skip: Sequence[Path]) -> bool:
    from nwbconvert.output import PARTIAL_TAG

    name = path.name
    if name.startswith(".") or PARTIAL_TAG in name or ".rejected." in name or name == "__pycache__":
        return True
    return any(_same(path, s) for s in skip)


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def discover(folder: Path, skip: Sequence[Path] = (), ignore: Sequence[Path] = ()) -> SessionFolder:
    """Every source under `folder` (`skip`: the output; `ignore`: paths the user left out), paired and named,
    or a UsageError when one role has two candidates."""
    walk = _Walk(tuple(skip) + tuple(ignore))
    walk.visit(folder, 0)
    if walk.full:
        walk.unplaced.append(Unplaced(folder, f"holds more than {MAX_PROBED} entries: the rest was not searched"))
    found, unplaced = paired(walk.found), list(walk.unplaced)
    check_roles(folder, found)
    return SessionFolder(folder, tuple(named(found)), tuple(unplaced))


def paired(found: Sequence[Found]) -> list[Found]:
    """Each pose with the video whose stem its file name starts with (the longest such stem); a paired video in
    the pose's folder is left out: the pose reader brings it."""
    videos = [path for f in found if f.role is Role.VIDEO for path in _video_files(f.path)]
    brought: set[Path] = set()
    out: list[Found] = []
    for f in found:
        if f.role is Role.POSE:
            video = pose_video(f.path, videos)
            if video is not None and video.parent == f.path.parent:
                brought.add(video)
            f = replace(f, video=video)
        out.append(f)
    return [f for f in out if f.path not in brought]


def _video_files(path: Path) -> list[Path]:
    """A video source's files: itself, or the videos a folder the video reader claims holds."""
    if not path.is_dir():
        return [path]
    suffixes = (".mp4", ".avi", ".mov", ".mkv", ".m4v", ".mpg", ".mpeg", ".wmv", ".webm", ".flv", ".mj2")
    try:
        return sorted(p for p in path.iterdir() if p.suffix.lower() in suffixes and not p.name.startswith("."))
    except OSError:
        return []


def pose_video(pose: Path, videos: Sequence[Path]) -> Path | None:
    """The video `pose` was estimated on, by name: its name starts with the video's stem, followed by the end of
    the name or by anything but a digit (cam1 is not cam10's video)."""
    name = pose.name
    matches = [v for v in videos if name.startswith(v.stem) and not name[len(v.stem) : len(v.stem) + 1].isdigit()]
    return max(matches, key=lambda v: len(v.stem), default=None)


def _is_trials(f: Found) -> bool:
    return f.role is Role.TABLE and "trials" in f.path.name.lower()


def check_roles(folder: Path, found: Sequence[Found]) -> None:
    """Two candidates for a role the session holds once -> one UsageError naming both and the keys that choose."""
    groups: dict[str, list[Found]] = {}
    for f in found:
        if f.role not in MANY:
            groups.setdefault(f"{f.role.value} ({f.reader})", []).append(f)
        elif _is_trials(f):
            groups.setdefault("trials table", []).append(f)
        elif f.role is Role.POSE and f.video is not None:
            groups.setdefault(f"pose of the video {f.video}", []).append(f)
    clashes = {what: fs for what, fs in groups.items() if len(fs) > 1}
    if not clashes:
        return
    lines = "; ".join(f"{what}: {', '.join(str(f.path) for f in fs)}" for what, fs in clashes.items())
    example = next(iter(clashes.values()))[-1].path
    raise UsageError(
        f"{folder}: holds more than one candidate for one role of a session, so which one to convert cannot be "
        f"told: {lines}. Choose with {CONFIG_KEYS}, e.g. `folder: {folder}` and `ignore: [{example}]`, then "
        "`nwbconvert convert --config session.yaml`."
    )


def _camel(path: Path) -> str:
    words = re.split(r"[^A-Za-z0-9]+", path.name.split(".")[0])
    return "".join(w[:1].upper() + w[1:] for w in words if w)[:32] or "Source"


def _stems(f: Found) -> set[str]:
    """What the names a source brings come from: its video files' stems (a video folder), its video's, its own."""
    if f.role is Role.VIDEO:
        return {_camel(p) for p in _video_files(f.path)}
    return {_camel(f.video or f.path)}


def named(found: Sequence[Found]) -> list[Found]:
    """Sources of one reader whose files share a stem (left/cam.mp4 and right/cam.mp4: the same camera and series
    names) get a name from their folder (unique, letters and digits); the others keep the names they bring."""
    taken: set[str] = set()
    out = []
    for f in found:
        if any(g is not f and g.reader == f.reader and _stems(g) & _stems(f) for g in found):
            base = _camel(f.path if f.path.is_dir() else f.path.parent)
            name, i = base, 2
            while name in taken:
                name, i = f"{base}{i}", i + 1
            taken.add(name)
            f = replace(f, name=name)
        out.append(f)
    return out


def several_sources(path: Path, output: Path | None) -> SessionFolder | None:
    """The session folder `path` is, when it holds more than one source (else None: a recording folder, read as
    before)."""
    if not path.is_dir():
        return None
    found = discover(path, skip=(output,) if output is not None else ())
    return found if len(found.sources) > 1 else None
