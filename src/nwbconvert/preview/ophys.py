"""Imaging: a mean frame with every ROI outline (pixel masks and image masks), a few ROI traces, and the mean
frame of a movie with no segmentation."""

from __future__ import annotations

from typing import Any

import numpy as np

from nwbconvert.preview.arrays import rows
from nwbconvert.preview.model import Figure, Section
from nwbconvert.preview.plot import envelope, finish, new_figure, spread

MOVIE_BYTES = 64 * 2**20  # frames averaged for a mean frame: at most this much is read
TRACES = 8
TRACE_SAMPLES = 5000
PREFERRED = ("mean", "average", "max", "corr")


def ophys_section(nwb: Any) -> Section | None:
    from pynwb.ophys import PlaneSegmentation

    segmentations = [o for o in nwb.objects.values() if isinstance(o, PlaneSegmentation)]
    movies = [o for o in nwb.objects.values() if _is_movie(o)]
    figures: list[Figure] = []
    notes: list[str] = []
    for seg in segmentations:
        outline, note = roi_outlines(nwb, seg, movies)
        figures.append(outline)
        notes += [note] if note else []
        trace = roi_traces(nwb, seg)
        figures += [trace] if trace is not None else []
    planes_done = {id(seg.imaging_plane) for seg in segmentations}
    for movie in movies:
        if id(getattr(movie, "imaging_plane", None)) not in planes_done and movie.data is not None:
            figures.append(_mean_figure(movie))
    if not figures:
        return None
    return Section("ophys", "Imaging", figures=tuple(figures), notes=tuple(notes))


def _is_movie(obj: Any) -> bool:
    from pynwb.ophys import OnePhotonSeries, TwoPhotonSeries

    return isinstance(obj, (TwoPhotonSeries, OnePhotonSeries))


