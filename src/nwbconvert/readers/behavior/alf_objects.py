"""ALF objects of one folder (listed and loaded through `one.alf.io`), and the task's: trials, wheel, wheelMoves, licks.

An object is every file `_<namespace>_<object>.<attribute>[_<timescale>].<ext>` sharing namespace and object
(`one.alf.spec.FILE_SPEC`). Times on another clock than the session's (a `_bpod` timescale) are not converted:
each becomes a note.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nwbconvert.behavior import BehaviorSignal, IntervalTable, SignalRole, TableColumn
from nwbconvert.errors import SourceError
from nwbconvert.imaging import FrameTimes
from nwbconvert.model import SourceNote

NOT_CLOCKS = ("ccf",)  # "timescales" that are not clocks: channels.brainLocationIds_ccf_2017 (an atlas version)


@dataclass(frozen=True)
class AlfFile:
    path: Path
    namespace: str | None
    attribute: str
    timescale: str | None
    extension: str

    @property
    def key(self) -> str:
        """The attribute's name as one.alf.io.load_object keys it: `intervals`, `brainLocationIds_ccf_2017`."""
        return f"{self.attribute}_{self.timescale}" if self.timescale else self.attribute


@dataclass(frozen=True)
class AlfObject:
    """The files of one object in one folder (one namespace)."""

    name: str  # "trials", "leftCamera", "spikes"
    folder: Path
    files: tuple[AlfFile, ...]

    @property
    def label(self) -> str:
        namespace = self.files[0].namespace
        return f"_{namespace}_{self.name}" if namespace else self.name

    def on_session_clock(self) -> tuple[AlfFile, ...]:
        """Its files, leaving out those on another clock (a timescale that is not an atlas version)."""
        return tuple(f for f in self.files if f.timescale is None or f.timescale.startswith(NOT_CLOCKS))

    def other_clocks(self) -> tuple[AlfFile, ...]:
        kept = set(self.on_session_clock())
        return tuple(f for f in self.files if f not in kept)

    def find(self, attribute: str, extension: str | None = None) -> AlfFile | None:
        return next(
            (
                f
                for f in self.on_session_clock()
                if f.attribute == attribute and (extension is None or f.extension == extension)
            ),
            None,
        )

    def load(self, files: tuple[AlfFile, ...] | None = None) -> dict[str, Any]:
        """The attributes (all on the session clock, or `files`) by one.alf.io.load_object, keyed as it keys them."""
        from one.alf.io import load_object

        chosen = self.on_session_clock() if files is None else files
        if not chosen:
            return {}
        return dict(load_object([f.path for f in chosen]))


def list_objects(folder: Path) -> dict[str, AlfObject]:
    """Every ALF object of `folder` (not its subfolders), by `<namespace>/<object>` ("ibl/trials", "/licks")."""
    from one.alf.io import filter_by

    if not folder.is_dir():
        return {}
    names, parts = filter_by(folder)
    grouped: dict[str, list[AlfFile]] = {}
    for name, (namespace, obj, attribute, timescale, _extra, extension) in zip(names, parts):
        key = f"{namespace or ''}/{obj}"
        grouped.setdefault(key, []).append(AlfFile(folder / name, namespace, attribute, timescale, extension))
    return {key: AlfObject(key.split("/", 1)[1], folder, tuple(files)) for key, files in sorted(grouped.items())}


def by_name(objects: Mapping[str, AlfObject], name: str) -> AlfObject | None:
    """The object of that name, `_ibl_` namespace first."""
    return objects.get(f"ibl/{name}") or next((o for o in objects.values() if o.name == name), None)


def unused_note(obj: AlfObject, files: tuple[AlfFile, ...], why: str) -> SourceNote:
    names = ", ".join(f.path.name for f in files)
    return SourceNote("not-used", str(obj.folder), f"{obj.folder}: {names} not converted: {why}.")


def clock_notes(obj: AlfObject) -> list[SourceNote]:
    other = obj.other_clocks()
    if not other:
        return []
    why = "these times are on another clock than the session's (a timescale in the name); the session's own are used"
    return [unused_note(obj, other, why)]


def missing(obj: AlfObject, attribute: str, what: str) -> SourceError:
    return SourceError(
        f"{obj.folder}: the {obj.label} object has no '{attribute}' attribute "
        f"({obj.label}.{attribute}.npy is missing); {what} cannot be converted without it. Copy the file from the "
        "session's ALF folder again, or remove the object's other files to leave it out."
    )


