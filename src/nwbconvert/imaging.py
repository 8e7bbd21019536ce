"""The optical-physiology part of the intermediate representation: imaging planes, movies and segmentations.

Frozen, typed, free of roiextractors and pynwb (as `model.py`): imaging readers build these, `writer/ophys.py` and
`writer/segmentation.py` write them. Frames stay in the file until the writer asks for them (`LazyFrames.read`).
Names are decided by the reader and stable across runs: planes `Plane0`, channels `Green`/`Red`/`Channel1`,
series `TwoPhotonSeriesPlane0Green`, segmentations `PlaneSegmentationPlane0`.

Every array is in NWB's axis order: x is the column (width) and y the row (height) of an image, so a frame
roiextractors gives as (height, width) is stored transposed, (width, height), as NeuroConv stores it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

import numpy as np


class LazyFrames(Protocol):
    """The frames of one plane and channel, read on demand: shape (frames, height, width[, depth])."""

    @property
    def shape(self) -> tuple[int, ...]: ...

    @property
    def dtype(self) -> np.dtype: ...

    def read(self, start: int, stop: int) -> np.ndarray:
        """Frames [start, stop) in NWB's axis order (frame, x, y[, z]) and the source's dtype. A reader that
        cannot map the file reads only these frames (page by page): memory is bounded by stop - start."""
        ...


class Microscopy(str, Enum):
    """Which NWB series a movie becomes (decided by the reader from the source; `ophys.microscopy` overrides)."""

    TWO_PHOTON = "two-photon"  # TwoPhotonSeries: ScanImage, Bruker, Thor, Scanbox, Femtonics, ...
    ONE_PHOTON = "one-photon"  # OnePhotonSeries: Miniscope, Inscopix

    @property
    def series_type(self) -> str:
        return "TwoPhotonSeries" if self is Microscopy.TWO_PHOTON else "OnePhotonSeries"


@dataclass(frozen=True)
class OpticalChannel:
    """One detector channel of a plane, as the header says (None: the header does not say)."""

    name: str  # "Green", "Red", "Channel1"
    description: str = ""
    emission_lambda_nm: float | None = None


@dataclass(frozen=True)
class ImagingPlane:
    """One imaging plane as the source's headers describe it; what they do not say is None (metadata fills it)."""

    name: str  # "Plane0", "Plane1": what `imaging_planes.<plane>` keys name
    channels: tuple[OpticalChannel, ...]
    rate_hz: float | None = None  # frames per second of this plane (a volume rate for multi-plane scans)
    device: str = ""
    description: str = ""
    indicator: str | None = None
    location: str | None = None
    excitation_lambda_nm: float | None = None
    grid_spacing_um: tuple[float, ...] | None = None  # (x, y[, z]) size of a pixel
    origin_um: tuple[float, ...] | None = None  # position of pixel (0, 0[, 0])
    microscopy: Microscopy = Microscopy.TWO_PHOTON


@dataclass(frozen=True)
class FrameTimes:
    """When the frames of a series were taken: a rate from `t_start_s`, or one time per frame."""

    t_start_s: float = 0.0
    rate_hz: float | None = None  # None with `timestamps_s`, or when the file gives no rate (metadata must)
    timestamps_s: np.ndarray | None = None  # float64 seconds on the session clock, one per frame


@dataclass(frozen=True, eq=False)
class Movie:
    """The frames of one plane × channel: one TwoPhotonSeries / OnePhotonSeries."""

    name: str  # "TwoPhotonSeriesPlane0Green"
    plane: str  # the ImagingPlane's name
    channel: str  # the OpticalChannel's name
    frames: LazyFrames
    times: FrameTimes
    description: str = ""
    unit: str = "n.a."  # what a pixel value is; raw detector counts have none

    @property
    def n_frames(self) -> int:
        return self.frames.shape[0]

    @property
    def frame_shape(self) -> tuple[int, ...]:
        return tuple(self.frames.shape[1:])

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.frames.dtype)

    @property
    def frame_bytes(self) -> int:
        return int(np.prod(self.frame_shape)) * self.dtype.itemsize

    @property
    def nbytes(self) -> int:
        return self.n_frames * self.frame_bytes


class MaskKind(str, Enum):
    PIXEL = "pixel"  # per ROI, (x, y, weight) rows: suite2p, Inscopix
    IMAGE = "image"  # per ROI, a weight per pixel of the frame: CaImAn, CNMF-E, EXTRACT, Minian


class TraceKind(str, Enum):
    """A trace of every ROI over the frames; where NWB puts it is `trace_container`."""

    RAW = "raw"
    NEUROPIL = "neuropil"
    DECONVOLVED = "deconvolved"
    DENOISED = "denoised"
    BASELINE = "baseline"
    DFF = "dff"

    @property
    def series_name(self) -> str:
        """The RoiResponseSeries' name, before its plane: RoiResponseSeries (raw), Neuropil, …, DfOverF."""
        return {"dff": "DfOverF", "raw": "RoiResponseSeries"}.get(self.value, self.value.capitalize())

    @property
    def container(self) -> str:
        """ΔF/F traces go to `DfOverF`, the others to `Fluorescence`."""
        return "DfOverF" if self is TraceKind.DFF else "Fluorescence"


@dataclass(frozen=True, eq=False)
class RoiTraces:
    """One kind of trace of every ROI: (frames, rois) float values, in ROI order."""

    kind: TraceKind
    data: np.ndarray  # may be a memory map of the source file (suite2p's F.npy)
    unit: str = "n.a."


RoiPropertyValues = np.ndarray  # one value per ROI: bool, int, float or str


@dataclass(frozen=True, eq=False)
class Segmentation:
    """The ROIs of one plane found by a segmentation tool, with their traces and summary images."""

    name: str  # "PlaneSegmentationPlane0"
    plane: str  # the ImagingPlane's name (the movie's, when the movie is in the same file)
    source: str  # the path it came from
    tool: str  # "suite2p", "CaImAn", ...
    mask_kind: MaskKind
    roi_ids: np.ndarray  # int, one per ROI, as the tool numbers them
    pixel_masks: tuple[np.ndarray, ...] = ()  # PIXEL: per ROI, float (n, 3) rows of (x, y, weight)
    image_masks: np.ndarray | None = None  # IMAGE: (rois, x, y) float weights
    properties: dict[str, RoiPropertyValues] = field(default_factory=dict)  # "iscell_probability", "accepted", ...
    property_descriptions: dict[str, str] = field(default_factory=dict)
    traces: tuple[RoiTraces, ...] = ()
    times: FrameTimes = field(default_factory=FrameTimes)
    images: dict[str, np.ndarray] = field(default_factory=dict)  # "mean", "correlation", "max": (x, y)
    frame_shape: tuple[int, int] = (0, 0)  # (x, y) = (width, height) of the frames the masks refer to

    @property
    def n_rois(self) -> int:
        return len(self.roi_ids)

    @property
    def n_frames(self) -> int:
        return max((len(t.data) for t in self.traces), default=0)


@dataclass(frozen=True)
class Imaging:
    """Everything optical a source holds; empty for electrophysiology sources."""

    planes: tuple[ImagingPlane, ...] = ()
    movies: tuple[Movie, ...] = ()
    segmentations: tuple[Segmentation, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.planes or self.movies or self.segmentations)

    def plane(self, name: str) -> ImagingPlane:
        return next(p for p in self.planes if p.name == name)
