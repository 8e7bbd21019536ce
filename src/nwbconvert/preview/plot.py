"""Matplotlib (Agg, no pyplot state) helpers shared by the figure modules."""

from __future__ import annotations

import io
import re
from typing import Any

import numpy as np

from nwbconvert.preview.model import Figure

DPI = 100
MAX_POINTS = 4000  # samples drawn per line: longer windows are reduced to min/max pairs


def new_figure(width: float = 10.0, height: float = 4.0) -> Any:
    """A matplotlib Figure on the Agg canvas (no global pyplot state, so reports can be made in threads)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as MplFigure

    fig = MplFigure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def finish(fig: Any, key: str, title: str, caption: str = "") -> Figure:
    """The figure as PNG bytes, under a file-safe key. Its texts (names, units, labels from the file) are drawn as
    they are: a '$' starts no mathtext, which garbled "reward $5 and $6" and failed on what it cannot parse
    ("$\\foo$")."""
    from matplotlib.text import Text

    for text in fig.findobj(Text):
        text.set_parse_math(False)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    fig.clear()
    return Figure(safe_key(key), title, buffer.getvalue(), caption)


def safe_key(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_.") or "figure"


def spread(n: int, k: int) -> np.ndarray:
    """At most `k` indices spread evenly over range(n), first and last included."""
    if n <= k:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, k).round().astype(int))


def envelope(t: np.ndarray, y: np.ndarray, points: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """`y` (samples × lines) reduced to min/max pairs per bin when longer than `points`: spikes stay visible."""
    n = len(t)
    if n <= points:
        return t, y
    bins = points // 2
    per = n // bins
    cut = bins * per
    shaped = y[:cut].reshape(bins, per, *y.shape[1:])
    lo, hi = shaped.min(axis=1), shaped.max(axis=1)
    out = np.empty((2 * bins, *y.shape[1:]), dtype=y.dtype)
    out[0::2], out[1::2] = lo, hi
    times = np.repeat(t[:cut:per], 2)
    return times, out


def text(value: Any) -> str:
    """A value of an NWB field as a short string."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if isinstance(value, (list, tuple, np.ndarray)):
        return ", ".join(text(v) for v in value)
    return str(value)
