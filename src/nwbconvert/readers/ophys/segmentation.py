"""What the segmentation readers share: a roiextractors SegmentationExtractor's masks, traces, properties and
summary images in NWB's axis order (x = width, y = height), and the ImagingPlane a segmentation refers to."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from nwbconvert.imaging import FrameTimes, ImagingPlane, Microscopy, OpticalChannel, RoiTraces, TraceKind
from nwbconvert.readers.ophys.base import stub_count

# roiextractors' summary image names that differ from nwbconvert's
IMAGE_NAMES = {"max_image": "max", "maximum_projection": "max"}


def kept_frames(n_frames: int, rate_hz: float | None, stub_seconds: float | None) -> int:
    """How many frames of traces a --stub keeps, by their rate (`base.stub_count`)."""
    return stub_count(n_frames, FrameTimes(rate_hz=rate_hz), stub_seconds)


def lazy_rows(data: Any, n: int) -> np.ndarray:
    """The first `n` rows of a (frames, rois) trace: a memory map stays one (a view), anything else is read."""
    if isinstance(data, np.ndarray):
        return data[:n]
    return np.asarray(data[:n])


def extractor_traces(extractor: Any, n_frames: int | None = None) -> tuple[RoiTraces, ...]:
    """Every ROI trace the extractor has, (frames, rois), in TraceKind order; background components (not ROIs)
    are left out."""
    found = {name: data for name, data in extractor.get_traces_dict().items() if data is not None}
    out = []
    for kind in TraceKind:
        if kind.value in found:
            data = found[kind.value]
            out.append(RoiTraces(kind, lazy_rows(data, len(data) if n_frames is None else n_frames)))
    return tuple(out)


def extractor_properties(extractor: Any, skip: tuple[str, ...] = ()) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The per-ROI properties roiextractors sets (CaImAn's is_accepted, snr, …) and their descriptions."""
    values: dict[str, np.ndarray] = {}
    descriptions: dict[str, str] = {}
    for key in extractor.get_property_keys():
        if key in skip:
            continue
        info = extractor.get_property_info(key)
        values[key] = np.asarray(info.data)
        descriptions[key] = info.description or key
    return values, descriptions


def extractor_images(extractor: Any) -> dict[str, np.ndarray]:
    """Summary images (mean, correlation, max, …) transposed to (x, y); missing ones left out."""
    images = extractor.get_images_dict().items()
    return {IMAGE_NAMES.get(name, name): np.asarray(img).T for name, img in images if img is not None}


def image_masks(extractor: Any) -> np.ndarray:
    """Every ROI's image mask, (rois, x, y), from roiextractors' (height, width, rois)."""
    masks = np.asarray(extractor.get_roi_image_masks())
    return np.transpose(masks, (2, 1, 0))


def nwb_frame_shape(extractor: Any) -> tuple[int, int]:
    """(x, y) = (width, height) of the frames the masks refer to (roiextractors gives (height, width))."""
    height, width = (int(v) for v in tuple(extractor.get_frame_shape())[:2])
    return width, height


def segmentation_plane(
    name: str, channels: tuple[str, ...], rate_hz: float | None, microscopy: Microscopy, tool: str
) -> ImagingPlane:
    """The plane a segmentation refers to: its rate and channels as the tool's output says, nothing invented."""
    return ImagingPlane(
        name=name,
        channels=tuple(OpticalChannel(c) for c in channels),
        rate_hz=rate_hz,
        description=f"The imaging plane {tool} segmented.",
        microscopy=microscopy,
    )


def trace_times(rate_hz: float | None) -> FrameTimes:
    return FrameTimes(rate_hz=rate_hz)


MAT73_OFFSET = 512  # a MATLAB v7.3 .mat file is HDF5 after a 512-byte user block ("MATLAB 7.3 MAT-file, …")


@lru_cache(maxsize=16)
def _mat_groups(path: Path, mtime_ns: int) -> tuple[tuple[str, frozenset[str]], ...]:
    import h5py

    try:
        with h5py.File(path, "r") as f:
            return tuple(
                (name, frozenset(f[name].keys()) if isinstance(f[name], h5py.Group) else frozenset())
                for name in f
                if "#" not in name
            )
    except Exception:  # a damaged file is no match
        return ()


def mat_groups(path: Path) -> tuple[tuple[str, frozenset[str]], ...]:
    """The root variables of a v7.3 .mat file (HDF5), in h5py's order, each with the names its struct holds;
    empty for anything else (a v5 .mat, a damaged file). Never raises; reads only the root's names."""
    from nwbconvert.readers.base import head
    from nwbconvert.readers.catalog_hdf5 import HDF5_MAGIC

    if path.suffix.lower() != ".mat" or not path.is_file():
        return ()
    start = head(path, MAT73_OFFSET + len(HDF5_MAGIC))
    if HDF5_MAGIC not in (start[:8], start[MAT73_OFFSET:]):
        return ()
    try:
        return _mat_groups(path, path.stat().st_mtime_ns)
    except OSError:
        return ()
