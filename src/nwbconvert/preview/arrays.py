"""Reading only what a figure draws: row windows and column subsets of HDF5 or Zarr datasets."""

from __future__ import annotations

from typing import Any

import numpy as np


def rows(data: Any, start: int, stop: int, columns: np.ndarray | None = None) -> np.ndarray:
    """data[start:stop] (and only `columns`, ascending, of a 2-D dataset), reading nothing else."""
    if columns is None:
        return np.asarray(data[start:stop])
    if len(data.shape) < 2:
        return np.asarray(data[start:stop])[:, None]
    if hasattr(data, "oindex"):  # zarr: orthogonal selection
        return np.asarray(data.oindex[start:stop, columns])
    if hasattr(data, "id"):  # h5py: one list index is allowed
        return np.asarray(data[start:stop, list(columns)])
    return np.asarray(data[start:stop])[:, columns]


def chunk_rows(data: Any) -> int | None:
    chunks = getattr(data, "chunks", None)
    if not chunks:
        return None
    return int(chunks[0])


def aligned_middle(data: Any, length: int, window: int) -> int:
    """Where a window from the middle starts: at the chunk boundary nearest the middle (so the window reads as
    few chunks as a window from the start), clipped to the data."""
    middle = max(0, length // 2 - window // 2)
    step = chunk_rows(data)
    if step and step >= window:
        middle = (length // 2 // step) * step
    return int(max(0, min(middle, length - window)))


def column(table: Any, name: str) -> np.ndarray | None:
    """A whole (small) column of a DynamicTable, or None when the table has none of that name."""
    if name not in table.colnames:
        return None
    values = table[name].data[:]
    return np.asarray(values)


def strings(values: Any) -> list[str]:
    return [v.decode(errors="replace") if isinstance(v, bytes) else str(v) for v in values]


def finite(values: np.ndarray | None) -> bool:
    if values is None:
        return False
    try:
        numbers = np.asarray(values, dtype="float64")
    except (TypeError, ValueError):
        return False
    return bool(numbers.size and np.isfinite(numbers).all())


def series_times(series: Any, start: int, stop: int) -> np.ndarray:
    """Times (s) of samples start..stop of a TimeSeries: its rate and starting time, or its timestamps."""
    if series.timestamps is not None:
        return np.asarray(series.timestamps[start:stop], dtype="float64")
    rate = float(series.rate or 1.0)
    return float(series.starting_time or 0.0) + np.arange(start, stop) / rate


def series_rate(series: Any) -> float:
    if series.rate:
        return float(series.rate)
    stamps = np.asarray(series.timestamps[:1000], dtype="float64")
    steps = np.diff(stamps)
    steps = steps[steps > 0]
    return float(1.0 / np.median(steps)) if steps.size else 1.0


def spread_columns(n: int, k: int) -> np.ndarray:
    if n <= k:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, k).round().astype(int))
