"""How a table's columns become what the behavior IR holds: typed columns, start/stop times and signals.

pandas in, numpy out. A column keeps its type: bool, int, float or text (categories and text become str); an
int column with missing cells becomes float (NaN), text with missing cells holds "" there, an object column of
mixed types becomes text; a column of lists or nested values cannot be a table column and is left out. Each of
these changes is said in a `SourceNote`: nothing is dropped or retyped silently.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nwbconvert.behavior import SignalRole
from nwbconvert.errors import SourceError
from nwbconvert.imaging import FrameTimes

START_STOP = (("start_time", "stop_time"), ("intervals_0", "intervals_1"), ("start", "stop"))
INTERVALS = "intervals"  # IBL's (n, 2) intervals, split by pandas into intervals_0 / intervals_1 or kept as pairs
TIME_NAMES = ("time", "times", "timestamps", "timestamp", "t")
POSITION_WORDS = ("position", "pos", "x", "y", "z")
GENERIC = frozenset({"position", "pos", "x", "y", "z", "speed", "velocity", "value", "values", "data", "diameter"})
RESERVED = frozenset({"id", "tags", "timeseries", "start_time", "stop_time"})  # TimeIntervals' own columns
UNIT_IN_NAME = re.compile(r"^\s*(?P<name>.*?)\s*[\[(](?P<unit>[^\])]+)[\])]\s*$")  # "speed (cm/s)", "x [px]"
ROLES = {r.value: r for r in SignalRole}
SPATIAL_UNITS = {  # the short forms of the units NWB Inspector accepts for a SpatialSeries
    **dict.fromkeys(("rad", "radian"), "radians"),
    **dict.fromkeys(("deg", "degree", "°"), "degrees"),
    **dict.fromkeys(("m", "meter", "metre", "metres"), "meters"),
    **dict.fromkeys(("cm", "centimeter", "centimetre", "centimetres"), "centimeters"),
    **dict.fromkeys(("mm", "millimeter", "millimetre", "millimetres"), "millimeters"),
    **dict.fromkeys(("um", "µm", "micron", "microns", "micrometer"), "micrometers"),
    **dict.fromkeys(("px", "pixel", "pix"), "pixels"),
}
TIME_UNITS = {
    **dict.fromkeys(("s", "sec", "second", "seconds"), 1.0),
    **dict.fromkeys(("ms", "msec", "millisecond", "milliseconds"), 1e-3),
    **dict.fromkeys(("us", "µs", "microsecond", "microseconds"), 1e-6),
    **dict.fromkeys(("min", "minute", "minutes"), 60.0),
}
UNKNOWN_UNIT = "n.a."  # NWB Inspector's placeholder for a unit not known
REGULAR_TOLERANCE_S = 1e-6  # time stamps within 1 µs of a constant rate are written as that rate


@dataclass(frozen=True)
class Typed:
    """One column as it will be written (None: it cannot be), and what had to change, in words ("" nothing)."""

    values: np.ndarray | None
    change: str = ""


def normal(name: object) -> str:
    """A column name compared with the usual names: lower case, unit in brackets and spaces removed."""
    text = str(name).strip()
    found = UNIT_IN_NAME.match(text)
    text = found.group("name") if found else text
    return re.sub(r"[\s\-]+", "_", text.lower())


def unit_in_name(name: object) -> str:
    """The unit a column's name carries in brackets ("speed (cm/s)" -> "cm/s"), or ""."""
    found = UNIT_IN_NAME.match(str(name))
    return found.group("unit").strip() if found else ""


def camel(text: str) -> str:
    """'wheel_position' -> 'WheelPosition', 'wheelMoves' -> 'WheelMoves' (letters and digits kept)."""
    words = [w for w in re.split(r"[^0-9A-Za-z]+", text) if w]
    return "".join(w[0].upper() + w[1:] for w in words)


def usual_start_stop(columns: Sequence[str]) -> tuple[str, str] | None:
    """The first usual (start, stop) pair of column names the table holds."""
    by_normal = {normal(c): c for c in columns}
    for start, stop in START_STOP:
        if start in by_normal and stop in by_normal:
            return by_normal[start], by_normal[stop]
    return None


def usual_time(columns: Sequence[str]) -> str | None:
    """The time column: one of the usual names, or the one column of a table of times alone (`lick_times`)."""
    by_normal = {normal(c): c for c in columns}
    found = next((by_normal[n] for n in TIME_NAMES if n in by_normal), None)
    if found is None and len(columns) == 1 and normal(columns[0]).endswith(("_times", "_time", "_timestamps")):
        return columns[0]
    return found


