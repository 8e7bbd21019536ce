"""Femtonics MESc files (.mesc, HDF5) through roiextractors' FemtonicsImagingExtractor. A file holds sessions
`MSession_<i>`, each holding measurement units `MUnit_<j>` (one acquisition each: its own field of view, size and
frame rate) with one dataset `Channel_<k>` per detector. roiextractors reads one session, unit and channel at a
time; nwbconvert reads every unit of every session as its own imaging plane (Plane0, Plane1, … in file order, the
plane's description naming `MSession_i/MUnit_j`), each channel of a unit as one series of that plane, all on the
clock of the first unit's measurement date. `--set source.unit=MSession_0/MUnit_1` reads that unit alone."""

from __future__ import annotations

import datetime as dt
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nwbconvert.errors import SourceError
from nwbconvert.imaging import FrameTimes, ImagingPlane, Movie, OpticalChannel
from nwbconvert.model import Device, HeaderMetadata, Session, SourceNote
from nwbconvert.readers.base import Match, ReaderBase, ReadOptions
from nwbconvert.readers.catalog_hdf5 import hdf5_root
from nwbconvert.readers.ophys.base import (
    ROIEXTRACTORS,
    ExtractorFrames,
    OpticalSource,
    channel_names,
    finite_rate,
    movie_name,
    plane_name,
    roiextractors_version,
    stubbed,
)

_MICRONS = ("um", "µm", "μm", "micron", "microns", "micrometer", "micrometers")


def _number(name: str) -> int:
    found = re.search(r"(\d+)$", name)
    return int(found.group(1)) if found else -1


def _text(value: object) -> str:
    """A MESc text attribute (character codes, as roiextractors decodes them)."""
    try:
        return "".join(chr(int(x)) for x in value if int(x) != 0)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        return ""


@dataclass(frozen=True)
class MescUnit:
    """One measurement unit as its attributes describe it."""

    session: str
    unit: str
    channels: tuple[str, ...]  # as roiextractors names them (Channel_<k>_Name, else Channel_<k>)
    start: dt.datetime | None
    pixel_um: tuple[float, float] | None
    origin_um: tuple[float, float] | None
    comment: str
    setup: str
    rate_hz: float | None  # 1000 / the frame duration in ms (ZAxisConversionConversionLinearScale), as roiextractors
    is_movie: bool  # every channel a 3-D dataset, and a frame duration to time it

    @property
    def key(self) -> str:
        return f"{self.session}/{self.unit}"


def _axes(attrs: Any, kind: str) -> tuple[float, float] | None:
    """(x, y) of the X/Y axis conversions' `kind` (Scale: µm per pixel, Offset: µm of pixel 0) when in µm."""
    try:
        values = [float(attrs[f"{a}AxisConversionConversionLinear{kind}"]) for a in "XY"]
    except (KeyError, TypeError, ValueError):
        return None
    units = [_text(attrs.get(f"{a}AxisConversionUnitName", [])).strip().lower() for a in "XY"]
    return (values[0], values[1]) if all(u in _MICRONS for u in units) else None


def _unit(session: str, name: str, group: Any) -> MescUnit:
    attrs = group.attrs
    n = int(attrs.get("VecChannelsSize", 2))
    names = tuple(_text(attrs.get(f"Channel_{i}_Name", [])) or f"Channel_{i}" for i in range(n))
    datasets = [group.get(f"Channel_{i}") for i in range(n)]
    frame_ms = finite_rate(attrs.get("ZAxisConversionConversionLinearScale"))
    rate = 1000.0 / frame_ms if frame_ms is not None else None
    is_movie = n > 0 and rate is not None and all(d is not None and getattr(d, "ndim", 0) == 3 for d in datasets)
    posix = attrs.get("MeasurementDatePosix")
    start = None
    if posix is not None:
        seconds = float(posix) + float(attrs.get("MeasurementDateNanoSecs", 0)) / 1e9
        start = dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc)
    pixel = _axes(attrs, "Scale")
    return MescUnit(
        session,
        name,
        names,
        start,
        pixel if pixel and min(pixel) > 0 else None,
        _axes(attrs, "Offset"),
        _text(attrs.get("Comment", [])),
        _text(attrs.get("ExperimenterSetupID", [])),
        rate,
        is_movie,
    )


