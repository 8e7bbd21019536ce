"""Behavioral series (and any other time series no other section draws): the first samples of each."""

from __future__ import annotations

from typing import Any

from nwbconvert.preview.arrays import rows, series_times, spread_columns
from nwbconvert.preview.model import Figure, Section
from nwbconvert.preview.plot import envelope, finish, new_figure

SAMPLES = 20_000
COLUMNS = 4
MAX_SERIES = 12
DRAWN_ELSEWHERE = (
    "ElectricalSeries",
    "ImageSeries",
    "RoiResponseSeries",
    "PoseEstimationSeries",
    "SpikeEventSeries",
)


def behavior_section(nwb: Any) -> Section | None:
    from pynwb.base import TimeSeries
    from pynwb.ecephys import ElectricalSeries
    from pynwb.image import ImageSeries
    from pynwb.ophys import RoiResponseSeries

    skip = (ElectricalSeries, ImageSeries, RoiResponseSeries)
    found = [
        o
        for o in nwb.objects.values()
        if isinstance(o, TimeSeries)
        and not isinstance(o, skip)
        and type(o).__name__ not in DRAWN_ELSEWHERE
        and o.data is not None
        and len(getattr(o.data, "shape", ())) in (1, 2)
        and int(o.data.shape[0]) > 1
    ]
    found.sort(key=lambda s: (_module(s) != "behavior", s.name))
    if not found:
        return None
    figures = tuple(series_figure(s) for s in found[:MAX_SERIES])
    notes = (f"{len(found) - MAX_SERIES} more series are not drawn.",) if len(found) > MAX_SERIES else ()
    return Section("behavior", "Behavior and other series", figures=figures, notes=notes)


def _module(series: Any) -> str:
    parent = series.parent
    while parent is not None and type(parent).__name__ != "ProcessingModule":
        parent = parent.parent
    return parent.name if parent is not None else "acquisition"


def series_figure(series: Any) -> Figure:
    n = int(min(series.data.shape[0], SAMPLES))
    width = int(series.data.shape[1]) if len(series.data.shape) > 1 else 1
    columns = spread_columns(width, COLUMNS)
    values = rows(series.data, 0, n, columns if width > 1 else None).astype("float64")
    values = values * float(getattr(series, "conversion", 1.0) or 1.0) + float(getattr(series, "offset", 0.0) or 0.0)
    t, y = envelope(series_times(series, 0, n), values)
    fig = new_figure(12, 2.8)
    ax = fig.subplots()
    ax.plot(t, y, lw=0.7)
    ax.set_xlabel("time (s)")
    ax.set_ylabel(str(getattr(series, "unit", "") or ""))
    if width > 1:
        ax.legend([f"column {int(c)}" for c in columns], fontsize=7)
    where = _module(series)
    ax.set_title(f"{where}/{series.name} ({type(series).__name__})", fontsize=9)
    caption = (
        f"{type(series).__name__} {series.name} in {where}: first {n} of {int(series.data.shape[0])} samples, "
        f"{len(columns)} of {width} columns."
    )
    return finish(fig, f"series_{where}_{series.name}", f"Series: {series.name}", caption)