def typed(series: Any) -> Typed:
    """A pandas column as bool, int, float or str values (see the module's docstring)."""
    import pandas as pd
    from pandas.api import types

    missing = int(series.isna().sum())
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return _text(series.astype(object), missing, "categories written as text")
    if types.is_bool_dtype(dtype):
        if missing:
            return Typed(series.astype("float64").to_numpy(), f"true/false with {_n(missing, 'empty cell')}: 1/0, NaN")
        return Typed(series.to_numpy(dtype=bool))
    if types.is_integer_dtype(dtype):
        if missing:
            return Typed(series.astype("float64").to_numpy(), f"whole numbers with {_n(missing, 'empty cell')}: NaN")
        return Typed(series.to_numpy(dtype=getattr(dtype, "numpy_dtype", dtype)))
    if types.is_float_dtype(dtype):
        return Typed(series.to_numpy(dtype=getattr(dtype, "numpy_dtype", dtype), na_value=np.nan))
    if types.is_datetime64_any_dtype(dtype) or types.is_timedelta64_dtype(dtype):
        return _text(series.astype(str).where(series.notna()), missing, "dates or durations written as text")
    return _objects(series, missing)


def _objects(series: Any, missing: int) -> Typed:
    """An object column: text, true/false, or (lists, dicts, arrays) nothing."""
    present = [v for v in series.to_list() if not _is_missing(v)]
    kinds = {type(v) for v in present}
    if any(issubclass(k, (list, tuple, dict, set, np.ndarray)) for k in kinds):
        return Typed(None, "it holds lists or nested values, which a table column cannot hold")
    if kinds and all(issubclass(k, (bool, np.bool_)) for k in kinds):
        if missing:
            return Typed(series.astype("float64").to_numpy(), f"true/false with {_n(missing, 'empty cell')}: 1/0, NaN")
        return Typed(series.to_numpy(dtype=bool))
    mixed = len({str if issubclass(k, str) else float for k in kinds}) > 1
    return _text(series, missing, "values of mixed types written as text" if mixed else "")


def _text(series: Any, missing: int, change: str) -> Typed:
    values = np.array(["" if _is_missing(v) else str(v) for v in series.to_list()], dtype=object)
    if missing:
        change = "; ".join(filter(None, (change, f"{_n(missing, 'empty cell')} written as ''")))
    return Typed(values, change)


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(np.ndim(value) == 0 and value != value)  # NaN, NaT, pd.NA
    except (TypeError, ValueError):
        return False


def seconds(path: str, frame: Any, column: str) -> np.ndarray:
    """A time column in seconds (float64, NaN where a cell is not a number): seconds unless its name gives
    another unit in brackets ("time (ms)"); a unit that is not one of time is refused."""
    import pandas as pd

    unit = unit_in_name(column)
    scale = TIME_UNITS.get(unit.lower()) if unit else 1.0
    if scale is None:
        raise SourceError(
            f"{path}: the time column '{column}' gives its unit as '{unit}', which is not one of time (s, ms, us, "
            "min). Rename the column, or choose another time column with --set source.time=COLUMN."
        )
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype="float64") * scale


def bounds(path: str, frame: Any, start: str, stop: str) -> tuple[np.ndarray, np.ndarray]:
    """The start and stop times (seconds) of every row; refused when one is not a number, missing, or a stop
    precedes its start (NWB requires both on every row)."""
    values = []
    for column in (start, stop):
        numbers = seconds(path, frame, column)
        bad = np.flatnonzero(~np.isfinite(numbers))
        if bad.size:
            raise SourceError(
                f"{path}: the {column} column (the intervals' {'start' if column == start else 'stop'} times) has "
                f"{_n(bad.size, 'row')} without a time in seconds (rows {_rows(bad)}): every interval needs a start "
                "and a stop. Fill them in, or choose other columns with --set source.start=COLUMN --set "
                "source.stop=COLUMN."
            )
        values.append(numbers)
    backwards = np.flatnonzero(values[1] < values[0])
    if backwards.size:
        raise SourceError(
            f"{path}: {_n(backwards.size, 'row')} stop before they start ({stop} < {start}, rows {_rows(backwards)}). "
            "Check that the start and stop columns are not swapped (--set source.start=... --set source.stop=...)."
        )
    return values[0], values[1]