def rows_differ(obj: AlfObject, attribute: str, expected: int, found: int, of: str) -> SourceError:
    return SourceError(
        f"{obj.folder}: {obj.label}.{attribute} has {found} rows but {of} has {expected}; every attribute of an "
        "ALF object has one row per item. The copy may be incomplete or mixed from two sessions: copy the object's "
        "files again."
    )


def read_table(obj: AlfObject, name: str, description: str) -> tuple[IntervalTable, list[SourceNote]]:
    """An object with an `intervals` attribute (trials, wheelMoves) -> an interval table, one column per other
    attribute with a value per row (a trials `table.pqt` is read with its columns' own types)."""
    from one.alf.io import load_file_content

    table_file = obj.find("table", "pqt")
    values: dict[str, np.ndarray] = {}
    if table_file is not None:
        frame = load_file_content(table_file.path)
        values |= _from_frame(frame)
    values |= obj.load(tuple(f for f in obj.on_session_clock() if f is not table_file))
    intervals = values.pop("intervals", None)
    if intervals is None:
        raise missing(obj, "intervals", f"the {name} table (its start and stop times)")
    intervals = np.asarray(intervals, dtype="float64")
    columns, notes = [], clock_notes(obj)
    n = len(intervals)
    for key, column in values.items():
        column = np.asarray(column)
        if len(column) != n:
            raise rows_differ(obj, key, n, len(column), "intervals")
        if column.ndim != 1 or column.dtype == object:
            notes.append(
                SourceNote(
                    "not-used",
                    str(obj.folder),
                    f"{obj.folder}: {obj.label}.{key} not converted: "
                    f"it holds {column.shape[1:]} values a row, a table column holds one.",
                )
            )
            continue
        columns.append(TableColumn(key, column))
    table = IntervalTable(name, intervals[:, 0], intervals[:, 1], tuple(columns), str(obj.folder), description)
    return table, notes


def _from_frame(frame: Any) -> dict[str, np.ndarray]:
    """A table.pqt's columns, `<attribute>_0` / `_1` pairs joined back into one two-column attribute."""
    out: dict[str, np.ndarray] = {}
    names = list(frame.columns)
    for name in names:
        base = name[:-2]
        if name.endswith("_0") and f"{base}_1" in names:
            out[base] = np.c_[frame[name].to_numpy(), frame[f"{base}_1"].to_numpy()]
        elif not (name.endswith("_1") and f"{base}_0" in names):
            out[name] = frame[name].to_numpy()
    return out


def read_wheel(obj: AlfObject, name: str = "WheelPosition") -> tuple[BehaviorSignal, list[SourceNote]]:
    """_ibl_wheel.position (radians) on _ibl_wheel.timestamps (one a sample, or sync points one.alf.io expands)."""
    loaded = obj.load()
    for attribute in ("position", "timestamps"):
        if attribute not in loaded:
            raise missing(obj, attribute, "the wheel's position")
    position = np.asarray(loaded["position"], dtype="float64")
    times = np.asarray(loaded["timestamps"], dtype="float64")
    if len(times) != len(position):
        raise rows_differ(obj, "timestamps", len(position), len(times), "position")
    signal = BehaviorSignal(
        name,
        SignalRole.POSITION,
        position,
        "radians",
        FrameTimes(timestamps_s=times),
        str(obj.folder),
        "Absolute angle of the response wheel from the rotary encoder (IBL _ibl_wheel.position).",
        "0 rad is the wheel's angle at the start of the session; positive is counter-clockwise",
    )
    extra = [f for f in obj.on_session_clock() if f.attribute not in ("position", "timestamps")]
    notes = clock_notes(obj) + ([unused_note(obj, tuple(extra), "only position and timestamps")] if extra else [])
    return signal, notes


def read_events(obj: AlfObject, name: str, description: str) -> tuple[BehaviorSignal, list[SourceNote]]:
    """An object of event times (licks.times) -> events, one sample of 1 per event."""
    loaded = obj.load()
    if "times" not in loaded:
        raise missing(obj, "times", f"the {obj.name} events")
    times = np.asarray(loaded["times"], dtype="float64").ravel()
    signal = BehaviorSignal(
        name,
        SignalRole.EVENTS,
        np.ones(len(times), dtype="uint8"),
        "n.a.",
        FrameTimes(timestamps_s=times),
        str(obj.folder),
        description,
    )
    extra = [f for f in obj.on_session_clock() if f.attribute != "times"]
    notes = clock_notes(obj) + ([unused_note(obj, tuple(extra), "only the event times")] if extra else [])
    return signal, notes
