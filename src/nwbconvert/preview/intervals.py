"""Events and trials: one timeline row per interval table (trials, epochs, ...) and per events table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from nwbconvert.preview.model import Figure, Section, Table
from nwbconvert.preview.plot import finish, new_figure

ROWS_DRAWN = 5000  # rows of a table drawn (and read) at most


@dataclass(frozen=True)
class Timeline:
    name: str
    kind: str
    n_rows: int
    columns: tuple[str, ...]
    starts: np.ndarray
    stops: np.ndarray | None  # None: instants


def intervals_section(nwb: Any) -> Section | None:
    lines = [_interval(name, t) for name, t in (nwb.intervals or {}).items() if "start_time" in t.colnames]
    lines += [_events(name, t) for name, t in (getattr(nwb, "events", None) or {}).items() if "timestamp" in t.colnames]
    lines = [line for line in lines if line.n_rows > 0]
    if not lines:
        return None
    rows = tuple(
        (
            line.name,
            line.kind,
            str(line.n_rows),
            f"{float(np.nanmin(line.starts)):.3f}-{float(np.nanmax(_ends(line))):.3f}",
            ", ".join(line.columns),
        )
        for line in lines
    )
    table = Table(("table", "type", "rows", "span drawn (s)", "columns"), rows)
    return Section("intervals", "Events and trials", (table,), (_timeline(lines),))


def _interval(name: str, table: Any) -> Timeline:
    n = len(table)
    starts = np.asarray(table["start_time"].data[:ROWS_DRAWN], dtype="float64")
    stops = np.asarray(table["stop_time"].data[:ROWS_DRAWN], dtype="float64") if "stop_time" in table.colnames else None
    return Timeline(name, type(table).__name__, n, tuple(table.colnames), starts, stops)


def _events(name: str, table: Any) -> Timeline:
    n = len(table)
    starts = np.asarray(table["timestamp"].data[:ROWS_DRAWN], dtype="float64")
    stops = None
    if "duration" in table.colnames:
        durations = np.asarray(table["duration"].data[:ROWS_DRAWN], dtype="float64")
        if np.isfinite(durations).any():
            stops = starts + np.nan_to_num(durations)
    return Timeline(name, type(table).__name__, n, tuple(table.colnames), starts, stops)


def _ends(line: Timeline) -> np.ndarray:
    return line.stops if line.stops is not None else line.starts


def _timeline(lines: list[Timeline]) -> Figure:
    fig = new_figure(12, 1.2 + 0.5 * len(lines))
    ax = fig.subplots()
    for row, line in enumerate(lines):
        if line.stops is not None:
            spans = [(float(a), float(max(b - a, 0.0))) for a, b in zip(line.starts, line.stops, strict=True)]
            ax.broken_barh(spans, (row - 0.35, 0.7), facecolors="#4c72b0", edgecolor="#1f3b73", linewidth=0.3)
        else:
            ax.vlines(line.starts, row - 0.35, row + 0.35, lw=0.6, color="#c44e52")
    ax.set_yticks(np.arange(len(lines)), [f"{line.name} ({line.n_rows})" for line in lines], fontsize=8)
    ax.set_ylim(-0.6, len(lines) - 0.4)
    ax.invert_yaxis()
    ax.set_xlabel("time (s)")
    drawn = sum(min(line.n_rows, ROWS_DRAWN) for line in lines)
    caption = f"{len(lines)} tables, {drawn} rows drawn (at most {ROWS_DRAWN} a table); bars: intervals, ticks: events."
    return finish(fig, "events_timeline", "Events and trials timeline", caption)