def mesc_units(path: Path) -> list[MescUnit]:
    """Every measurement unit of every session, in file order (MSession_0/MUnit_0, MSession_0/MUnit_1, …)."""
    import h5py

    with h5py.File(path, "r") as f:
        sessions = sorted((k for k in f if k.startswith("MSession_")), key=_number)
        return [
            _unit(s, u, f[s][u])
            for s in sessions
            for u in sorted((k for k in f[s] if k.startswith("MUnit_")), key=_number)
        ]


class FemtonicsReader(ReaderBase):
    name = "femtonics"
    description = "Femtonics MESc file (.mesc, HDF5)"
    suffixes = (".mesc",)
    requires = (ROIEXTRACTORS,)
    verified = "generated"  # tests/test_ophys_onephoton.py reads files nwbconvert.synthetic writes
    manufacturer = "Femtonics"
    source_options = ("unit",)

    def probe(self, path: Path) -> Match:
        keys, _ = hdf5_root(path)
        if any(k.startswith("MSession_") for k in keys):
            return Match.CONTENT
        return Match.SUFFIX if path.is_file() and path.suffix.lower() == ".mesc" else Match.NO

    def read(self, path: Path, options: ReadOptions) -> Session:
        with self.reading(path):
            units = mesc_units(path)
        chosen = options.reader_option("unit")
        if chosen is not None:
            units = [u for u in units if u.key == chosen]
            if not units:
                raise SourceError(
                    f"{path}: has no measurement unit {chosen} (source.unit names one as MSession_0/MUnit_0)."
                )
        notes = tuple(
            SourceNote("not-used", str(path), f"{path}: {u.key} is no movie (no frames of a known duration): left out.")
            for u in units
            if not u.is_movie
        )
        movies_units = [u for u in units if u.is_movie]
        if not movies_units:
            raise SourceError(
                f"{path}: holds no measurement unit with a movie (3-D channel data and a frame duration)."
            )
        starts = [u.start for u in movies_units]
        first = min(s for s in starts if s is not None) if all(s is not None for s in starts) else None
        planes: list[ImagingPlane] = []
        movies: list[Movie] = []
        for index, unit in enumerate(movies_units):
            plane, unit_movies = self._unit(path, unit, index, first, options)
            planes.append(plane)
            movies += unit_movies
        setup = next((u.setup for u in movies_units if u.setup), "")
        device = Device(
            "Femtonics", f"Femtonics two-photon microscope{f' (setup {setup})' if setup else ''}", self.manufacturer
        )
        return OpticalSource(
            self.name,
            roiextractors_version(),
            path,
            tuple(planes),
            tuple(movies),
            device=device,
            header=HeaderMetadata(session_start_time=first),
            notes=notes,
        ).session()

    def _unit(
        self, path: Path, unit: MescUnit, index: int, first: dt.datetime | None, options: ReadOptions
    ) -> tuple[ImagingPlane, list[Movie]]:
        from roiextractors import FemtonicsImagingExtractor

        names = channel_names(unit.channels, len(unit.channels))
        t_start = (unit.start - first).total_seconds() if unit.start is not None and first is not None else 0.0
        described = f"{unit.key}{f': {unit.comment}' if unit.comment else ''}"
        plane = ImagingPlane(
            name=plane_name(index),
            channels=tuple(OpticalChannel(n, f"Femtonics detector {s}") for n, s in zip(names, unit.channels)),
            rate_hz=unit.rate_hz,
            device="Femtonics",
            description=described,
            grid_spacing_um=unit.pixel_um,
            origin_um=unit.origin_um,
        )
        movies: list[Movie] = []
        for source_name, name in zip(unit.channels, names):
            with self.reading(path), warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # "no Z-axis unit: assuming ms", as roiextractors does
                extractor = FemtonicsImagingExtractor(path, unit.session, unit.unit, source_name)
                frames = ExtractorFrames(stubbed(extractor, unit.rate_hz, options.stub_seconds))
            times = FrameTimes(t_start_s=t_start, rate_hz=unit.rate_hz)
            movies.append(Movie(movie_name(plane, name), plane.name, name, frames, times, f"Femtonics {described}"))
        return plane, movies
