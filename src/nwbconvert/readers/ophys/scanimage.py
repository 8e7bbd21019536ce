"""ScanImage TIFF movies: 2016+ (BigTIFF with the `SI.` header block) through roiextractors'
ScanImageImagingExtractor, legacy 3.x/4.x (`state.` / `scanimage.SI4.` page descriptions) through its
ScanImageLegacyImagingExtractor. Every plane × saved channel is one two-photon movie."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nwbconvert.errors import MissingDependency, SourceError
from nwbconvert.imaging import FrameTimes, ImagingPlane, Microscopy, Movie, OpticalChannel
from nwbconvert.model import Device, HeaderMetadata, Session, SourceNote
from nwbconvert.readers.base import Match, ReaderBase, ReadOptions, head, shortfall
from nwbconvert.readers.ophys.base import (
    OPHYS_EXTRA,
    ROIEXTRACTORS,
    ExtractorFrames,
    OpticalSource,
    channel_names,
    finite_rate,
    movie_name,
    roiextractors_version,
    stub_count,
    stubbed,
    tifffile_complaints,
    times_of,
)
from nwbconvert.readers.ophys.tiff import SCANIMAGE_2016_MAGIC, TIFF_SUFFIXES, tiff_head
from nwbconvert.readers.ophys.tiff_whole import refuse_damaged, whole_pages

MANUFACTURER = "Vidrio Technologies (ScanImage)"


def _flat(value: Any) -> list[Any]:
    """A MATLAB vector as tifffile parses it ([1 2], [1;2] -> [[1], [2]], 1) as a flat list."""
    if isinstance(value, list | tuple):
        return [v for item in value for v in _flat(item)]
    return [value]


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


@dataclass(frozen=True)
class Geometry:
    """Pixel size and the position of pixel (0, 0) in µm, where the header gives them."""

    spacing: tuple[float, float] | None = None
    origin_xy: tuple[float, float] | None = None


def modern_geometry(frame: dict[str, Any], rois: Any, height: int, width: int) -> Geometry:
    """From `SI.hRoiManager.imagingFovUm` (the field of view's corners, µm; ScanImage 2020+), else from the first
    scan field's size (degrees) times `SI.objectiveResolution` (µm per degree)."""
    corners = np.array([_number(v) for v in _flat(frame.get("SI.hRoiManager.imagingFovUm", []))], dtype=object)
    if len(corners) == 8 and all(v is not None for v in corners):
        xy = corners.astype(float).reshape(4, 2)
        size = xy.max(axis=0) - xy.min(axis=0)
        if np.all(size > 0):
            spacing = (float(size[0] / width), float(size[1] / height))
            return Geometry(spacing, (float(xy[:, 0].min()), float(xy[:, 1].min())))
    try:
        roi = rois["imagingRoiGroup"]["rois"]
        field = (roi[0] if isinstance(roi, list) else roi)["scanfields"]
        field = field[0] if isinstance(field, list) else field
        size_deg = [float(v) for v in field["sizeXY"]]
        um_per_deg = float(frame["SI.objectiveResolution"])
    except (KeyError, TypeError, ValueError, IndexError):
        return Geometry()
    if um_per_deg > 0 and all(s > 0 for s in size_deg):
        return Geometry((size_deg[0] * um_per_deg / width, size_deg[1] * um_per_deg / height))
    return Geometry()


def _epoch(description: str) -> dt.datetime | None:
    """`epoch = [2020 1 2 10 11 12.5]` of a 2016+ frame description: when the acquisition started (local)."""
    line = next((t for t in description.splitlines() if t.strip().startswith("epoch")), "")
    parts = line.split("=", 1)[-1].strip(" []").split()
    try:
        y, mo, d, h, mi = (int(float(v)) for v in parts[:5])
        seconds = float(parts[5])
        return dt.datetime(y, mo, d, h, mi) + dt.timedelta(seconds=seconds)
    except (ValueError, IndexError):
        return None


class ScanImageReader(ReaderBase):
    name = "scanimage"
    description = "ScanImage TIFF (2016+ and legacy 3.x/4.x headers)"
    suffixes = TIFF_SUFFIXES
    requires = (ROIEXTRACTORS, ("tifffile", OPHYS_EXTRA))  # legacy files also need ScanImageTiffReader (`_legacy`)
    verified = "real"  # tests/test_ophys_tiff.py: a real ScanImage 3.8 file; 2016+ on a generated file
    manufacturer = MANUFACTURER
    unreadable_advice = "It may be truncated or damaged; check that every file of the acquisition was copied."

    def probe(self, path: Path) -> Match:
        """CONTENT for a TIFF whose first page ScanImage wrote (its header block, Software or description)."""
        if not path.is_file():
            return Match.NO
        found = tiff_head(path)
        return Match.CONTENT if found is not None and found.kind == "scanimage" else Match.NO

    def read(self, path: Path, options: ReadOptions) -> Session:
        with self.reading(path):
            if head(path, 20)[16:20] == SCANIMAGE_2016_MAGIC:
                return _modern(self.name, path, options).session()
            found = tiff_head(path)
            if found is not None and found.software.startswith("SI."):
                raise SourceError(
                    f"{path}: a ScanImage 2016+ page without ScanImage's header block after the TIFF header (the "
                    "file was re-saved by another program?): convert the file ScanImage wrote."
                )
            return _legacy(self.name, path, found.description if found else "", options).session()


def _modern_planes(frame: dict[str, Any], geometry: Geometry, names: list[str], raw: list[str]) -> list[ImagingPlane]:
    volumetric = bool(frame.get("SI.hStackManager.enable")) and int(frame.get("SI.hStackManager.numSlices", 1)) > 1
    n_planes = int(frame["SI.hStackManager.numSlices"]) if volumetric else 1
    rate = finite_rate(frame.get("SI.hRoiManager.scanVolumeRate" if volumetric else "SI.hRoiManager.scanFrameRate"))
    zs = [_number(z) for z in _flat(frame.get("SI.hStackManager.zs", []))]
    version = f"{frame.get('SI.VERSION_MAJOR', '')}.{frame.get('SI.VERSION_MINOR', '')}".strip(".")
    planes = []
    for p in range(n_planes):
        z = zs[p] if len(zs) == n_planes and zs[p] is not None else None
        origin = None
        if geometry.origin_xy is not None:
            origin = (*geometry.origin_xy, z) if z is not None else geometry.origin_xy
        where = f" at z = {z} µm" if z is not None else ""
        planes.append(
            ImagingPlane(
                name=f"Plane{p}",
                channels=tuple(OpticalChannel(n, f"ScanImage channel {r}") for n, r in zip(names, raw)),
                rate_hz=rate,
                device="Microscope",
                description=f"Plane {p + 1} of {n_planes} scanned by ScanImage {version}{where}".strip(),
                grid_spacing_um=geometry.spacing,
                origin_um=origin,
                microscopy=Microscopy.TWO_PHOTON,
            )
        )
    return planes


def _modern(reader: str, path: Path, options: ReadOptions) -> OpticalSource:
    """ScanImage 2016+: one ScanImageImagingExtractor per plane and saved channel."""
    import tifffile
    from roiextractors import ScanImageImagingExtractor

    with tifffile_complaints() as said, tifffile.TiffFile(path) as tif:
        meta = tif.scanimage_metadata or {}
        height, width = tif.pages.first.shape[:2]
        start = _epoch(tif.pages.first.description)
        stamped = "frameTimestamps_sec" in tif.pages.first.description
        whole, declared = whole_pages(tif, len(tif.pages), None)
    if whole >= declared:  # a copy cut short is a shortfall (`_cut_short`)
        refuse_damaged(path, said)
    frame = meta.get("FrameData") or {}
    if not frame:
        raise SourceError(f"{path}: its ScanImage header block is empty or damaged (tifffile finds no FrameData).")
    raw_names = [str(n) for n in ScanImageImagingExtractor.get_available_channel_names(path)]
    names = channel_names(raw_names, len(raw_names))
    geometry = modern_geometry(frame, meta.get("RoiGroups"), height, width)
    planes = _modern_planes(frame, geometry, names, raw_names)
    volumetric = len(planes) > 1
    frames_per_slice = int(frame.get("SI.hStackManager.framesPerSlice", 1) or 1)
    movies, files = [], [path]
    for p, plane in enumerate(planes):
        for raw, name in zip(raw_names, names):
            extractor = ScanImageImagingExtractor(
                file_path=path,
                channel_name=raw if len(raw_names) > 1 else None,
                plane_index=p if volumetric else None,
                interleave_slice_samples=volumetric and frames_per_slice > 1,
            )
            files = [Path(f) for f in extractor.file_paths]
            frames, times = _kept(extractor, plane.rate_hz, stamped, options.stub_seconds)
            movies.append(
                Movie(
                    movie_name(plane, name), plane.name, name, frames, times, f"ScanImage channel {raw} of {path.name}"
                )
            )
    version = f"{frame.get('SI.VERSION_MAJOR', '')}.{frame.get('SI.VERSION_MINOR', '')}".strip(".")
    return OpticalSource(
        reader=reader,
        reader_version=roiextractors_version(),
        path=path,
        planes=tuple(planes),
        movies=tuple(movies),
        files=tuple(files),
        device=Device("Microscope", f"Two-photon microscope run by ScanImage {version}".strip(), MANUFACTURER),
        header=HeaderMetadata(session_start_time=start),
        notes=_cut_short(path, whole, declared, options),
    )


def _cut_short(path: Path, whole: int, declared: int, options: ReadOptions) -> tuple[SourceNote, ...]:
    if whole >= declared:
        return ()
    expected = f"{declared} pages or more (its last pages are cut short or link past the end of the file)"
    return (shortfall(path, "its pages", expected, f"{whole} whole pages", options),)


def _legacy_pages(path: Path, options: ReadOptions) -> tuple[int, tuple[SourceNote, ...]]:
    """The whole pages of a legacy file (ScanImageTiffReader reads a page whose data offsets a cut lost as zeros)
    and the note of a copy cut short; a copy otherwise whole that tifffile finds damaged is refused."""
    import tifffile

    # is_scanimage=False: every page directory is read (tifffile otherwise computes the pages of a legacy file from
    # the first two and the file size, one too few when the last page's data ends the file)
    with tifffile_complaints() as said, tifffile.TiffFile(path, _multifile=False, is_scanimage=False) as tif:
        whole, declared = whole_pages(tif, len(tif.pages), None)
    if whole >= declared:
        refuse_damaged(path, said)
    return whole, _cut_short(path, whole, declared, options)


def _kept(extractor: Any, rate: float | None, stamped: bool, stub_seconds: float | None) -> tuple[Any, FrameTimes]:
    """The frames a --stub keeps and their times: each page's `frameTimestamps_sec` where the pages have them,
    else the header's rate (roiextractors would warn once per frame and compute them)."""
    if stamped:
        extractor = stubbed(extractor, rate, stub_seconds)
        return ExtractorFrames(extractor), times_of(extractor, rate)
    times = FrameTimes(rate_hz=rate)
    n = int(extractor.get_num_samples())
    keep = stub_count(n, times, stub_seconds)
    return ExtractorFrames(extractor if keep == n else extractor.slice_samples(0, keep)), times


def legacy_header(description: str) -> dict[str, str]:
    """`key=value` lines of a ScanImage 3.x/4.x page description (lines end with CR or LF)."""
    out: dict[str, str] = {}
    for line in description.replace("\r", "\n").split("\n"):
        key, sep, value = line.partition("=")
        if sep:
            out[key.strip()] = value.strip().strip("'")
    return out


def _legacy_value(values: dict[str, str], *keys: str) -> str | None:
    """The first of `keys` the header has (4.x keys are looked up under any `scanimage.SIn.` prefix)."""
    for key in keys:
        if key in values:
            return values[key]
        found = next((v for k, v in values.items() if k.startswith("scanimage.SI") and k.endswith("." + key)), None)
        if found is not None:
            return found
    return None


def _legacy_channels(values: dict[str, str]) -> list[str]:
    """The saved channels' names (`Channel 2`), in the order their pages interleave."""
    if "state.acq.numberOfChannelsSave" in values:
        saved = [k for k in range(1, 5) if values.get(f"state.acq.savingChannel{k}") == "1"]
        n = int(float(values["state.acq.numberOfChannelsSave"]))
        return [f"Channel {k}" for k in saved] if len(saved) == n else [f"Channel{i}" for i in range(n)]
    found = _legacy_value(values, "channelsSave")
    numbers = [int(float(v)) for v in (found or "1").strip("[]").replace(";", " ").replace(",", " ").split()]
    return [f"Channel {k}" for k in numbers] or ["Channel 1"]


class InterleavedFrames:
    """`imaging.LazyFrames` of one channel whose pages alternate with the other channels' (every `step`-th
    frame from `offset` of `base`)."""

    def __init__(self, base: ExtractorFrames, offset: int, step: int, count: int) -> None:
        self._base, self._offset, self._step = base, offset, step
        self._shape = (count, *base.shape[1:])

    @property
    def shape(self) -> tuple[int, ...]:
        return self._shape

    @property
    def dtype(self) -> np.dtype:
        return self._base.dtype

    def read(self, start: int, stop: int) -> np.ndarray:
        stop = min(stop, self._shape[0])
        if stop <= start:
            return np.empty((0, *self._shape[1:]), dtype=self.dtype)
        first = start * self._step + self._offset
        block = self._base.read(first, (stop - 1) * self._step + self._offset + 1)
        return block[:: self._step]


def _legacy(reader: str, path: Path, description: str, options: ReadOptions) -> OpticalSource:
    """ScanImage 3.x/4.x: one plane; channels interleaved page by page."""
    from importlib.util import find_spec

    from roiextractors import ScanImageLegacyImagingExtractor

    if find_spec("ScanImageTiffReader") is None:  # roiextractors reads legacy files with it (not 2016+ ones)
        raise MissingDependency(f"Reading {path} as a legacy ScanImage TIFF", "scanimage-tiff-reader", OPHYS_EXTRA)

    values = legacy_header(description)
    slices = _number(_legacy_value(values, "state.acq.numberOfZSlices", "stackNumSlices")) or 1
    if slices > 1:
        raise SourceError(
            f"{path}: a ScanImage {values.get('state.software.version', '3.x/4.x')} z-stack of {int(slices)} slices; "
            "nwbconvert reads legacy ScanImage time series of one plane only."
        )
    rate = finite_rate(_legacy_value(values, "state.acq.frameRate", "scanFrameRate"))
    raw_names = _legacy_channels(values)
    names = channel_names(raw_names, len(raw_names))
    version = values.get("state.software.version") or next(
        (k.split(".")[1][2:] for k in values if k.startswith("scanimage.SI")), ""
    )
    plane = ImagingPlane(
        name="Plane0",
        channels=tuple(OpticalChannel(n, f"ScanImage channel {r}") for n, r in zip(names, raw_names)),
        rate_hz=rate,
        device="Microscope",
        description=f"The plane scanned by ScanImage {version}".strip(),
        microscopy=Microscopy.TWO_PHOTON,
    )
    whole, notes = _legacy_pages(path, options)
    extractor = ScanImageLegacyImagingExtractor(file_path=path, sampling_frequency=rate)
    if whole < int(extractor.get_num_samples()):
        extractor = extractor.slice_samples(0, whole)
    times = FrameTimes(rate_hz=rate)
    movies = []
    if len(names) == 1:
        extractor = stubbed(extractor, rate, options.stub_seconds)
        movies.append(Movie(movie_name(plane, names[0]), plane.name, names[0], ExtractorFrames(extractor), times))
    else:
        base = ExtractorFrames(extractor)
        count = stub_count(base.shape[0] // len(names), times, options.stub_seconds)
        for c, name in enumerate(names):
            frames = InterleavedFrames(base, c, len(names), count)
            movies.append(Movie(movie_name(plane, name), plane.name, name, frames, times))
    return OpticalSource(
        reader=reader,
        reader_version=roiextractors_version() + " (ScanImageLegacyImagingExtractor)",
        path=path,
        planes=(plane,),
        movies=tuple(movies),
        device=Device("Microscope", f"Two-photon microscope run by ScanImage {version}".strip(), MANUFACTURER),
        header=HeaderMetadata(session_start_time=_legacy_start(values)),
        notes=notes,
    )


def _legacy_start(values: dict[str, str]) -> dt.datetime | None:
    """`state.internal.triggerTimeString` ('7/30/2014 21:10:00.731', local time) of a 3.x header."""
    text = values.get("state.internal.triggerTimeString", "")
    for fmt in ("%m/%d/%Y %H:%M:%S.%f", "%m/%d/%Y %H:%M:%S"):
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None
