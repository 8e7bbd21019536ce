"""CNMF-E results saved as a MATLAB v7.3 .mat (the Schnitzer-lab / CIAtah `cnmfeAnalysisOutput` struct: extractedImages,
extractedSignals, time.totalTime, Cn), read through roiextractors' CnmfeSegmentationExtractor: image masks, the raw
traces, the correlation image, and the rate as frames over totalTime. CNMF-E is a one-photon pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from nwbconvert.imaging import MaskKind, Microscopy, Segmentation
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
    image_masks,
    kept_frames,
    mat_groups,
    nwb_frame_shape,
    segmentation_plane,
    trace_times,
)

CNMFE_FIELDS = frozenset({"extractedImages", "extractedSignals"})


def segmentation_from(
    extractor: Any, path: Path, tool: str, rate: float | None, microscopy: Microscopy, options: ReadOptions
) -> tuple[Any, Segmentation]:
    """The plane and the image-mask segmentation of a one-plane extractor (CNMF-E, EXTRACT, Minian)."""
    plane = segmentation_plane(plane_name(0), ("Channel0",), rate, microscopy, tool)
    n = kept_frames(int(extractor.get_num_samples()), rate, options.stub_seconds)
    segmentation = Segmentation(
        name=segmentation_name(plane.name),
        plane=plane.name,
        source=str(path),
        tool=tool,
        mask_kind=MaskKind.IMAGE,
        roi_ids=np.asarray(extractor.get_roi_ids(), dtype="int64"),
        image_masks=image_masks(extractor),
        traces=extractor_traces(extractor, n),
        times=trace_times(rate),
        images=extractor_images(extractor),
        frame_shape=nwb_frame_shape(extractor),
    )
    return plane, segmentation


class CnmfeReader(ReaderBase):
    name = "cnmfe"
    description = "CNMF-E segmentation (.mat v7.3: cnmfeAnalysisOutput with extractedImages, extractedSignals)"
    suffixes = (".mat",)
    requires = (ROIEXTRACTORS,)
    verified = "generated"  # tests/test_ophys_segmentation.py reads a file synthetic/ophys_matlab.py writes
    manufacturer = "CNMF-E"

    def probe(self, path: Path) -> Match:
        """CONTENT for a v7.3 .mat whose first variable holds extractedImages and extractedSignals (roiextractors
        reads the first one)."""
        groups = mat_groups(path)
        return Match.CONTENT if groups and groups[0][1] >= CNMFE_FIELDS else Match.NO

    def read(self, path: Path, options: ReadOptions) -> Session:
        from roiextractors import CnmfeSegmentationExtractor

        with self.reading(path):
            extractor = CnmfeSegmentationExtractor(file_path=path)
            rate = finite_rate(extractor.get_sampling_frequency())
            plane, segmentation = segmentation_from(extractor, path, "CNMF-E", rate, Microscopy.ONE_PHOTON, options)
        return OpticalSource(
            reader=self.name,
            reader_version=roiextractors_version(),
            path=path,
            planes=(plane,),
            segmentations=(segmentation,),
            files=(path,),
        ).session()
