"""CaImAn results saved with `cnm.save(...)` (HDF5: `estimates` with A, C, S, YrA, …; `params`), read through
roiextractors' CaimanSegmentationExtractor: image masks, every trace CaImAn saved (raw = C + YrA, ΔF/F F_dff,
denoised C, deconvolved S), accepted/rejected (idx_components), SNR, r_values, cnn_preds and the per-ROI baseline
and noise CaImAn estimated, the correlation image (Cn) and the spatial background as an image; the background
components (b, f) are not ROIs and stay out of the table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from nwbconvert.imaging import MaskKind, Microscopy, Segmentation
from nwbconvert.model import Session
from nwbconvert.readers.base import Match, ReaderBase, ReadOptions
from nwbconvert.readers.catalog_hdf5 import hdf5_root
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
    extractor_properties,
    extractor_traces,
    image_masks,
    kept_frames,
    nwb_frame_shape,
    segmentation_plane,
    trace_times,
)

PROPERTY_DESCRIPTIONS = {
    "is_accepted": "CaImAn's component evaluation accepted the ROI (its index is in estimates/idx_components)",
    "snr": "signal-to-noise ratio of the ROI's trace (estimates/SNR_comp)",
    "r_values": "spatial correlation of the ROI's footprint with the movie (estimates/r_values)",
    "cnn_preds": "CNN classifier's probability that the ROI is a neuron (estimates/cnn_preds)",
}
EXTRA_PROPERTIES = {  # per-ROI values of `estimates` roiextractors does not expose
    "bl": "baseline of the ROI's trace as CaImAn's deconvolution estimated it (estimates/bl)",
    "c1": "initial calcium concentration of the ROI's trace (estimates/c1)",
    "neurons_sn": "noise standard deviation of the ROI's trace (estimates/neurons_sn)",
}


class CaimanReader(ReaderBase):
    name = "caiman"
    description = "CaImAn segmentation saved by cnm.save (.hdf5: estimates, params)"
    suffixes = (".hdf5", ".h5")
    requires = (ROIEXTRACTORS,)
    verified = "real"  # tests/test_ophys_segmentation.py reads the real ideas_toolbox CaImAn file
    manufacturer = "CaImAn (Flatiron Institute)"

    def probe(self, path: Path) -> Match:
        """CONTENT for an HDF5 file whose root holds the `estimates` and `params` groups cnm.save writes."""
        keys, _ = hdf5_root(path)
        return Match.CONTENT if {"estimates", "params"} <= keys else Match.NO

    def read(self, path: Path, options: ReadOptions) -> Session:
        from roiextractors import CaimanSegmentationExtractor

        with self.reading(path):
            extractor = CaimanSegmentationExtractor(file_path=path)
            rate = finite_rate(extractor.get_sampling_frequency())
            plane = segmentation_plane(plane_name(0), ("Channel0",), rate, _microscopy(path), "CaImAn")
            segmentation = _segmentation(extractor, path, plane.name, rate, options)
        return OpticalSource(
            reader=self.name,
            reader_version=roiextractors_version(),
            path=path,
            planes=(plane,),
            segmentations=(segmentation,),
            files=(path,),
        ).session()


def _segmentation(extractor: Any, path: Path, plane: str, rate: float | None, options: ReadOptions) -> Segmentation:
    n = kept_frames(int(extractor.get_num_samples()), rate, options.stub_seconds)
    values, descriptions = extractor_properties(extractor)
    descriptions.update({k: PROPERTY_DESCRIPTIONS[k] for k in values if k in PROPERTY_DESCRIPTIONS})
    roi_ids = np.asarray(extractor.get_roi_ids(), dtype="int64")
    for key, value in _extra_properties(path, len(roi_ids)).items():
        values[key], descriptions[key] = value, EXTRA_PROPERTIES[key]
    return Segmentation(
        name=segmentation_name(plane),
        plane=plane,
        source=str(path),
        tool="CaImAn",
        mask_kind=MaskKind.IMAGE,
        roi_ids=roi_ids,
        image_masks=image_masks(extractor),
        properties=values,
        property_descriptions=descriptions,
        traces=extractor_traces(extractor, n),
        times=trace_times(rate),
        images=_images(extractor),
        frame_shape=nwb_frame_shape(extractor),
    )


def _images(extractor: Any) -> dict[str, np.ndarray]:
    """Cn as `correlation`; the image roiextractors calls `mean` is CaImAn's spatial background (the sum of the
    columns of b), not a mean of the frames: it is named `background`."""
    images = extractor_images(extractor)
    if "mean" in images:
        images["background"] = images.pop("mean")
    return images


def _extra_properties(path: Path, n_rois: int) -> dict[str, np.ndarray]:
    """bl, c1, neurons_sn where CaImAn saved one number per ROI (it saves the string 'NoneType' where not)."""
    import h5py

    found: dict[str, np.ndarray] = {}
    with h5py.File(path, "r") as f:
        estimates = f["estimates"]
        for key in EXTRA_PROPERTIES:
            data = estimates.get(key)
            if isinstance(data, h5py.Dataset) and data.shape == (n_rois,) and data.dtype.kind in "fiub":
                found[key] = np.asarray(data[()])
    return found


def _microscopy(path: Path) -> Microscopy:
    """One-photon when CaImAn ran in its CNMF-E mode (params/init/center_psf, for one-photon data)."""
    import h5py

    with h5py.File(path, "r") as f:
        center_psf = f.get("params/init/center_psf")
        one_photon = isinstance(center_psf, h5py.Dataset) and center_psf.shape == ()
        one_photon = one_photon and center_psf.dtype.kind == "b" and bool(center_psf[()])
    return Microscopy.ONE_PHOTON if one_photon else Microscopy.TWO_PHOTON
