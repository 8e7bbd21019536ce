"""Units: a raster of the first minute of spikes and the firing rate of every unit."""

from __future__ import annotations

from typing import Any

import numpy as np

from nwbconvert.preview.arrays import strings
from nwbconvert.preview.model import Figure, Section
from nwbconvert.preview.plot import finish, new_figure, spread

RASTER_S = 60.0
RASTER_UNITS = 100
SPIKES_PER_UNIT = 20000  # at most this many spikes of a unit are read for the raster


def units_section(nwb: Any) -> Section | None:
    units = nwb.units
    if units is None or len(units) == 0 or "spike_times" not in units.colnames:
        return None
    ends = np.asarray(units["spike_times_index"].data[:], dtype="int64")  # where each unit's spikes end
    starts = np.concatenate([[0], ends[:-1]])
    counts = ends - starts
    times = units["spike_times_index"].target.data
    labels = _labels(units)
    if ends[-1] == 0:
        return Section("units", "Units", notes=(f"The {len(units)} units have no spikes.",))
    first = min(float(times[s]) for s, c in zip(starts, counts, strict=True) if c)
    last = max(float(times[e - 1]) for e, c in zip(ends, counts, strict=True) if c)
    figures = (_raster(times, starts, counts, labels, first), _rates(counts, labels, max(last - first, 1e-9)))
    return Section("units", "Units", figures=figures)


def _labels(units: Any) -> list[str]:
    ids = [str(i) for i in units.id[:]]
    for name in ("unit_name", "unit_id", "original_cluster_id", "cluster_id"):
        if name in units.colnames:
            return strings(units[name].data[:])
    return ids


def _raster(times: Any, starts: np.ndarray, counts: np.ndarray, labels: list[str], first: float) -> Figure:
    chosen = spread(len(counts), RASTER_UNITS)
    stop = first + RASTER_S
    fig = new_figure(12, min(8.0, 1.5 + 0.12 * len(chosen)))
    ax = fig.subplots()
    rows = []
    for row, unit in enumerate(chosen):
        n = int(min(counts[unit], SPIKES_PER_UNIT))
        spikes = np.asarray(times[int(starts[unit]) : int(starts[unit]) + n], dtype="float64")
        rows.append(spikes[(spikes >= first) & (spikes < stop)])
        ax.vlines(rows[-1], row + 0.6, row + 1.4, lw=0.5, color="black")
    ax.set_xlim(first, stop)
    ax.set_ylim(0.4, len(chosen) + 0.6)
    if len(chosen) <= 30:
        ax.set_yticks(np.arange(1, len(chosen) + 1), [labels[i] for i in chosen], fontsize=7)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("unit")
    shown = sum(len(r) for r in rows)
    caption = f"{len(chosen)} of {len(counts)} units, {shown} spikes from {first:.2f} s to {stop:.2f} s."
    return finish(fig, "units_raster", "Units: raster", caption)


def _rates(counts: np.ndarray, labels: list[str], span: float) -> Figure:
    rates = counts / span
    order = np.argsort(rates)[::-1]
    fig = new_figure(12, 3.5)
    bars, hist = fig.subplots(1, 2, width_ratios=(3, 1))
    bars.bar(np.arange(len(rates)), rates[order], color="#1f3b73", width=0.8)
    if len(rates) <= 40:
        bars.set_xticks(np.arange(len(rates)), [labels[i] for i in order], rotation=90, fontsize=7)
    bars.set_ylabel("firing rate (Hz)")
    bars.set_xlabel("unit (fastest first)")
    hist.hist(rates, bins=min(30, max(5, len(rates))), color="#888888")
    hist.set_xlabel("firing rate (Hz)")
    hist.set_ylabel("units")
    caption = (
        f"{len(rates)} units, {int(counts.sum())} spikes over {span:.1f} s (first to last spike); "
        f"median rate {float(np.median(rates)):.2f} Hz."
    )
    return finish(fig, "units_firing_rates", "Units: firing rates", caption)
