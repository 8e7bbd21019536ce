"""suite2p output: every plane (plane0, plane1, …) and both channels of a `suite2p/` folder, found by nwbconvert,
read through roiextractors' Suite2pSegmentationExtractor (one extractor per plane × channel).

Channel 2 (F_chan2.npy: the red/anatomical channel) becomes a second segmentation of the same plane,
`PlaneSegmentationPlane0Chan2`, with the same ROIs and masks (suite2p extracts channel 2 through channel 1's
masks) and its own raw and neuropil traces: its traces cannot sit beside channel 1's in one table (one
`Fluorescence/Raw` per segmentation)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nwbconvert.imaging import ImagingPlane, MaskKind, Microscopy, Segmentation
from nwbconvert.model import Session, SourceNote
from nwbconvert.readers.base import Match, ReaderBase, ReadOptions, shortfall
from nwbconvert.readers.ophys.base import (
    ROIEXTRACTORS,
    OpticalSource,
    channel_names,
    finite_rate,
    plane_name,
    roiextractors_version,
    segmentation_name,
)
from nwbconvert.readers.ophys.segmentation import (
    extractor_traces,
    kept_frames,
    segmentation_plane,
    trace_times,
)

NEEDED = ("ops.npy", "stat.npy")
TRACE_FILES = {  # what suite2p writes for each channel (roiextractors skips a missing one silently)
    "chan1": ("F.npy", "Fneu.npy", "spks.npy"),
    "chan2": ("F_chan2.npy", "Fneu_chan2.npy"),
}

STAT_DESCRIPTIONS = {
    "npix": "number of pixels in the ROI",
    "npix_soma": "number of pixels in the ROI's soma (after soma_crop)",
    "npix_norm": "npix_soma divided by the mean npix_soma of the plane's ROIs",
    "npix_norm_no_crop": "npix divided by the mean npix of the plane's ROIs",
    "compact": "compactness: mean distance of the pixels to the ROI's centre over that of a disk (1 = a disk)",
    "solidity": "number of pixels over the area of the ROI's convex hull",
    "footprint": "spatial extent of the ROI's correlation with its neighbourhood (suite2p's footprint)",
    "mrs": "mean radius of the ROI's pixels, normalised by that of a disk of the same size (mrs0)",
    "mrs0": "mean radius of a disk with as many pixels as the ROI",
    "radius": "radius of the ellipse fitted to the ROI (pixels)",
    "aspect_ratio": "aspect ratio of the ellipse fitted to the ROI",
    "skew": "skewness of the ROI's neuropil-corrected trace",
    "std": "standard deviation of the ROI's neuropil-corrected trace",
    "iplane": "index of the plane the ROI was found in",
    "chan2_prob": "probability that the ROI is also seen in channel 2 (red)",
}


@dataclass(frozen=True)
class Suite2pFolder:
    root: Path  # the `suite2p` folder roiextractors is given
    planes: tuple[str, ...]  # plane folder names: plane0, plane1, …


def _is_plane(folder: Path) -> bool:
    return folder.name.startswith("plane") and all((folder / name).is_file() for name in NEEDED)


def _planes_in(root: Path) -> tuple[str, ...]:
    """The plane folders of `root` in suite2p's order (plane2 before plane10, as roiextractors' natsort)."""
    try:
        found = [p.name for p in root.iterdir() if p.is_dir() and _is_plane(p)]
    except OSError:
        return ()
    return tuple(sorted(found, key=lambda name: (_plane_index(name, 10**9), name)))


def find_suite2p(path: Path) -> Suite2pFolder | None:
    """The suite2p folder and its planes for `path`: a plane folder (that plane only), the `suite2p` folder, or
    the folder holding `suite2p/`."""
    try:
        if not path.is_dir():
            return None
        if _is_plane(path):
            return Suite2pFolder(path.parent, (path.name,))
        for root in (path, path / "suite2p"):
            planes = _planes_in(root) if root.is_dir() else ()
            if planes:
                return Suite2pFolder(root, planes)
    except OSError:
        return None
    return None


def _plane_index(name: str, position: int) -> int:
    digits = name[len("plane") :]
    return int(digits) if digits.isdigit() else position


class Suite2pReader(ReaderBase):
    name = "suite2p"
    description = "suite2p output folder (suite2p/plane0, plane1, …: stat.npy, ops.npy, F.npy, …)"
    suffixes = ()
    requires = (ROIEXTRACTORS,)
    verified = "real"  # tests/test_ophys_segmentation.py reads the real fissa_example output (and a generated one)
    input_kind = "folder"
    manufacturer = "suite2p (MouseLand)"
    unreadable_advice = "Check that every plane folder holds ops.npy, stat.npy and the trace files suite2p wrote."

    def probe(self, path: Path) -> Match:
        """CONTENT for a plane folder with ops.npy and stat.npy, or a folder holding such plane folders."""
        return Match.CONTENT if find_suite2p(path) is not None else Match.NO

    def read(self, path: Path, options: ReadOptions) -> Session:
        folder = find_suite2p(path)
        if folder is None:
            from nwbconvert.errors import SourceError

            raise SourceError(f"{path}: no suite2p plane folder (plane0/ with ops.npy and stat.npy) found.")
        planes: list[ImagingPlane] = []
        segmentations: list[Segmentation] = []
        files: list[Path] = []
        notes: list[SourceNote] = []
        with self.reading(path):
            for position, plane_folder in enumerate(folder.planes):
                plane, found, missing = _read_plane(folder.root, plane_folder, position, options)
                planes.append(plane)
                segmentations += found
                notes += missing
                files += sorted(p for p in (folder.root / plane_folder).glob("*.npy") if p.is_file())
        return OpticalSource(
            reader=self.name,
            reader_version=roiextractors_version(),
            path=path,
            planes=tuple(planes),
            segmentations=tuple(segmentations),
            files=tuple(files),
            notes=tuple(notes),
        ).session()


def missing_traces(plane: Path, nchannels: int, options: ReadOptions) -> list[SourceNote]:
    """A shortfall (an error, or with --allow-incomplete a note) for each channel whose trace files suite2p writes
    are not all in `plane`: channel 2's where ops says `nchannels` 2 or any of its files is there."""
    notes = []
    for channel, wanted in TRACE_FILES.items():
        missing = [name for name in wanted if not (plane / name).is_file()]
        if channel == "chan2" and nchannels < 2 and len(missing) == len(wanted):
            continue
        if missing:
            what = f"the traces of {plane.name}'s channel {channel[-1]}"
            notes.append(shortfall(plane, what, ", ".join(wanted), f"no {', '.join(missing)}", options))
    return notes


