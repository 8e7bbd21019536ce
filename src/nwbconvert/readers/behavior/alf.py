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
day, so without the settings metadata must give `session_start_time`. Every object found but not converted is a
note.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path

from nwbconvert.behavior import Behavior, BehaviorSignal, IntervalTable
from nwbconvert.model import Device, HeaderMetadata, Session, Sorting, SourceNote
from nwbconvert.readers.base import Match, ReaderBase, ReadOptions

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
    if any(KNOWN.match(n) for n in names):
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
        try:
            return Match.CONTENT if find_alf(path) is not None else Match.NO
        except OSError:
            return Match.NO

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


def _read_objects(found: AlfSessionFolder) -> tuple[Behavior, tuple[Sorting, ...], list[SourceNote], list[Path]]:
    from nwbconvert.readers.behavior.alf_objects import (
        by_name,
        list_objects,
        read_events,
        read_table,
        read_wheel,
        unused_note,
    )
    from nwbconvert.readers.behavior.alf_pose import camera_objects, read_cameras
    from nwbconvert.readers.behavior.alf_units import read_sorting, sorting_folders

    objects = list_objects(found.alf)
    tables: list[IntervalTable] = []
    signals: list[BehaviorSignal] = []
    notes: list[SourceNote] = []
    used = []
    for name, description in (("trials", TRIALS), ("wheelMoves", MOVES)):
        obj = by_name(objects, name)
        if obj is not None:
            table, table_notes = read_table(obj, name, description)
            tables.append(table)
            notes += table_notes
            used.append(obj)
    for name, reader in (("wheel", lambda o: read_wheel(o)), ("licks", lambda o: read_events(o, "Licks", LICKS))):
        obj = by_name(objects, name)
        if obj is not None:
            signal, signal_notes = reader(obj)
            signals.append(signal)
            notes += signal_notes
            used.append(obj)
    cameras_found = camera_objects(objects)
    cameras = read_cameras(cameras_found, found.session)
    notes += cameras.notes
    used += cameras_found
    sortings = []
    files = [f.path for o in used for f in o.on_session_clock()] + list(cameras.files)
    for folder in sorting_folders(found.alf):
        sorting, sorting_notes, sorting_files = read_sorting(folder, found.alf)
        sortings.append(sorting)
        notes += sorting_notes
        files += sorting_files
    for obj in objects.values():
        if obj not in used:
            notes.append(unused_note(obj, obj.files, "nwbconvert does not convert this ALF object"))
    behavior = Behavior(videos=cameras.videos, poses=cameras.poses, tables=tuple(tables), signals=tuple(signals))
    return behavior, tuple(sortings), notes, files


def _header(found: AlfSessionFolder) -> tuple[HeaderMetadata, list[Path], list[SourceNote]]:
    """The subject (from the session path) and the start: the task settings' SESSION_DATETIME, else None with a
    note saying the folder's date has no time of day."""
    match = SESSION.search(found.session.resolve().as_posix())
    subject, date = (match.group(1), match.group(2)) if match else (None, None)
    for settings in sorted(found.session.glob("raw_*data*/_iblrig_taskSettings.raw*.json")):
        start = _session_datetime(settings)
        if start is not None:
            return HeaderMetadata(session_start_time=start, subject_id=subject), [settings], []
    where = f"the session folder's date ({date}) has no time of day" if date else "the folder names no date"
    note = SourceNote(
        "no-start-time",
        str(found.session),
        f"{found.session}: no _iblrig_taskSettings.raw.json with SESSION_DATETIME found and {where}: give the "
        f"session's start, e.g. --set session_start_time={date or '2024-01-31'}T10:00:00+00:00.",
    )
    return HeaderMetadata(subject_id=subject), [], [note]


def _session_datetime(settings: Path) -> dt.datetime | None:
    try:
        text = json.loads(settings.read_text(encoding="utf-8")).get("SESSION_DATETIME")
        return dt.datetime.fromisoformat(str(text)) if text else None
    except (OSError, ValueError, AttributeError):
        return None
