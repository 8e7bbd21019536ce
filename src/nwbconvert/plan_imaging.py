"""What a conversion writes of a session's imaging, decided before any frame is written.

Each imaging plane's metadata is layered: what the headers say < `ophys.<key>` (every plane) <
`imaging_planes.<plane>.<key>` (one plane), channels likewise under `channels.<channel>`. A plane without its
indicator, location or wavelengths, or a movie without a rate or time stamps, is refused with the keys to set, all
problems at once (exit 4). The value `unknown` is written only where the user set it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from nwbconvert.errors import MetadataError
from nwbconvert.imaging import FrameTimes, Imaging, ImagingPlane, Microscopy, Movie, OpticalChannel, Segmentation
from nwbconvert.metadata.model import ImagingPlaneLayer, NwbMetadata, OpticalChannelLayer

UNKNOWN = "unknown"


@dataclass(frozen=True)
class PlaneMetadata:
    """One imaging plane as written: every required value known (a float NaN or "unknown" only where the user
    set `unknown`)."""

    name: str
    indicator: str
    location: str
    excitation_lambda_nm: float
    channels: tuple[OpticalChannel, ...]  # emission wavelength of each known
    device: str
    description: str
    rate_hz: float | None  # None: the plane's series carry time stamps only (NWB's imaging_rate is optional)
    rate_given: float | None  # ophys.rate / imaging_planes.<plane>.rate as the user set it
    grid_spacing_um: tuple[float, ...] | None
    origin_um: tuple[float, ...] | None
    microscopy: Microscopy

    def rate_for(self, times: FrameTimes) -> float | None:
        """The rate a series of this plane is written with: None for one timed by its own time stamps; else the
        rate the user set (which wins over a header's, as every metadata layer does), the file's, the plane's."""
        if times.timestamps_s is not None:
            return None
        return self.rate_given or times.rate_hz or self.rate_hz

    @property
    def nwb_name(self) -> str:
        """The ImagingPlane's name in the file: Plane0 -> ImagingPlane0."""
        return f"Imaging{self.name}" if self.name.startswith("Plane") else f"ImagingPlane{self.name}"


@dataclass(frozen=True)
class MoviePlan:
    """One TwoPhotonSeries / OnePhotonSeries: what --dry-run shows and the writer builds."""

    name: str
    series_type: str
    plane: str
    channel: str
    n_frames: int
    frame_shape: tuple[int, ...]  # (x, y[, z])
    dtype: str
    rate_hz: float | None  # None: timestamps
    t_start_s: float
    raw_bytes: int
    movie: Movie

    @property
    def data_path(self) -> str:
        return f"/acquisition/{self.name}/data"

    def to_json(self) -> dict[str, Any]:
        doc = {k: getattr(self, k) for k in ("name", "series_type", "plane", "channel", "n_frames", "dtype")}
        timing = {"rate_hz": self.rate_hz} if self.rate_hz is not None else {"timing": "timestamps"}
        return doc | {"frame_shape": list(self.frame_shape), "raw_bytes": self.raw_bytes} | timing


@dataclass(frozen=True)
class ImagingPlan:
    planes: tuple[PlaneMetadata, ...] = ()
    movies: tuple[MoviePlan, ...] = ()
    segmentations: tuple[Segmentation, ...] = ()

    @property
    def raw_bytes(self) -> int:
        return sum(m.raw_bytes for m in self.movies)

    @property
    def table_bytes(self) -> int:
        """What the segmentations add to the file, uncompressed: traces, masks and images."""
        total = 0
        for seg in self.segmentations:
            total += sum(t.data.nbytes for t in seg.traces) + sum(m.nbytes for m in seg.pixel_masks)
            total += (seg.image_masks.nbytes if seg.image_masks is not None else 0) + sum(
                i.nbytes for i in seg.images.values()
            )
        return total

    def plane(self, name: str) -> PlaneMetadata:
        return next(p for p in self.planes if p.name == name)

    def to_json(self) -> dict[str, Any]:
        return {
            "planes": [_plane_json(p) for p in self.planes],
            "movies": [m.to_json() for m in self.movies],
            "segmentations": [
                {"name": s.name, "plane": s.plane, "tool": s.tool, "rois": s.n_rois, "frames": s.n_frames}
                for s in self.segmentations
            ],
        }


def _plane_json(p: PlaneMetadata) -> dict[str, Any]:
    return {
        "name": p.name,
        "indicator": p.indicator,
        "location": p.location,
        "excitation_lambda_nm": None if math.isnan(p.excitation_lambda_nm) else p.excitation_lambda_nm,
        "channels": [c.name for c in p.channels],
        "rate_hz": p.rate_hz,
        "microscopy": p.microscopy.value,
    }


def plan_imaging(imaging: Imaging, metadata: NwbMetadata) -> ImagingPlan:
    """The planes with their metadata and the series to write; every missing value is reported at once."""
    if not imaging:
        return ImagingPlan()
    _check_plane_names(imaging, metadata)
    problems: list[str] = []
    key = "ophys" if len(imaging.planes) == 1 else None
    planes = tuple(_plane(p, metadata, problems, key or f"imaging_planes.{p.name}") for p in imaging.planes)
    movies = tuple(_movie(m, planes, problems) for m in imaging.movies)
    for seg in imaging.segmentations:
        plane = next(p for p in planes if p.name == seg.plane)
        if seg.traces and seg.times.timestamps_s is None and plane.rate_for(seg.times) is None:
            problems.append(f"the traces of {seg.name} have no frame rate in their files (ophys.rate, in Hz)")
    if problems:
        raise MetadataError(
            "The imaging metadata is incomplete, and nothing was written: "
            + "; ".join(problems)
            + ". Set each in a -m metadata file or with --set KEY=VALUE (`ophys.KEY` for every plane, "
            "`imaging_planes.PLANE.KEY` for one; the value unknown is accepted where it is truly not known)."
        )
    return ImagingPlan(planes, movies, imaging.segmentations)


def _check_plane_names(imaging: Imaging, metadata: NwbMetadata) -> None:
    names = [p.name for p in imaging.planes]
    unknown = sorted(set(metadata.imaging_planes) - set(names))
    if unknown:
        raise MetadataError(
            f"imaging_planes.{unknown[0]}: the source has no plane of that name; its planes are "
            f"{', '.join(names) or 'none'} (as --dry-run shows them)."
        )
    for plane in imaging.planes:
        layers = (metadata.ophys, metadata.imaging_planes.get(plane.name, ImagingPlaneLayer()))
        known = {c.name for c in plane.channels}
        extra = sorted({c for layer in layers for c in layer.channels} - known)
        if extra:
            raise MetadataError(
                f"channels.{extra[0]}: plane {plane.name} has no channel of that name; its channels are "
                f"{', '.join(sorted(known))}."
            )


def _layered(plane: ImagingPlane, metadata: NwbMetadata) -> ImagingPlaneLayer:
    """ophys < imaging_planes.<plane>, field by field (channels by channel)."""
    base, own = metadata.ophys, metadata.imaging_planes.get(plane.name, ImagingPlaneLayer())
    values = base.model_dump(exclude_none=True) | own.model_dump(exclude_none=True)
    channels: dict[str, dict[str, Any]] = {}
    for layer in (base, own):
        for name, channel in layer.channels.items():
            channels.setdefault(name, {}).update(channel.model_dump(exclude_none=True))
    values["channels"] = {name: OpticalChannelLayer(**v) for name, v in channels.items()}
    return ImagingPlaneLayer(**values)


def _plane(plane: ImagingPlane, metadata: NwbMetadata, problems: list[str], key: str) -> PlaneMetadata:
    """`key` is where the message tells the user to set what is missing."""
    given = _layered(plane, metadata)
    indicator = given.indicator or plane.indicator
    location = given.location or plane.location
    excitation = _wavelength(given.excitation_lambda, plane.excitation_lambda_nm)
    for what, value in (("indicator", indicator), ("location", location), ("excitation_lambda", excitation)):
        if value is None:
            problems.append(f"plane {plane.name} has no {what} ({key}.{what})")
    channels = tuple(_channel(c, given, plane, key, problems) for c in plane.channels)
    microscopy = Microscopy(given.microscopy) if given.microscopy else plane.microscopy
    spacing = tuple(given.grid_spacing) if given.grid_spacing else plane.grid_spacing_um
    return PlaneMetadata(
        name=plane.name,
        indicator=indicator or "",
        location=location or "",
        excitation_lambda_nm=excitation if excitation is not None else math.nan,
        channels=channels,
        device=given.device or plane.device or "Microscope",
        description=given.description or plane.description or f"Imaging plane {plane.name}.",
        rate_hz=given.rate or plane.rate_hz,
        rate_given=given.rate,
        grid_spacing_um=spacing,
        origin_um=plane.origin_um,
        microscopy=microscopy,
    )


def _wavelength(given: float | str | None, header: float | None) -> float | None:
    """The wavelength set (nm; NaN where the user set `unknown`), else the header's, else None (missing)."""
    if given == UNKNOWN:
        return math.nan
    if given is not None:
        return float(given)
    return header


def _channel(
    channel: OpticalChannel, given: ImagingPlaneLayer, plane: ImagingPlane, key: str, problems: list[str]
) -> OpticalChannel:
    own = given.channels.get(channel.name, OpticalChannelLayer())
    emission = _wavelength(own.emission_lambda if own.emission_lambda is not None else given.emission_lambda, None)
    emission = emission if emission is not None else channel.emission_lambda_nm
    if emission is None:
        problems.append(
            f"channel {channel.name} of plane {plane.name} has no emission wavelength ({key}.emission_lambda, "
            f"or {key}.channels.{channel.name}.emission_lambda)"
        )
    description = own.description or channel.description or f"Channel {channel.name} of {plane.name}."
    return replace(channel, description=description, emission_lambda_nm=emission if emission is not None else 0.0)


def _movie(movie: Movie, planes: tuple[PlaneMetadata, ...], problems: list[str]) -> MoviePlan:
    plane = next(p for p in planes if p.name == movie.plane)
    times = movie.times
    rate = plane.rate_for(times)
    if times.timestamps_s is None and rate is None:
        problems.append(f"{movie.name} has no frame rate in its file (ophys.rate, in Hz)")
    series_type = plane.microscopy.series_type
    name = movie.name
    for kind in Microscopy:  # a --set ophys.microscopy override renames the series
        name = name.replace(kind.series_type, series_type, 1) if name.startswith(kind.series_type) else name
    return MoviePlan(
        name=name,
        series_type=series_type,
        plane=movie.plane,
        channel=movie.channel,
        n_frames=movie.n_frames,
        frame_shape=movie.frame_shape,
        dtype=str(movie.dtype),
        rate_hz=rate,
        t_start_s=times.t_start_s,
        raw_bytes=movie.nbytes,
        movie=movie,
    )
