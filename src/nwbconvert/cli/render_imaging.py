"""How imaging is shown: the planes, movies and segmentations a conversion writes (--dry-run and after), and the
imaging planes and ROI tables `info` finds in a file."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from rich.table import Table

from nwbconvert.cli.render import _size, stdout

if TYPE_CHECKING:
    from nwbconvert.plan_imaging import ImagingPlan
    from nwbconvert.summary import FileSummary


def imaging_tables(imaging: ImagingPlan) -> None:
    """One row per plane (its metadata), per movie and per segmentation."""
    planes = Table(title="imaging planes", title_justify="left")
    for col in ("plane", "channels", "indicator", "location", "excitation (nm)", "rate (Hz)", "microscopy"):
        planes.add_column(col)
    for p in imaging.planes:
        excitation = "unknown" if math.isnan(p.excitation_lambda_nm) else f"{p.excitation_lambda_nm:g}"
        rate = f"{p.rate_hz:g}" if p.rate_hz else "-"
        channels = ", ".join(c.name for c in p.channels)
        planes.add_row(p.name, channels, p.indicator, p.location, excitation, rate, p.microscopy.value)
    stdout.print(planes)
    if imaging.movies:
        movies = Table(title="movies", title_justify="left")
        for col in ("series", "plane", "channel", "frames", "frame (x × y)", "dtype", "timing", "size"):
            movies.add_column(col, justify="right" if col in ("frames", "size") else "left")
        for m in imaging.movies:
            timing = f"{m.rate_hz:g} Hz" if m.rate_hz is not None else "timestamps"
            shape = " × ".join(map(str, m.frame_shape))
            movies.add_row(m.name, m.plane, m.channel, str(m.n_frames), shape, m.dtype, timing, _size(m.raw_bytes))
        stdout.print(movies)
    for s in imaging.segmentations:
        traces = ", ".join(t.kind.value for t in s.traces) or "none"
        stdout.print(
            f"ROIs     {s.name} ({s.tool}, plane {s.plane}): {s.n_rois} ROIs, {s.mask_kind.value} masks, "
            f"{s.n_frames} frames of traces ({traces}), images: {', '.join(s.images) or 'none'}"
        )


def imaging_summary(s: FileSummary) -> None:
    """The imaging planes and ROI tables of a file, for `info`."""
    for p in s.imaging_planes:
        excitation = f"{p.excitation_lambda_nm:g} nm" if p.excitation_lambda_nm is not None else "unknown"
        stdout.print(
            f"  plane     {p.name}: {p.indicator} in {p.location}, excitation {excitation}, device {p.device}, "
            f"channels {', '.join(p.channels)}"
        )
    for t in s.segmentations:
        columns = ", ".join(t.columns) or "no columns"
        stdout.print(f"  ROIs      {t.name} on {t.imaging_plane}: {t.n_rois} ROIs ({columns})")
