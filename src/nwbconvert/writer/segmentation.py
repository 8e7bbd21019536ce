"""Segmentations into processing/ophys: ImageSegmentation's PlaneSegmentations (the tool's own mask type and every
per-ROI property as a column), their traces as RoiResponseSeries (ΔF/F in DfOverF, the others in Fluorescence)
linked to the ROI table, and summary images in Images."""

from __future__ import annotations

from typing import Any

import numpy as np

from nwbconvert.imaging import MaskKind, RoiTraces, Segmentation
from nwbconvert.plan_imaging import ImagingPlan

CHUNKED_BYTES = 64 * 1024 * 1024  # traces larger than this are written buffer by buffer (a memory map stays lazy)
BUFFER_BYTES = 16 * 1024 * 1024


def add_segmentations(nwbfile: Any, imaging: ImagingPlan, planes: dict[str, Any]) -> None:
    from pynwb.ophys import ImageSegmentation

    module = _ophys_module(nwbfile)
    found = ImageSegmentation(name="ImageSegmentation")
    module.add(found)
    for seg in imaging.segmentations:
        table = _plane_segmentation(found, seg, planes[seg.plane])
        suffix = seg.name.removeprefix("PlaneSegmentation")
        rate = imaging.plane(seg.plane).rate_for(seg.times)
        for traces in seg.traces:
            _container(module, traces.kind.container).add_roi_response_series(
                _roi_response_series(table, seg, traces, suffix, rate)
            )
        if seg.images:
            module.add(_images(seg, suffix))


def _ophys_module(nwbfile: Any) -> Any:
    return nwbfile.processing.get("ophys") or nwbfile.create_processing_module(
        "ophys", "Optical physiology: the ROIs a segmentation tool found, their traces and summary images."
    )


def _container(module: Any, name: str) -> Any:
    from pynwb.ophys import DfOverF, Fluorescence

    if name not in module.data_interfaces:
        module.add(DfOverF(name=name) if name == "DfOverF" else Fluorescence(name=name))
    return module[name]


def _plane_segmentation(found: Any, seg: Segmentation, plane: Any) -> Any:
    table = found.create_plane_segmentation(
        name=seg.name,
        description=f"ROIs found by {seg.tool} in {seg.source}.",
        imaging_plane=plane,
    )
    for name in seg.properties:
        table.add_column(name, seg.property_descriptions.get(name) or f"{name}, as {seg.tool} gives it.")
    for i, roi_id in enumerate(seg.roi_ids):
        row = {name: _item(values[i]) for name, values in seg.properties.items()}
        if seg.mask_kind is MaskKind.PIXEL:
            row["pixel_mask"] = [tuple(r) for r in np.asarray(seg.pixel_masks[i], dtype="float64").tolist()]
        else:
            assert seg.image_masks is not None
            row["image_mask"] = np.asarray(seg.image_masks[i])
        table.add_roi(id=int(roi_id), **row)
    return table


def _item(value: Any) -> Any:
    """A numpy scalar as the Python value hdmf stores in a column."""
    return value.item() if isinstance(value, np.generic) else value


def _roi_response_series(table: Any, seg: Segmentation, traces: RoiTraces, suffix: str, rate: float | None) -> Any:
    from hdmf.data_utils import DataChunkIterator
    from pynwb.ophys import RoiResponseSeries

    region = table.create_roi_table_region(f"Every ROI of {seg.name}.", region=list(range(seg.n_rois)))
    data: Any = traces.data
    if data.nbytes > CHUNKED_BYTES:
        data = DataChunkIterator(data, buffer_size=max(1, BUFFER_BYTES // max(1, data.shape[1] * data.dtype.itemsize)))
    timing: dict[str, Any]
    if seg.times.timestamps_s is not None:
        timing = {"timestamps": seg.times.timestamps_s}
    else:
        timing = {"rate": rate, "starting_time": seg.times.t_start_s}
    return RoiResponseSeries(
        name=f"{traces.kind.series_name}{suffix}",
        description=f"{traces.kind.value} traces of every ROI of {seg.name}, from {seg.tool}.",
        data=data,
        rois=region,
        unit=traces.unit,
        **timing,
    )


def _images(seg: Segmentation, suffix: str) -> Any:
    from pynwb.base import Images
    from pynwb.image import GrayscaleImage

    images = [
        GrayscaleImage(name=name, data=np.asarray(image), description=f"The {name} image of {seg.name}, as (x, y).")
        for name, image in seg.images.items()
    ]
    return Images(
        name=f"SummaryImages{suffix}",
        images=images,
        description=f"Summary images of {seg.name} from {seg.tool}, as (x, y).",
    )
