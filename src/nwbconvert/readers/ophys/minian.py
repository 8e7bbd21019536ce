"""Minian output (a folder of zarr groups: A.zarr footprints, C.zarr denoised, S.zarr deconvolved, b0.zarr baseline,
b.zarr/f.zarr background, max_proj.zarr), read through roiextractors' MinianSegmentationExtractor: image masks,
the denoised, baseline and deconvolved traces, the max projection, Minian's unit ids. Frame times from the
Miniscope timeStamps.csv beside them; without it, `--set source.rate=HZ` (else none: `ophys.rate` must say it).
Minian is a one-photon (miniscope) pipeline; the background (b, f) is not an ROI and stays out."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from nwbconvert.errors import UsageError
from nwbconvert.imaging import FrameTimes, MaskKind, Microscopy, Segmentation
from nwbconvert.model import Session
from nwbconvert.readers.base import Match, ReaderBase, ReadOptions
from nwbconvert.readers.ophys.base import (
    ROIEXTRACTORS,
    OpticalSource,
    finite_rate,
    plane_name,
    roiextractors_version,
    segmentation_name,
)
from nwbconvert.readers.ophys.segmentation import (
    extractor_images,
    extractor_traces,
    kept_frames,
    nwb_frame_shape,
    segmentation_plane,
)

NEEDED = ("A.zarr", "C.zarr", "b.zarr", "f.zarr")  # roiextractors refuses a folder without any of them


def is_minian(path: Path) -> bool:
    try:
        return path.is_dir() and all((path / name).is_dir() for name in NEEDED)
    except OSError:
        return False


class MinianReader(ReaderBase):
    name = "minian"
    description = "Minian output folder (A.zarr, C.zarr, S.zarr, b.zarr, f.zarr, …)"
    suffixes = ()
    requires = (ROIEXTRACTORS, ("zarr", "ophys"))
    verified = "generated"  # tests/test_ophys_segmentation.py reads a folder synthetic/ophys_minian.py writes
    input_kind = "folder"
    manufacturer = "Minian (Denise Cai lab)"
    source_options = ("rate",)
    note = "frame times from timeStamps.csv in the folder; without it give --set source.rate=HZ or ophys.rate"

    def probe(self, path: Path) -> Match:
        """CONTENT for a folder holding Minian's A.zarr, C.zarr, b.zarr and f.zarr groups."""
        return Match.CONTENT if is_minian(path) else Match.NO

    def read(self, path: Path, options: ReadOptions) -> Session:
        from roiextractors import MinianSegmentationExtractor

        given = options.reader_option("rate")
        rate = finite_rate(given) if given is not None else None
        if given is not None and rate is None:
            raise UsageError(f"--set source.rate={given}: a frame rate in Hz (a positive number) is expected.")
        stamped = (path / "timeStamps.csv").is_file()
        with self.reading(path), warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "Group '/max_proj.zarr' not found": optional groups
            # without timeStamps.csv roiextractors needs a rate to open the folder; it is kept only when given
            extractor = MinianSegmentationExtractor(path, sampling_frequency=None if stamped else (rate or 1.0))
            times, n = _times(extractor, rate, stamped, options)
            plane = segmentation_plane(plane_name(0), ("Channel0",), rate, Microscopy.ONE_PHOTON, "Minian")
            segmentation = _segmentation(extractor, path, plane.name, times, n)
        return OpticalSource(
            reader=self.name,
            reader_version=roiextractors_version(),
            path=path,
            planes=(plane,),
            segmentations=(segmentation,),
            files=tuple(sorted(p for p in path.rglob("*") if p.is_file())),
        ).session()


def _times(extractor: Any, rate: float | None, stamped: bool, options: ReadOptions) -> tuple[FrameTimes, int]:
    """The frames' times from timeStamps.csv (those of the frames Minian kept), else the given rate; and how many
    frames to keep (`stub_seconds`)."""
    n = int(extractor.get_num_samples())
    if not stamped:
        return FrameTimes(rate_hz=rate), kept_frames(n, rate, options.stub_seconds)
    stamps = np.asarray(extractor.get_native_timestamps(), dtype="float64")
    if options.stub_seconds is not None and len(stamps):
        n = max(1, int(np.searchsorted(stamps, stamps[0] + options.stub_seconds, side="left")))
    stamps = stamps[:n]
    return FrameTimes(t_start_s=float(stamps[0]) if len(stamps) else 0.0, timestamps_s=stamps), len(stamps)


def _segmentation(extractor: Any, path: Path, plane: str, times: FrameTimes, n: int) -> Segmentation:
    n_rois = int(extractor.get_num_rois())
    # roiextractors keys Minian's masks by position, its ROI ids are Minian's unit ids: masks asked by position
    masks = np.asarray(extractor.get_roi_image_masks(roi_ids=list(range(n_rois))))
    return Segmentation(
        name=segmentation_name(plane),
        plane=plane,
        source=str(path),
        tool="Minian",
        mask_kind=MaskKind.IMAGE,
        roi_ids=np.asarray(extractor.get_roi_ids(), dtype="int64"),
        image_masks=np.transpose(masks, (2, 1, 0)),
        traces=extractor_traces(extractor, n),
        times=times,
        images=extractor_images(extractor),
        frame_shape=nwb_frame_shape(extractor),
    )