def _n(count: int, what: str) -> str:
    return f"{count} {what}{'' if count == 1 else 's'}"


def _rows(indices: np.ndarray) -> str:
    shown = ", ".join(str(int(i) + 1) for i in indices[:5])
    return shown + (", ..." if indices.size > 5 else "")


def signal_times(path: str, frame: Any, column: str) -> tuple[FrameTimes, np.ndarray]:
    """The samples' times from `column` (seconds): a rate when they are regular (within 1 µs), else the time
    stamps; refused when a time is missing or they go back."""
    times = seconds(path, frame, column)
    bad = np.flatnonzero(~np.isfinite(times))
    if bad.size:
        raise SourceError(
            f"{path}: the time column {column} has {_n(bad.size, 'row')} without a time in seconds (rows "
            f"{_rows(bad)}). Fill them in or remove those rows, or choose the time column with --set "
            "source.time=COLUMN."
        )
    back = np.flatnonzero(np.diff(times) < 0)
    if back.size:
        raise SourceError(
            f"{path}: the times in column {column} go back at {_n(back.size, 'row')} (rows {_rows(back + 1)}): samples "
            "must be in time order. Sort the table by time, or choose the time column with --set source.time=COLUMN."
        )
    return regular(times), times


def regular(times: np.ndarray) -> FrameTimes:
    """A rate when every time is within `REGULAR_TOLERANCE_S` of first + k / rate, else the time stamps."""
    if len(times) >= 3 and times[-1] > times[0]:
        step = (times[-1] - times[0]) / (len(times) - 1)
        expected = times[0] + step * np.arange(len(times))
        if float(np.max(np.abs(times - expected))) <= min(REGULAR_TOLERANCE_S, step / 1000):
            return FrameTimes(t_start_s=float(times[0]), rate_hz=float(1.0 / step))
    return FrameTimes(t_start_s=float(times[0]) if len(times) else 0.0, timestamps_s=times)


def role_of(column: str) -> SignalRole:
    """POSITION for wheel position, position, x, y, z; TIMESERIES for everything else (speed, pupil, ...)."""
    name = normal(column)
    return SignalRole.POSITION if name in POSITION_WORDS or "position" in name else SignalRole.TIMESERIES


def signal_name(stem: str, column: str) -> str:
    """'WheelPosition' for column position of wheel.csv, 'PupilDiameter' for column pupil_diameter anywhere."""
    own = camel(normal(column))
    if normal(column) not in GENERIC:
        return own
    prefix = camel(stem)
    return prefix if prefix.lower().endswith(own.lower()) else prefix + own


def per_column(setting: str | None, key: str, columns: Sequence[str]) -> dict[str, str]:
    """`--set source.KEY=VALUE` (every column) or `source.KEY=COLUMN=VALUE,COLUMN=VALUE` as column -> value."""
    if not setting:
        return {}
    if "=" not in setting:
        return dict.fromkeys(columns, setting.strip())
    found: dict[str, str] = {}
    for part in setting.split(","):
        column, _, value = part.partition("=")
        if column.strip() not in columns or not value.strip():
            raise SourceError(
                f"--set source.{key}={setting}: '{part}' does not name a value column of the table with its value. "
                f"The value columns: {', '.join(columns)}. Give one value for all (--set source.{key}=VALUE) or "
                f"COLUMN=VALUE pairs separated by commas."
            )
        found[column.strip()] = value.strip()
    return found


def role_setting(setting: str | None, columns: Sequence[str]) -> dict[str, SignalRole]:
    """`source.role`: position, timeseries or events, for every value column or per column."""
    chosen = per_column(setting, "role", columns)
    unknown = sorted({v for v in chosen.values() if v.lower() not in ROLES})
    if unknown:
        raise SourceError(
            f"--set source.role={setting}: {', '.join(unknown)} is not a role. The roles: {', '.join(ROLES)} "
            "(position: SpatialSeries in Position; timeseries: BehavioralTimeSeries; events: BehavioralEvents)."
        )
    return {column: ROLES[value.lower()] for column, value in chosen.items()}


def spatial_unit(unit: str) -> str:
    """A position's unit in the words NWB Inspector accepts ('rad' -> 'radians', 'px' -> 'pixels')."""
    return SPATIAL_UNITS.get(unit.strip().lower(), unit)
