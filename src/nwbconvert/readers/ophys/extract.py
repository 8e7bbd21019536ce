"""EXTRACT results saved as a MATLAB v7.3 .mat, read through roiextractors' ExtractSegmentationExtractor: EXTRACT
>= 1.0 (`output`: spatial_weights, temporal_weights, config, info) and legacy EXTRACT (`extractAnalysisOutput`:
filters, traces, time.totalTime). Image masks, the traces (ΔF/F when config.preprocess was on, else raw) and the
summary images EXTRACT saved. Legacy files give their rate (frames over totalTime); EXTRACT >= 1.0 files give none:
`--set source.rate=HZ` gives it (else the plane has no rate and `ophys.rate` must say it)."""

from __future__ import annotations

from pathlib import Path

from nwbconvert.errors import UsageError
from nwbconvert.imaging import Microscopy
from nwbconvert.model import Session
from nwbconvert.readers.base import Match, ReaderBase, ReadOptions
from nwbconvert.readers.ophys.base import ROIEXTRACTORS, OpticalSource, finite_rate, roiextractors_version
from nwbconvert.readers.ophys.cnmfe import segmentation_from
from nwbconvert.readers.ophys.segmentation import mat_groups

LAYOUTS = {  # the struct's name -> what it holds
    "output": frozenset({"spatial_weights", "temporal_weights", "config", "info"}),
    "extractAnalysisOutput": frozenset({"filters", "traces"}),
}


class ExtractReader(ReaderBase):
    name = "extract"
    description = "EXTRACT segmentation (.mat v7.3: output with spatial_weights, or legacy extractAnalysisOutput)"
    suffixes = (".mat",)
    requires = (ROIEXTRACTORS,)
    verified = "generated"  # tests/test_ophys_segmentation.py reads files synthetic/ophys_matlab.py writes
    manufacturer = "EXTRACT (Schnitzer lab)"
    source_options = ("rate",)
    note = "EXTRACT >= 1.0 files hold no frame rate: give it with --set source.rate=HZ or ophys.rate"

    def probe(self, path: Path) -> Match:
        """CONTENT for a v7.3 .mat with EXTRACT's `output` or `extractAnalysisOutput` struct."""
        groups = dict(mat_groups(path))
        found = any(name in groups and fields <= groups[name] for name, fields in LAYOUTS.items())
        return Match.CONTENT if found else Match.NO

    def read(self, path: Path, options: ReadOptions) -> Session:
        from roiextractors import ExtractSegmentationExtractor

        given = options.reader_option("rate")
        rate = finite_rate(given) if given is not None else None
        if given is not None and rate is None:
            raise UsageError(f"--set source.rate={given}: a frame rate in Hz (a positive number) is expected.")
        with self.reading(path):
            # EXTRACT >= 1.0 files hold no rate: roiextractors needs one to open them; it is kept only when given
            extractor = ExtractSegmentationExtractor(file_path=path, sampling_frequency=rate or 1.0)
            if type(extractor).__name__.startswith("Legacy"):
                rate = rate or finite_rate(extractor.get_sampling_frequency())
            plane, segmentation = segmentation_from(extractor, path, "EXTRACT", rate, Microscopy.TWO_PHOTON, options)
        return OpticalSource(
            reader=self.name,
            reader_version=roiextractors_version(),
            path=path,
            planes=(plane,),
            segmentations=(segmentation,),
            files=(path,),
        ).session()