def _read_plane(
    root: Path, folder: str, position: int, options: ReadOptions
) -> tuple[ImagingPlane, list[Segmentation], list[SourceNote]]:
    """One plane: its ImagingPlane, one segmentation per channel (channel 2 only where F_chan2.npy is), and a note
    for each trace file missing."""
    from roiextractors import Suite2pSegmentationExtractor

    raw_channels = ["chan1"] + (["chan2"] if (root / folder / "F_chan2.npy").is_file() else [])
    names = channel_names(raw_channels, len(raw_channels))
    name = plane_name(_plane_index(folder, position))
    segmentations: list[Segmentation] = []
    notes: list[SourceNote] = []
    rate, one_photon = None, False
    for raw, channel in zip(raw_channels, names):
        extractor = Suite2pSegmentationExtractor(folder_path=root, plane_name=folder, channel_name=raw)
        if raw == "chan1":
            nchannels = int(extractor.options.get("nchannels", 1) or 1)
            notes = missing_traces(root / folder, nchannels, options)
        rate = finite_rate(extractor.get_sampling_frequency())
        one_photon = bool(extractor.options.get("1Preg", False))  # suite2p's registration for one-photon data
        seg_name = segmentation_name(name) + ("" if raw == "chan1" else channel)
        segmentations.append(_segmentation(extractor, root / folder, name, seg_name, rate, options))
    microscopy = Microscopy.ONE_PHOTON if one_photon else Microscopy.TWO_PHOTON
    plane = segmentation_plane(name, tuple(names), rate, microscopy, "suite2p")
    return plane, segmentations, notes


