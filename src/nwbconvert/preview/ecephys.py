"""Electrical series (a few seconds from the start and the middle, scaled, a channel subset) and the probe map."""

from __future__ import annotations

from typing import Any

import numpy as np

from nwbconvert.preview.arrays import aligned_middle, column, finite, rows, series_rate, series_times, strings
from nwbconvert.preview.model import Figure, Section
from nwbconvert.preview.plot import envelope, finish, new_figure, spread

WINDOW_S = 2.0
CHANNELS = 16
MAX_SERIES = 6


def ecephys_section(nwb: Any) -> Section | None:
    from pynwb.ecephys import ElectricalSeries

    series = [o for o in nwb.objects.values() if isinstance(o, ElectricalSeries)]
    figures: list[Figure] = []
    notes: list[str] = []
    if nwb.electrodes is not None and len(nwb.electrodes) > 0:
        probe = probe_map(nwb.electrodes)
        figures += [probe] if isinstance(probe, Figure) else []
        notes += [probe] if isinstance(probe, str) else []
    for s in series[:MAX_SERIES]:
        figures.append(traces(s))
    if len(series) > MAX_SERIES:
        notes.append(f"{len(series) - MAX_SERIES} more electrical series are not drawn.")
    if not figures and not notes:
        return None
    return Section("ecephys", "Extracellular electrophysiology", figures=tuple(figures), notes=tuple(notes))


def traces(series: Any) -> Figure:
    """Two windows (start, middle) of a sensible channel subset, in µV when the unit is volts."""
    data = series.data
    length = int(data.shape[0])
    n_channels = int(data.shape[1]) if len(data.shape) > 1 else 1
    rate = series_rate(series)
    window = max(1, min(length, round(WINDOW_S * rate)))
    chosen = _channels(series, n_channels)
    names = _channel_names(series, chosen)
    factor, unit = _scale(series, chosen)
    starts = [0] if length <= window else [0, aligned_middle(data, length, window)]
    fig = new_figure(12, 0.35 * len(chosen) + 1.8)
    axes = fig.subplots(1, len(starts), sharey=True, squeeze=False)[0]
    spacing = 0.0
    for ax, start in zip(axes, starts, strict=True):
        values = rows(data, start, start + window, chosen if n_channels > 1 else None).astype("float64") * factor
        values -= np.nanmedian(values, axis=0)  # the offset goes with it
        spacing = spacing or _spacing(values)
        t, y = envelope(series_times(series, start, start + window), values)
        ax.plot(t, y + spacing * np.arange(len(chosen)), lw=0.5, color="#1f3b73")
        ax.set_xlabel("time (s)")
        ax.set_title(f"{'start' if start == 0 else 'middle'}: {t[0]:.2f}-{t[-1]:.2f} s", fontsize=9)
    axes[0].set_yticks(spacing * np.arange(len(chosen)), names, fontsize=7)
    fig.suptitle(f"{series.name}: {len(chosen)} of {n_channels} channels, {rate:g} Hz", fontsize=10)
    caption = (
        f"{series.name} ({type(series).__name__}): channels {', '.join(names)}; traces offset by "
        f"{spacing:.3g} {unit}, median removed; {window} samples per window."
    )
    return finish(fig, f"traces_{series.name}", f"Traces: {series.name}", caption)


def _channels(series: Any, n_channels: int) -> np.ndarray:
    """Up to CHANNELS columns spread over the probe's depth (electrode y) when known, else over the columns."""
    ys = None
    region = getattr(series, "electrodes", None)
    if region is not None and n_channels > 1:
        table, index = region.table, np.asarray(region.data[:])
        depth = column(table, "rel_y")
        depth = depth if finite(depth) else column(table, "y")
        if finite(depth) and len(index) == n_channels:
            ys = np.asarray(depth, dtype="float64")[index]
    order = np.argsort(ys, kind="stable") if ys is not None else np.arange(n_channels)
    return np.sort(order[spread(n_channels, CHANNELS)])


def _channel_names(series: Any, chosen: np.ndarray) -> list[str]:
    region = getattr(series, "electrodes", None)
    if region is None:
        return [str(c) for c in chosen]
    index = np.asarray(region.data[:])
    names = column(region.table, "channel_name")
    labels = strings(names) if names is not None else [str(i) for i in region.table.id[:]]
    return [labels[int(index[c])] if c < len(index) else str(c) for c in chosen]


def _scale(series: Any, chosen: np.ndarray) -> tuple[np.ndarray, str]:
    factor = np.full(len(chosen), float(getattr(series, "conversion", 1.0) or 1.0))
    per_channel = getattr(series, "channel_conversion", None)
    if per_channel is not None:
        factor = factor * np.asarray(per_channel[:], dtype="float64")[chosen]
    unit = str(getattr(series, "unit", "") or "")
    if unit.lower() in ("volts", "volt", "v"):
        return factor * 1e6, "µV"
    return factor, unit


def _spacing(values: np.ndarray) -> float:
    spans = np.nanpercentile(values, 99.5, axis=0) - np.nanpercentile(values, 0.5, axis=0)
    spacing = float(np.nanmedian(spans)) if spans.size else 1.0
    return spacing if np.isfinite(spacing) and spacing > 0 else 1.0


def probe_map(electrodes: Any) -> Figure | str:
    """Electrode x/y (rel_x/rel_y when set) coloured by group, and by brain area when more than one is set."""
    x, y = column(electrodes, "rel_x"), column(electrodes, "rel_y")
    if not (finite(x) and finite(y)):
        x, y = column(electrodes, "x"), column(electrodes, "y")
    if not (finite(x) and finite(y)):
        return f"The {len(electrodes)} electrodes have no x/y positions, so no probe map is drawn."
    assert x is not None and y is not None
    groups = strings(column(electrodes, "group_name") if "group_name" in electrodes.colnames else ["all"] * len(x))
    shank = next((c for c in ("shank", "shank_id", "shank_ids") if c in electrodes.colnames), None)
    if shank is not None and len(set(strings(column(electrodes, shank)))) > 1:  # shanks within a group
        groups = [f"{g} shank {k}" for g, k in zip(groups, strings(column(electrodes, shank)), strict=True)]
    areas = strings(column(electrodes, "location")) if "location" in electrodes.colnames else []
    show_areas = len(set(areas)) > 1
    fig = new_figure(11 if show_areas else 6, 6)
    axes = fig.subplots(1, 2 if show_areas else 1, squeeze=False)[0]
    _scatter(axes[0], x, y, groups, "electrode group" + (" and shank" if shank else ""))
    if show_areas:
        _scatter(axes[1], x, y, areas, "brain area (location)")
    kind = "rel_x/rel_y" if "rel_x" in electrodes.colnames and finite(column(electrodes, "rel_x")) else "x/y"
    caption = f"{len(x)} electrodes at {kind}; {len(set(groups))} groups" + (
        f"; brain areas: {'; '.join(sorted(set(areas)))[:400]}" if areas else ""
    )
    return finish(fig, "probe_map", "Probe map", caption)


def _scatter(ax: Any, x: np.ndarray, y: np.ndarray, labels: list[str], title: str) -> None:
    from matplotlib import colormaps

    names = list(dict.fromkeys(labels))
    colours = colormaps["tab10" if len(names) <= 10 else "tab20"]
    for i, name in enumerate(names[:20]):
        keep = np.array([label == name for label in labels])
        ax.scatter(x[keep], y[keep], s=14, color=colours(i % colours.N), label=name[:50])
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="upper right")
