"""Inscopix cell sets (.isxd whose JSON footer says type 1: IDPS / IDEAS PCA-ICA or CNMF-E output) through
roiextractors' InscopixSegmentationExtractor (the `isx` package): every cell's footprint as a pixel mask (its
non-zero pixels), its trace, its name and status (accepted / undecided / rejected), the rate from the timing, the
pixel size and origin from the footer. The `inscopix` reader takes the .isxd movies; the footer tells them apart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from nwbconvert.imaging import ImagingPlane, MaskKind, Microscopy, OpticalChannel, RoiTraces, Segmentation, TraceKind
from nwbconvert.model import HeaderMetadata, Session
from nwbconvert.readers.base import Match, ReaderBase, ReadOptions
from nwbconvert.readers.ophys.base import (
    ROIEXTRACTORS,
    OpticalSource,
    finite_rate,
    plane_name,
    roiextractors_version,
    segmentation_name,
)
from nwbconvert.readers.ophys.inscopix import ISXD_CELL_SET, isxd_footer, isxd_spacing, isxd_start, isxd_type
from nwbconvert.readers.ophys.segmentation import kept_frames, trace_times


class InscopixCellSetReader(ReaderBase):
    name = "inscopix-cellset"
    description = "Inscopix cell set (.isxd)"
    suffixes = (".isxd",)
    requires = (ROIEXTRACTORS, ("isx", "ophys"))
    verified = "generated"  # tests/test_ophys_segmentation.py reads a cell set isx.CellSet.write writes
    manufacturer = "Inscopix"
    note = "the isx package supports Python 3.9 to 3.12 on Linux, Windows and Intel macOS"

    def probe(self, path: Path) -> Match:
        """CONTENT for an .isxd whose footer's type is a cell set (read from the file's last bytes)."""
        if not path.is_file() or path.suffix.lower() != ".isxd":
            return Match.NO
        return Match.CONTENT if isxd_type(path) == ISXD_CELL_SET else Match.NO

    def read(self, path: Path, options: ReadOptions) -> Session:
        from roiextractors import InscopixSegmentationExtractor

        footer = isxd_footer(path)
        with self.reading(path):
            extractor = InscopixSegmentationExtractor(file_path=path)
            rate = finite_rate(extractor.get_sampling_frequency())
            acquisition = extractor.cell_set.get_acquisition_info() or {}
            spacing = isxd_spacing(footer)
            plane = ImagingPlane(
                name=plane_name(0),
                channels=(OpticalChannel("Channel0"),),
                rate_hz=rate,
                device=str(acquisition.get("Microscope Type") or ""),
                description="The imaging plane the Inscopix cell set was found in.",
                grid_spacing_um=spacing.pixel_um,
                origin_um=spacing.top_left_um,
                microscopy=Microscopy.ONE_PHOTON,
            )
            segmentation = _segmentation(extractor, path, plane.name, rate, options)
        return OpticalSource(
            reader=self.name,
            reader_version=roiextractors_version(),
            path=path,
            planes=(plane,),
            segmentations=(segmentation,),
            files=(path,),
            header=HeaderMetadata(session_start_time=isxd_start(footer)),
        ).session()


def _segmentation(extractor: Any, path: Path, plane: str, rate: float | None, options: ReadOptions) -> Segmentation:
    names = [str(name) for name in extractor.get_roi_ids()]
    n = kept_frames(int(extractor.get_num_samples()), rate, options.stub_seconds)
    traces = np.asarray(extractor.get_traces(end_frame=n), dtype="float32").reshape(len(names), -1).T  # (frames, rois)
    height, width = (int(v) for v in extractor.cell_set.spacing.num_pixels)  # isx: (rows, columns)
    masks = tuple(np.asarray(m, dtype="float64")[:, [1, 0, 2]] for m in extractor.get_roi_pixel_masks())
    status = extractor.get_property("cell_status", names) if names else np.array([], dtype=str)
    return Segmentation(
        name=segmentation_name(plane),
        plane=plane,
        source=str(path),
        tool="Inscopix",
        mask_kind=MaskKind.PIXEL,
        roi_ids=np.arange(len(names), dtype="int64"),
        pixel_masks=masks,
        properties={"cell_name": np.asarray(names, dtype=str), "cell_status": np.asarray(status, dtype=str)},
        property_descriptions={
            "cell_name": "the cell's name in the Inscopix cell set (C00, C01, …)",
            "cell_status": "the cell's status in the cell set: accepted, undecided or rejected",
        },
        traces=(RoiTraces(TraceKind.RAW, traces),) if names else (),
        times=trace_times(rate),
        frame_shape=(width, height),
    )
