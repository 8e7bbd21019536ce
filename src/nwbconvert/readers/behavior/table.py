"""Trial and other interval tables, and behavioral signals, from CSV, TSV and Parquet files (read with pandas).

What a table is, decided from its columns:
- an **interval table** when it has start and stop columns: the ones `--set source.start=COL --set
  source.stop=COL` name, or the usual `start_time`/`stop_time`, IBL's `intervals_0`/`intervals_1` (a Parquet
  `intervals` column of pairs is split so), `start`/`stop`. A file whose name holds "trials" is `trials`
  (nwbfile.trials); any other takes its name's stem (`--set source.name=TABLE` chooses). Every other column is
  a typed column (`table_columns.typed`).
- a **signal table** when it has a time column (`time`, `times`, `timestamps`, `t`; `--set source.time=COL`):
  each value column is one `BehaviorSignal` (x/y/z together one), its role from its name (position, x, y ->
  SpatialSeries; anything else -> TimeSeries; `--set source.role=`), its unit from `--set source.unit=` or the
  column's name ("speed (cm/s)"; a position's "rad", "px", "cm" in NWB Inspector's words "radians", "pixels",
  "centimeters"), else "n.a." (not available, NWB Inspector's placeholder) — said in a note (printed by --dry-run),
  never assumed silently.
  A table of times alone (licks) is one series of events. Times are seconds; regular ones become a rate.
- anything else is refused, naming the columns found and the settings that choose.

Detection is by content: a header with the usual columns; a file named *trials* is a suffix match (settings
choose its columns); other tables (what recording tools write beside their data) and a CSV with the 3-row header
of DeepLabCut / Lightning Pose (scorer, bodyparts, coords) are not matched, so the pose readers keep those; give
`--format behavior-table` with the settings for a table of other column names.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from nwbconvert.behavior import Behavior, BehaviorSignal, IntervalTable, SignalRole, TableColumn
from nwbconvert.errors import SourceError
from nwbconvert.model import Session, SourceNote
from nwbconvert.provenance import describe_files
from nwbconvert.readers.base import Match, ReaderBase, ReadOptions, head
from nwbconvert.readers.behavior import table_columns as tc

TEXT_SUFFIXES = {".csv": ",", ".tsv": "\t"}
PARQUET_SUFFIXES = (".parquet", ".pqt")
POSE_HEADER = frozenset({"scorer", "bodyparts", "coords", "individuals"})  # DeepLabCut's 3-row (4 multi-animal)
SETTINGS = (
    "`--set source.start=COLUMN --set source.stop=COLUMN` (an interval table) or `--set source.time=COLUMN` "
    "(a table of behavioral signals)"
)


def _lines(path: Path) -> list[str]:
    return head(path, 65536).decode("utf-8", errors="replace").lstrip("\ufeff").splitlines()[:4]


def _delimiter(path: Path, lines: list[str] | None = None) -> str:
    """Tab for .tsv; for .csv a comma, or a semicolon when the header has semicolons and no comma (the CSV of a
    locale whose decimal mark is a comma)."""
    sep = TEXT_SUFFIXES[path.suffix.lower()]
    first = (lines if lines is not None else _lines(path))[:1]
    return ";" if sep == "," and first and ";" in first[0] and "," not in first[0] else sep


def _header_cells(path: Path) -> list[list[str]]:
    """The first rows of a CSV/TSV file as cells (at most 4 rows, from its first 64 KiB)."""
    lines = _lines(path)
    return [row for row in csv.reader(lines, delimiter=_delimiter(path, lines))]


def _pose_header(rows: list[list[str]]) -> bool:
    return any(row and row[0].strip().lower() in POSE_HEADER for row in rows[:3])


def _parquet_columns(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    return list(pq.read_schema(path).names)


class TableReader(ReaderBase):
    name = "behavior-table"
    description = "trials / interval table or behavioral signals (CSV, TSV, Parquet)"
    suffixes = (".csv", ".tsv", ".parquet", ".pqt")
    requires = (("pandas", "behavior"), ("pyarrow", "behavior"))
    verified = "real"  # tests/test_behavior_tables.py converts IBL's real trials table (and generated CSV/TSV)
    source_options = ("name", "start", "stop", "time", "role", "unit")
    note = "times in seconds"
    unreadable_advice = "Check that it is a complete CSV, TSV or Parquet table with one header row."

    def probe(self, path: Path) -> Match:
        """CONTENT for a table whose header holds start/stop or time columns; SUFFIX for another table whose file
        name holds "trials" (its columns chosen by settings); NO for any other, a DeepLabCut-style pose CSV
        included (the pose readers match it by content), so the CSVs and TSVs recording tools write beside their
        data (Phy's cluster tables, Miniscope's time stamps) are not taken for sources."""
        suffix = path.suffix.lower()
        if suffix not in TEXT_SUFFIXES and suffix not in PARQUET_SUFFIXES:
            return Match.NO
        named = Match.SUFFIX if "trials" in path.name.lower() else Match.NO
        try:
            if not path.is_file():
                return Match.NO
            if suffix in TEXT_SUFFIXES:
                rows = _header_cells(path)
                if not rows or _pose_header(rows):
                    return Match.NO
                columns = [c.strip() for c in rows[0]]
            else:
                columns = _parquet_columns(path)
        except Exception:
            return named
        known = tc.usual_start_stop(columns) or tc.usual_time(columns) or tc.INTERVALS in columns
        return Match.CONTENT if known else named

    def read(self, path: Path, options: ReadOptions) -> Session:
        import pandas as pd

        if path.suffix.lower() in TEXT_SUFFIXES and _pose_header(_header_cells(path)):
            raise SourceError(
                f"{path}: this is a pose estimation file (its header rows are DeepLabCut's scorer / bodyparts / "
                "coords), not a table of trials or signals. Convert it with --format deeplabcut (or "
                "--format lightning-pose)."
            )
        _complete_parquet(path)
        with self.reading(path):
            frame = _frame(path)
        notes: list[SourceNote] = []
        frame = _without_index(path, frame, notes)
        tables, signals = _contents(path, frame, options, notes)
        return Session(
            reader=self.name,
            reader_version=pd.__version__,
            source=str(path),
            recordings=(),
            source_files=describe_files([path]),
            notes=tuple(notes),
            behavior=Behavior(tables=tables, signals=signals),
        )


def _complete_parquet(path: Path) -> None:
    """A Parquet file that starts as one but does not end with its footer (where its schema is) was cut short."""
    if path.suffix.lower() not in PARQUET_SUFFIXES or head(path, 4) != b"PAR1":
        return
    with path.open("rb") as f:
        f.seek(max(0, path.stat().st_size - 4))
        end = f.read(4)
    if end != b"PAR1":
        raise SourceError(
            f"{path}: the copy looks incomplete: a Parquet file ends with its footer (the table's columns and where "
            "they are), and this one ends before it. Copy it again from where it was written."
        )


def _frame(path: Path) -> Any:
    """The table as pandas reads it (a Parquet file's saved index a column); a Parquet `intervals` column of pairs
    split into intervals_0 / _1."""
    import pandas as pd

    suffix = path.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        frame = pd.read_parquet(path)
        if not isinstance(frame.index, pd.RangeIndex):  # an index saved with the table is a column of it
            frame = frame.reset_index()
    else:
        sep = _delimiter(path)
        frame = pd.read_csv(path, sep=sep, decimal="," if sep == ";" else ".")
    frame.columns = [str(c).strip() for c in frame.columns]
    if tc.INTERVALS in frame.columns and frame[tc.INTERVALS].dtype == object:
        pairs = frame[tc.INTERVALS].to_list()
        if all(np.ndim(p) == 1 and len(p) == 2 for p in pairs):
            split = np.asarray(pairs, dtype="float64").reshape(-1, 2)
            at = frame.columns.get_loc(tc.INTERVALS)
            frame = frame.drop(columns=tc.INTERVALS)
            frame.insert(at, "intervals_1", split[:, 1])
            frame.insert(at, "intervals_0", split[:, 0])
    return frame


def _without_index(path: Path, frame: Any, notes: list[SourceNote]) -> Any:
    """The table without a saved pandas index (an unnamed first column 0, 1, 2, ...), said in a note."""
    if len(frame.columns) and str(frame.columns[0]).startswith("Unnamed: 0"):
        first = frame[frame.columns[0]]
        if first.dtype.kind in "iu" and np.array_equal(first.to_numpy(), np.arange(len(frame))):
            notes.append(
                SourceNote(
                    "not-used",
                    str(path),
                    f"{path}: its unnamed first column (a row index 0, 1, 2, ...) was not written.",
                )
            )
            return frame.drop(columns=frame.columns[0])
    return frame


def _column(path: Path, frame: Any, setting: str | None, key: str) -> str | None:
    if setting is None:
        return None
    if setting not in frame.columns:
        raise SourceError(
            f"{path}: --set source.{key}={setting}: the table has no column {setting}. Its columns: "
            f"{', '.join(map(str, frame.columns))}."
        )
    return setting


def _contents(
    path: Path, frame: Any, options: ReadOptions, notes: list[SourceNote]
) -> tuple[tuple[IntervalTable, ...], tuple[BehaviorSignal, ...]]:
    """The interval table or the signals the table holds, by its columns (see the module's docstring)."""
    start = _column(path, frame, options.reader_option("start"), "start")
    stop = _column(path, frame, options.reader_option("stop"), "stop")
    time = _column(path, frame, options.reader_option("time"), "time")
    if (start is None) != (stop is None):
        raise SourceError(
            f"{path}: an interval table needs both its start and its stop column: give --set source.start=COLUMN "
            f"and --set source.stop=COLUMN. Its columns: {', '.join(map(str, frame.columns))}."
        )
    pair = (start, stop) if start is not None and stop is not None else None
    if pair is None and time is None:
        pair = tc.usual_start_stop(list(frame.columns))
    name = options.reader_option("name")
    trials = "trials" in path.name.lower()
    if pair is not None:  # a table is small: --stub keeps all its rows
        return (_interval_table(path, frame, pair, name or ("trials" if trials else _stem(path)), notes),), ()
    time = time or tc.usual_time(list(frame.columns))
    if time is None or trials:
        raise SourceError(
            f"{path}: cannot tell what this table holds: it has no start and stop columns (start_time / stop_time, "
            f"intervals_0 / intervals_1){' (a trials table needs them)' if trials else ''} and no time column "
            f"(time, times, timestamps, t). Its columns: {', '.join(map(str, frame.columns)) or 'none'}. Name them "
            f"with {SETTINGS}."
        )
    return (), _signals(path, _stubbed(path, frame, time, options), time, name or _stem(path), options, notes)


def _stem(path: Path) -> str:
    """'stimulus_epochs' for stimulus_epochs.csv, 'ibl_wheel' for _ibl_wheel.position.pqt."""
    return path.name.split(".", 1)[0].strip("_") or path.stem


def _stubbed(path: Path, frame: Any, column: str, options: ReadOptions) -> Any:
    """The samples within --stub seconds of the first (all without --stub)."""
    if options.stub_seconds is None or not len(frame):
        return frame
    times = tc.seconds(str(path), frame, column)
    return frame[times < times[0] + options.stub_seconds]


def _interval_table(path: Path, frame: Any, pair: tuple[str, str], name: str, notes: list[SourceNote]) -> IntervalTable:
    start_s, stop_s = tc.bounds(str(path), frame, *pair)
    columns = []
    for column in frame.columns:
        if column in pair:
            continue
        typed = tc.typed(frame[column])
        if typed.values is None:
            notes.append(SourceNote("not-used", str(path), f"{path}: column {column} was not written: {typed.change}."))
            continue
        written = f"source_{column}" if column in tc.RESERVED else column
        change = "; ".join(filter(None, (typed.change, f"written as {written}" if written != column else "")))
        if change:
            notes.append(SourceNote("retyped", str(path), f"{path}: column {column}: {change}."))
        columns.append(TableColumn(written, typed.values, f"The {column} column of {path.name}."))
    return IntervalTable(
        name=name,
        start_s=start_s,
        stop_s=stop_s,
        columns=tuple(columns),
        source=str(path),
        description=f"{'Trials' if name == 'trials' else 'Intervals'} from {path.name} (start: {pair[0]}, stop: "
        f"{pair[1]}).",
    )


def _signals(
    path: Path, frame: Any, time: str, stem: str, options: ReadOptions, notes: list[SourceNote]
) -> tuple[BehaviorSignal, ...]:
    """One signal per value column (x, y, z together), or one series of events for a table of times alone."""
    times, _ = tc.signal_times(str(path), frame, time)
    values = [c for c in frame.columns if c != time]
    if not values:
        ones = np.ones(len(frame), dtype="uint8")
        description = f"One per event; the events' times are column {time} of {path.name}."
        return (BehaviorSignal(tc.camel(stem), SignalRole.EVENTS, ones, "n.a.", times, str(path), description),)
    roles = tc.role_setting(options.reader_option("role"), values)
    units = tc.per_column(options.reader_option("unit"), "unit", values)
    numeric: dict[str, np.ndarray] = {}
    for column in values:
        typed = tc.typed(frame[column])
        if typed.values is None or typed.values.dtype == object:
            why = typed.change if typed.values is None else "it holds text, and a signal's samples are numbers"
            notes.append(SourceNote("not-used", str(path), f"{path}: column {column} was not written: {why}."))
        else:
            numeric[column] = typed.values.astype("float64") if typed.values.dtype == bool else typed.values
    groups = _groups(numeric, roles)
    signals, assumed = [], []
    for columns, role in groups:
        unit = next((units.get(c) or tc.unit_in_name(c) for c in columns if units.get(c) or tc.unit_in_name(c)), "")
        label = "position" if len(columns) > 1 else columns[0]
        name = tc.signal_name(stem, label)
        if not unit:
            unit = tc.UNKNOWN_UNIT
            assumed.append(f"{name} (column {', '.join(columns)})")
        elif role is SignalRole.POSITION:
            unit = tc.spatial_unit(unit)
        data = np.column_stack([numeric[c] for c in columns]) if len(columns) > 1 else numeric[columns[0]]
        description = f"Column {', '.join(columns)} of {path.name}."
        signals.append(BehaviorSignal(name, role, data, unit, times, str(path), description))
    if assumed:
        notes.append(_unit_note(path, assumed))
    return tuple(signals)


def _groups(numeric: dict[str, np.ndarray], roles: dict[str, SignalRole]) -> list[tuple[list[str], SignalRole]]:
    """Value columns to signals: x, y (and z) of position one signal, each other column its own."""
    role = {c: roles.get(c, tc.role_of(c)) for c in numeric}
    axes = [c for c in numeric if tc.normal(c) in ("x", "y", "z") and role[c] is SignalRole.POSITION]
    together = axes if len(axes) > 1 else []
    groups: list[tuple[list[str], SignalRole]] = [(together, SignalRole.POSITION)] if together else []
    return groups + [([c], role[c]) for c in numeric if c not in together]


def _unit_note(path: Path, assumed: list[str]) -> SourceNote:
    return SourceNote(
        "unit-assumed",
        str(path),
        f"{path}: no unit is given for {'; '.join(assumed)}: written as '{tc.UNKNOWN_UNIT}' (not available). Give "
        "it with --set source.unit=UNIT (every column) or --set source.unit=COLUMN=UNIT,COLUMN=UNIT, or name the "
        "column with its unit in brackets, e.g. 'speed (cm/s)'.",
    )