def mean_frame(movie: Any) -> tuple[np.ndarray, int]:
    """The mean of the first frames (at most MOVIE_BYTES of them) and how many were averaged."""
    data = movie.data
    frame_bytes = int(np.prod(data.shape[1:])) * np.dtype(data.dtype).itemsize
    n = int(max(1, min(data.shape[0], MOVIE_BYTES // max(frame_bytes, 1), 200)))
    frames = np.asarray(data[:n], dtype="float64")
    return frames.reshape(n, *data.shape[1:3], -1).mean(axis=(0, 3)), n


def _mean_figure(movie: Any) -> Figure:
    image, n = mean_frame(movie)
    fig = new_figure(6, 6)
    ax = fig.subplots()
    ax.imshow(image.T, cmap="gray")
    ax.set_title(f"{movie.name}: mean of the first {n} frames", fontsize=9)
    return finish(fig, f"mean_frame_{movie.name}", f"Mean frame: {movie.name}", f"{movie.data.shape} frames, (x, y).")


def _background(nwb: Any, seg: Any, movies: list[Any], shape: tuple[int, int] | None) -> tuple[np.ndarray | None, str]:
    """A summary image of the segmentation (mean preferred) of the masks' shape, else the mean of its movie."""
    from pynwb.base import Images

    found: list[tuple[int, str, np.ndarray]] = []
    for images in (o for o in nwb.objects.values() if isinstance(o, Images)):
        for name, image in images.images.items():
            if len(image.data.shape) == 2 and (shape is None or tuple(image.data.shape) == shape):
                rank = next((i for i, p in enumerate(PREFERRED) if p in name.lower()), len(PREFERRED))
                found.append((rank, f"{images.name}/{name}", np.asarray(image.data[:], dtype="float64")))
    if found:
        rank, name, image = min(found, key=lambda f: f[0])
        return image, f"summary image {name}"
    for movie in movies:
        if movie.imaging_plane is seg.imaging_plane and movie.data is not None:
            image, n = mean_frame(movie)
            if shape is None or image.shape == shape:
                return image, f"mean of the first {n} frames of {movie.name}"
    return None, ""


def roi_outlines(nwb: Any, seg: Any, movies: list[Any]) -> tuple[Figure, str]:
    masks = list(_masks(seg))
    shape = tuple(seg["image_mask"].data.shape[1:3]) if "image_mask" in seg.colnames else None
    image, source = _background(nwb, seg, movies, shape)
    if image is None:
        width = max((int(x.max()) + 1 for _, x, _, _ in masks if len(x)), default=1)
        height = max((int(y.max()) + 1 for _, _, y, _ in masks if len(y)), default=1)
        image, source = np.zeros(shape or (width, height)), "blank frame (the file holds no image of this plane)"
    fig = new_figure(7, 7 * image.shape[1] / max(image.shape[0], 1) + 0.5)
    ax = fig.subplots()
    ax.imshow(image.T, cmap="gray", **({"vmin": -1.0, "vmax": 0.2} if source.startswith("blank") else {}))
    from matplotlib import colormaps

    colours = colormaps["tab20"]
    drawn = 0
    for i, (crop, xs, ys, level) in enumerate(masks):
        if crop.size and crop.max() > 0:
            ax.contour(xs, ys, crop.T, levels=[level], colors=[colours(i % 20)], linewidths=0.8)
            drawn += 1
    ax.set_xlim(-0.5, image.shape[0] - 0.5)
    ax.set_ylim(image.shape[1] - 0.5, -0.5)
    kind = "image masks" if "image_mask" in seg.colnames else "pixel masks"
    ax.set_title(f"{seg.name}: {drawn} ROI outlines ({kind})", fontsize=9)
    caption = f"{drawn} of {len(seg)} ROIs outlined ({kind}) over the {source}; axes (x, y) in pixels."
    note = f"{seg.name}: {len(seg) - drawn} ROIs have empty masks." if drawn < len(seg) else ""
    return finish(fig, f"rois_{seg.name}", f"ROIs: {seg.name}", caption), note


def _masks(seg: Any) -> Any:
    """Each ROI as (mask crop, x coordinates, y coordinates, contour level), one ROI in memory at a time."""
    if "image_mask" in seg.colnames:
        data = seg["image_mask"].data
        for i in range(len(seg)):
            mask = np.asarray(data[i], dtype="float64")
            yield _crop(mask, 0.25 * float(mask.max()) if mask.size and mask.max() > 0 else 0.5)
        return
    if "pixel_mask" not in seg.colnames:
        return
    ends = np.asarray(seg["pixel_mask_index"].data[:], dtype="int64")
    pixels = _pixels(seg["pixel_mask_index"].target.data[:])
    start = 0
    for end in ends:
        x, y = pixels[0][start:end].astype(int), pixels[1][start:end].astype(int)
        start = int(end)
        if not len(x):
            yield np.zeros((0, 0)), np.arange(0), np.arange(0), 0.5
            continue
        crop = np.zeros((x.max() - x.min() + 3, y.max() - y.min() + 3))
        crop[x - x.min() + 1, y - y.min() + 1] = 1.0
        yield crop, np.arange(x.min() - 1, x.max() + 2), np.arange(y.min() - 1, y.max() + 2), 0.5


def _pixels(raw: Any) -> tuple[np.ndarray, np.ndarray]:
    array = np.asarray(raw)
    if array.dtype.names:
        return np.asarray(array[array.dtype.names[0]]), np.asarray(array[array.dtype.names[1]])
    table = np.asarray([tuple(r) for r in raw], dtype="float64").reshape(-1, 3)
    return table[:, 0], table[:, 1]


def _crop(mask: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    inside = np.argwhere(mask > level)
    if not len(inside):
        return np.zeros((0, 0)), np.arange(0), np.arange(0), level
    (x0, y0), (x1, y1) = np.maximum(inside.min(axis=0) - 1, 0), inside.max(axis=0) + 2
    return mask[x0:x1, y0:y1], np.arange(x0, x0 + (x1 - x0)), np.arange(y0, y0 + (y1 - y0)), level


def roi_traces(nwb: Any, seg: Any) -> Figure | None:
    from pynwb.ophys import RoiResponseSeries

    series = [o for o in nwb.objects.values() if isinstance(o, RoiResponseSeries) and o.rois.table is seg]
    if not series:
        return None
    chosen = next((s for s in series if type(s.parent).__name__ == "DfOverF"), series[0])
    n_rois = int(chosen.data.shape[1]) if len(chosen.data.shape) > 1 else 1
    columns = spread(n_rois, TRACES)
    n = int(min(chosen.data.shape[0], TRACE_SAMPLES))
    values = rows(chosen.data, 0, n, columns if n_rois > 1 else None).astype("float64")
    from nwbconvert.preview.arrays import series_times

    t = series_times(chosen, 0, n)
    low, high = np.nanmin(values, axis=0), np.nanmax(values, axis=0)
    normalised = (values - low) / np.where(high > low, high - low, 1.0)
    fig = new_figure(12, 0.6 * len(columns) + 1.5)
    ax = fig.subplots()
    tt, yy = envelope(t, normalised)
    ax.plot(tt, yy + 1.1 * np.arange(len(columns)), lw=0.6)
    ids = np.asarray(chosen.rois.data[:])[columns] if chosen.rois is not None else columns
    ax.set_yticks(1.1 * np.arange(len(columns)) + 0.5, [f"ROI {int(i)}" for i in ids], fontsize=7)
    ax.set_xlabel("time (s)")
    caption = f"{chosen.name}: {len(columns)} of {n_rois} ROIs, first {n} samples, each scaled to its own range."
    return finish(fig, f"roi_traces_{seg.name}", f"ROI traces: {chosen.name}", caption)