def _segmentation(
    extractor: Any, folder: Path, plane: str, name: str, rate: float | None, options: ReadOptions
) -> Segmentation:
    ops = extractor.options
    n = kept_frames(int(extractor.get_num_samples()), rate, options.stub_seconds)
    traces = extractor_traces(extractor, n)
    masks = tuple(np.asarray(m, dtype="float64")[:, [1, 0, 2]] for m in extractor.get_roi_pixel_masks())
    values, descriptions = _properties(folder, extractor.stat)
    channel = "chan1" if extractor.channel_name == "chan1" else "chan2"
    height, width = (int(v) for v in extractor.get_frame_shape())
    return Segmentation(
        name=name,
        plane=plane,
        source=str(folder),
        tool="suite2p",
        mask_kind=MaskKind.PIXEL,
        roi_ids=np.asarray(extractor.get_roi_ids(), dtype="int64"),
        pixel_masks=masks,
        properties=values,
        property_descriptions=descriptions,
        traces=traces,
        times=trace_times(rate),
        images=_images(ops, channel),
        frame_shape=(width, height),
    )


def _properties(folder: Path, stat: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """iscell (label and probability), redcell where present, and every scalar statistic stat.npy holds."""
    values: dict[str, np.ndarray] = {}
    descriptions: dict[str, str] = {}
    for file, key, what in (("iscell.npy", "iscell", "a cell"), ("redcell.npy", "redcell", "a red (channel 2) cell")):
        if (folder / file).is_file():
            table = np.asarray(np.load(folder / file), dtype="float64").reshape(len(stat), -1)
            values[key] = table[:, 0] > 0.5
            descriptions[key] = f"suite2p's label: the ROI is {what} ({file} column 0)"
            if table.shape[1] > 1:
                values[f"{key}_probability"] = table[:, 1]
                descriptions[f"{key}_probability"] = f"suite2p classifier's probability that the ROI is {what}"
    for key in _scalar_keys(stat):
        values[key] = np.asarray([roi[key] for roi in stat])
        descriptions[key] = f"suite2p stat.npy '{key}': {STAT_DESCRIPTIONS.get(key, 'per-ROI statistic')}"
    if len(stat) and all("med" in roi for roi in stat):
        med = np.asarray([roi["med"] for roi in stat], dtype="float64").reshape(len(stat), 2)
        values["center_x"], values["center_y"] = med[:, 1], med[:, 0]
        descriptions["center_x"] = "x (column) of the ROI's median pixel (suite2p stat.npy 'med')"
        descriptions["center_y"] = "y (row) of the ROI's median pixel (suite2p stat.npy 'med')"
    return values, descriptions


def _scalar_keys(stat: np.ndarray) -> list[str]:
    """Keys of stat.npy that every ROI holds as one number."""
    if not len(stat):
        return []
    keys = [k for k, v in stat[0].items() if np.ndim(v) == 0 and isinstance(v, (int, float, np.number, bool))]
    return [k for k in keys if all(k in roi and np.ndim(roi[k]) == 0 for roi in stat)]


def _images(ops: dict, channel: str) -> dict[str, np.ndarray]:
    """mean, correlation (Vcorr) and max (max_proj) images, (x, y), on the full frame. Vcorr and max_proj cover
    only the registration's valid range (yrange × xrange): they are placed there, zeros around, as suite2p's GUI
    does."""
    images: dict[str, np.ndarray] = {}
    mean = ops.get("meanImg" if channel == "chan1" else "meanImg_chan2")
    if mean is not None:
        images["mean"] = np.asarray(mean).T
    if channel != "chan1":
        return images
    for key, image in (("correlation", "Vcorr"), ("max", "max_proj")):
        if image in ops and ops[image] is not None:
            images[key] = _uncropped(ops, np.asarray(ops[image])).T
    return images


def _uncropped(ops: dict, image: np.ndarray) -> np.ndarray:
    shape = (int(ops["Ly"]), int(ops["Lx"]))
    if image.shape == shape or "yrange" not in ops or "xrange" not in ops:
        return image
    full = np.zeros(shape, image.dtype)
    (y0, y1), (x0, x1) = (int(v) for v in ops["yrange"][:2]), (int(v) for v in ops["xrange"][:2])
    full[y0:y1, x0:x1] = image
    return full
