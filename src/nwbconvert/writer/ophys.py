"""Imaging planes and their movies: devices, ImagingPlane with OpticalChannels, TwoPhotonSeries/OnePhotonSeries
(frames streamed: see writer/frames.py), then the segmentations (writer/segmentation.py)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from nwbconvert.plan_imaging import ImagingPlan, MoviePlan, PlaneMetadata

if TYPE_CHECKING:
    from nwbconvert.writer.nwbfile import DataWrapping


def add_imaging(nwbfile: Any, imaging: ImagingPlan, wrapping: DataWrapping) -> None:
    """Every plane, every movie (into acquisition) and every segmentation (into processing/ophys)."""
    from nwbconvert.writer.segmentation import add_segmentations

    planes = {p.name: _imaging_plane(nwbfile, p) for p in imaging.planes}
    for entry in imaging.movies:
        nwbfile.add_acquisition(_series(entry, planes[entry.plane], wrapping))
    if imaging.segmentations:
        add_segmentations(nwbfile, imaging, planes)


def _device(nwbfile: Any, name: str) -> Any:
    found = nwbfile.devices.get(name)
    return found if found is not None else nwbfile.create_device(name, "The microscope that imaged the planes.")


def _imaging_plane(nwbfile: Any, plane: PlaneMetadata) -> Any:
    from pynwb.ophys import OpticalChannel

    channels = [
        OpticalChannel(name=c.name, description=c.description, emission_lambda=float(c.emission_lambda_nm or math.nan))
        for c in plane.channels
    ]
    extra: dict[str, Any] = {}
    if plane.grid_spacing_um:
        extra |= {"grid_spacing": list(plane.grid_spacing_um), "grid_spacing_unit": "micrometers"}
    if plane.origin_um:
        extra |= {"origin_coords": list(plane.origin_um), "origin_coords_unit": "micrometers"}
    return nwbfile.create_imaging_plane(
        name=plane.nwb_name,
        optical_channel=channels,
        description=plane.description,
        device=_device(nwbfile, plane.device),
        excitation_lambda=plane.excitation_lambda_nm,
        indicator=plane.indicator,
        location=plane.location,
        imaging_rate=plane.rate_hz,
        **extra,
    )


def _series(entry: MoviePlan, plane: Any, wrapping: DataWrapping) -> Any:
    from pynwb.ophys import OnePhotonSeries, TwoPhotonSeries

    kind = TwoPhotonSeries if entry.series_type == "TwoPhotonSeries" else OnePhotonSeries
    movie = entry.movie
    timing: dict[str, Any]
    if entry.rate_hz is not None:
        timing = {"rate": entry.rate_hz, "starting_time": entry.t_start_s}
    else:
        timing = {"timestamps": movie.times.timestamps_s}
    description = movie.description or f"Channel {entry.channel} of {entry.plane}, frames as (frame, x, y)."
    return kind(
        name=entry.name,
        description=description,
        data=wrapping.movie(entry),
        imaging_plane=plane,
        unit=movie.unit,
        dimension=list(entry.frame_shape),
        **timing,
    )
