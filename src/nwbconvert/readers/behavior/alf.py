"""IBL ALF session folders, read offline through ONE's `one.alf.io` (no Alyx, no network, no ONE configuration).

A session `<lab>/Subjects/<subject>/<date>/<number>/`, any folder with an `alf/` subfolder, or the alf folder
itself. What becomes what:

- `_ibl_trials.*` (a `table.pqt` and/or one `.npy` per attribute) -> `nwbfile.trials`;
  `_ibl_wheelMoves.*` -> the `wheelMoves` TimeIntervals (`alf_objects.py`);
- `_ibl_wheel.position` / `.timestamps` -> `WheelPosition` (radians); `licks.times` -> `Licks` events;
- `_ibl_<cam>Camera.times` time the raw video (`raw_video_data/_iblrig_<cam>Camera.raw.mp4`) and the pose tables
  (`.dlc.pqt`, `.lightningPose.pqt`) of each camera (`alf_pose.py`);
- `alf/<probe>/[<sorter>/]spikes|clusters|channels.*` -> one units `Sorting` per folder (`alf_units.py`).

ALF times are seconds on the session's main clock. The session's start is `SESSION_DATETIME` of the task
settings (`raw_*data*/_iblrig_taskSettings.raw.json`, the rig's local time); the folder's date alone has no time of
day, so without the settings metadata must give `session_start_time`. In an ephys session (`raw_ephys_data/`) the
main clock is the recording's, which starts before the task: the header then gives no start, so a session folder
places the ALF source at the first sample of the recording's main clock (session_timing.py). Every object found but
not converted is a note.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from nwbconvert.behavior import Behavior, BehaviorSignal, IntervalTable, Pose, Video
from nwbconvert.model import Device, HeaderMetadata, Session, Sorting, SourceNote
from nwbconvert.readers.base import Match, ReaderBase, ReadOptions

if TYPE_CHECKING:
    from nwbconvert.readers.behavior.alf_objects import AlfObject

KNOWN = re.compile(r"^(_ibl_)?(trials|wheel|wheelMoves|licks|[a-z]+Camera)\.[A-Za-z0-9_]+\.(npy|pqt|csv|tsv)$")
SESSION = re.compile(r"(?:^|/)(?:[\w-]+/Subjects/)?([\w.-]+)/(\d{4}-\d{2}-\d{2})/(\d{1,3})$")
TRIALS = "The trials of the IBL task (IBL _ibl_trials object): one row per trial, times in seconds."
MOVES = "Wheel movements detected in the wheel position (IBL _ibl_wheelMoves object)."
LICKS = "Lick times (IBL licks object), detected on the lick detector or the video."


@dataclass(frozen=True)
class AlfSessionFolder:
    session: Path  # the session folder (the alf folder's parent, or the folder given)
    alf: Path  # where the ALF objects are


def find_alf(path: Path) -> AlfSessionFolder | None:
    """The session and alf folders of `path`, or None when it holds no ALF object nwbconvert converts."""
    if not path.is_dir():
        return None
    if (path / "alf").is_dir():
        found = AlfSessionFolder(path, path / "alf")
    else:
        found = AlfSessionFolder(path.parent if path.name == "alf" else path, path)
    try:
        names = [p.name for p in found.alf.iterdir()]
    except OSError:
        return None
    if any(KNOWN.match(n) for n in names) or task_folders(found.alf):
        return found
    if found.alf.name != "alf":  # spike sortings alone: only below an alf folder (not a probe folder of one)
        return None
    from nwbconvert.readers.behavior.alf_units import sorting_folders

    return found if sorting_folders(found.alf) else None


class AlfReader(ReaderBase):
    name = "ibl-alf"
    description = "IBL ALF session folder (alf/: trials, wheel, licks, cameras and pose, per-probe spike sortings)"
    suffixes = ()
    requires = (("one", "behavior"),)
    verified = "real"  # the IBL trials table of ../shared/realdata; whole sessions generated in ONE's layout
    input_kind = "folder"
    manufacturer = "International Brain Laboratory (ONE / ALF)"
    note = "read offline with one.alf.io; session_start_time from the task settings, else it must be given"

    def probe(self, path: Path) -> Match:
        """CONTENT for an alf folder (or a folder holding ALF objects itself); only SUFFIX for a session folder
        with an alf/ subfolder, so that a recording's reader claiming the same folder (raw_ephys_data/) wins and
        a session folder's discovery finds both the recording and alf/."""
        try:
            found = find_alf(path)
        except OSError:
            return Match.NO
        if found is None:
            return Match.NO
        return Match.SUFFIX if found.alf != path else Match.CONTENT

    def read(self, path: Path, options: ReadOptions) -> Session:
        from importlib.metadata import version

        from nwbconvert.errors import SourceError
        from nwbconvert.provenance import describe_files

        found = find_alf(path)
        if found is None:
            raise SourceError(
                f"{path}: no IBL ALF objects found (an alf/ folder holding _ibl_trials.*, _ibl_wheel.*, licks.*, "
                "_ibl_<camera>Camera.* or <probe>/spikes.* files is expected)."
            )
        with self.reading(found.alf):
            behavior, sortings, notes, files = _read_objects(found)
        if options.stub_seconds is not None:
            from nwbconvert.readers.behavior.alf_stub import stubbed

            behavior, sortings = stubbed(behavior, sortings, options.stub_seconds)
        header, start_files, start_notes = _header(found)
        return Session(
            reader=self.name,
            reader_version=f"ONE-api {version('ONE-api')}",
            source=str(path),
            recordings=(),
            devices=(Device("probe", "The probe(s) of the spike sortings (IBL alf/<probe>/)"),) if sortings else (),
            header=header,
            source_files=describe_files([*files, *start_files]),
            sortings=sortings,
            notes=tuple(notes + start_notes),
            behavior=behavior,
        )


