"""Sortings -> the NWB units table: spike times, electrode links, every unit property, mean waveforms.

All sortings share the one units table NWB allows; `sorting` and `unit_name` columns keep units of two
probes (or two sorters) apart, so ids never collide.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nwbconvert.model import Sorting, Unit, UnitProperty

# names the units table already uses (columns and attributes): a property called so gets a "source_" prefix
RESERVED = frozenset(
    {"id", "spike_times", "electrodes", "waveform_mean", "waveform_sd", "sorting", "unit_name", "description", "name"}
    | {"resolution", "waveform_rate", "waveform_unit", "colnames", "columns", "obs_intervals", "electrode_group"}
)


def column_name(key: str) -> str:
    return f"source_{key}" if key in RESERVED else key


def add_units(nwbfile: Any, sortings: tuple[Sorting, ...], electrode_rows: dict[tuple[str, str], int]) -> None:
    """Write every unit of every sorting; `electrode_rows` maps (series or stream, channel id) -> electrode row."""
    from pynwb.misc import Units

    units = [(s, u) for s in sortings for u in s.units]
    if not units:
        return
    rates = {s.waveform_rate_hz for s in sortings if s.waveform_rate_hz}
    means = _padded([u.waveform_mean_v for _, u in units])
    sds = _padded([u.waveform_sd_v for _, u in units])
    waveforms = means is not None and len(rates) == 1
    nwbfile.units = Units(
        name="units",
        description="Sorted units: " + "; ".join(f"{s.name} from {s.source}" for s in sortings),
        waveform_rate=rates.pop() if waveforms else None,
        waveform_unit="volts",
        resolution=_resolution(sortings),
    )
    links = {s.name: _rows(s, electrode_rows) for s in sortings}
    with_electrodes = any(rows for by_unit in links.values() for rows in by_unit.values())
    nwbfile.add_unit_column("unit_name", "Unit name or cluster id in its sorting")
    nwbfile.add_unit_column("sorting", "Which sorting (source) the unit comes from")
    columns = _property_columns([u for _, u in units])
    for key in columns:
        nwbfile.add_unit_column(column_name(key), f"Unit property '{key}' from the sorting")
    with_sd = waveforms and sds is not None
    for index, (sorting, unit) in enumerate(units):
        extra: dict[str, Any] = {column_name(key): fill(unit.properties.get(key)) for key, fill in columns.items()}
        if with_electrodes:
            extra["electrodes"] = links[sorting.name][unit.name]
        if waveforms and means is not None:
            extra["waveform_mean"] = means[index]
            if with_sd and sds is not None:
                extra["waveform_sd"] = sds[index]
        nwbfile.add_unit(
            spike_times=np.asarray(unit.spike_times_s, dtype="float64"),
            unit_name=unit.name,
            sorting=sorting.name,
            **extra,
        )


def _padded(waveforms: list[np.ndarray | None]) -> list[np.ndarray] | None:
    """Every unit's waveform with one shape, or None: a column holds one shape, so units recorded on fewer
    channels (a stereotrode beside a tetrode) get NaN columns for the channels their electrode lacks."""
    if not waveforms or any(w is None for w in waveforms):
        return None
    arrays = [np.asarray(w, dtype="float64") for w in waveforms if w is not None]
    if len({a.shape for a in arrays}) == 1:
        return arrays
    if len({a.shape[0] for a in arrays}) != 1:
        return None  # different sample counts: no common column
    columns = [a.reshape(a.shape[0], -1) for a in arrays]
    width = max(c.shape[1] for c in columns)
    return [np.pad(c, ((0, 0), (0, width - c.shape[1])), constant_values=np.nan) for c in columns]


def _resolution(sortings: tuple[Sorting, ...]) -> float | None:
    """The coarsest spike time resolution of the sortings (one value per table in NWB)."""
    known = [s.time_resolution_s for s in sortings if s.time_resolution_s]
    return max(known) if known and len(known) == len(sortings) else None


def _rows(sorting: Sorting, electrode_rows: dict[tuple[str, str], int]) -> dict[str, list[int]]:
    key = sorting.recording or ""
    return {
        u.name: [electrode_rows[(key, c)] for c in u.channel_ids if (key, c) in electrode_rows] for u in sorting.units
    }


def _property_columns(units: list[Unit]) -> dict[str, Any]:
    """Column name -> a function giving each unit's value with a typed fill for units that lack it."""
    values: dict[str, list[UnitProperty]] = {}
    for unit in units:
        for key, value in unit.properties.items():
            values.setdefault(key, []).append(value)
    columns: dict[str, Any] = {}
    for key, seen in values.items():
        present = all(key in u.properties for u in units)
        if all(isinstance(v, bool) for v in seen) and present:
            columns[key] = bool
        elif all(isinstance(v, int) and not isinstance(v, bool) for v in seen) and present:
            columns[key] = int
        elif all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in seen):
            columns[key] = lambda v: float("nan") if v is None else float(v)
        else:
            columns[key] = lambda v: "" if v is None else str(v)
    return columns