@dataclass
class _Read:
    """What the objects of a session became, gathered folder by folder."""

    tables: list[IntervalTable] = field(default_factory=list)
    signals: list[BehaviorSignal] = field(default_factory=list)
    notes: list[SourceNote] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    def name(self, base: str, suffix: str) -> str:
        """`base` the first time (trials -> nwbfile.trials), `base` + the task folder's name after."""
        taken = {t.name for t in self.tables} | {s.name for s in self.signals}
        return base if base not in taken else base + suffix


def task_folders(alf: Path) -> list[Path]:
    """alf/task_00, alf/task_01, ...: the collections iblrig 8 writes each task's objects to."""
    return sorted(p for p in alf.glob("task_*") if p.is_dir() and any(KNOWN.match(f.name) for f in p.iterdir()))


def _read_objects(found: AlfSessionFolder) -> tuple[Behavior, tuple[Sorting, ...], list[SourceNote], list[Path]]:
    from nwbconvert.readers.behavior.alf_objects import list_objects, unused_note
    from nwbconvert.readers.behavior.alf_pose import camera_objects, read_cameras
    from nwbconvert.readers.behavior.alf_units import read_sorting, sorting_folders
    from nwbconvert.units import camel

    read = _Read()
    videos: tuple[Video, ...] = ()
    poses: tuple[Pose, ...] = ()
    for folder in [found.alf, *task_folders(found.alf)]:
        objects = list_objects(folder)
        used = _read_task(objects, camel(folder.name), read)
        if folder == found.alf:
            cameras_found = camera_objects(objects)
            cameras = read_cameras(cameras_found, found.session)
            videos, poses = cameras.videos, cameras.poses
            read.notes += cameras.notes
            read.files += cameras.files
            used += cameras_found
        read.files += [f.path for o in used for f in o.on_session_clock()]
        read.notes += [
            unused_note(o, o.files, "nwbconvert does not convert this ALF object")
            for o in objects.values()
            if o not in used
        ]
    sortings = []
    for folder in sorting_folders(found.alf):
        sorting, sorting_notes, sorting_files = read_sorting(folder, found.alf)
        sortings.append(sorting)
        read.notes += sorting_notes
        read.files += sorting_files
    behavior = Behavior(videos=videos, poses=poses, tables=tuple(read.tables), signals=tuple(read.signals))
    return behavior, tuple(sortings), read.notes, read.files


def _read_task(objects: Mapping[str, AlfObject], suffix: str, read: _Read) -> list[AlfObject]:
    """Trials, wheelMoves, wheel and licks of one folder into `read`; the objects used."""
    from nwbconvert.readers.behavior.alf_objects import by_name, read_events, read_table, read_wheel

    used = []
    for base, description in (("trials", TRIALS), ("wheelMoves", MOVES)):
        obj = by_name(objects, base)
        if obj is not None:
            table, notes = read_table(obj, read.name(base, suffix), description)
            read.tables.append(table)
            read.notes += notes
            used.append(obj)
    for base, signal_name in (("wheel", "WheelPosition"), ("licks", "Licks")):
        obj = by_name(objects, base)
        if obj is not None:
            name = read.name(signal_name, suffix)
            signal, notes = read_wheel(obj, name) if base == "wheel" else read_events(obj, name, LICKS)
            read.signals.append(signal)
            read.notes += notes
            used.append(obj)
    return used


def _header(found: AlfSessionFolder) -> tuple[HeaderMetadata, list[Path], list[SourceNote]]:
    """The subject (from the session path) and the start: the task settings' SESSION_DATETIME, else None with a
    note saying the folder's date has no time of day."""
    match = SESSION.search(found.session.resolve().as_posix())
    subject, date = (match.group(1), match.group(2)) if match else (None, None)
    described = f"IBL session {subject} {date} number {match.group(3)} (ALF folder)." if match else None
    for settings in sorted(found.session.glob("raw_*data*/_iblrig_taskSettings.raw*.json")):
        start = _session_datetime(settings)
        if start is not None and (found.session / "raw_ephys_data").is_dir():
            return HeaderMetadata(None, described, subject), [settings], [_ephys_clock(found, start)]
        if start is not None:
            return HeaderMetadata(start, described, subject), [settings], []
    where = f"the session folder's date ({date}) has no time of day" if date else "the folder names no date"
    note = SourceNote(
        "no-start-time",
        str(found.session),
        f"{found.session}: no _iblrig_taskSettings.raw.json with SESSION_DATETIME found and {where}: give the "
        f"session's start, e.g. --set session_start_time={date or '2024-01-31'}T10:00:00+00:00.",
    )
    return HeaderMetadata(None, described, subject), [], [note]


def _ephys_clock(found: AlfSessionFolder, task_start: dt.datetime) -> SourceNote:
    """An ephys session's ALF times count from the recording's first sample, not from the task's start."""
    return SourceNote(
        "ephys-clock",
        str(found.session),
        f"{found.session}: the ALF times of an ephys session count from the start of its recording "
        f"(raw_ephys_data), not from the task's start ({task_start.isoformat()} in the task settings): converted "
        "with the recording, they are placed at the first sample of its main clock (SpikeGLX's nidq, else imec0.ap); "
        "converted alone, give that sample's time as session_start_time.",
    )


def _session_datetime(settings: Path) -> dt.datetime | None:
    try:
        text = json.loads(settings.read_text(encoding="utf-8")).get("SESSION_DATETIME")
        return dt.datetime.fromisoformat(str(text)) if text else None
    except (OSError, ValueError, AttributeError):
        return None
