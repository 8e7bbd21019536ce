"""Bruker PrairieView T-series folders (`<folder>/<folder>.xml` + OME-TIFF pages), through roiextractors'
BrukerTiffImagingExtractor: one two-photon movie per plane × channel (`TwoPhotonSeriesPlane0Ch1`).

The header facts come from the XML's environment (`<PVScan><PVStateShard>`) and its first `<Sequence>`, read
here up to the end of that sequence (a long series' XML is large): channels from `<File channel channelName>`,
planes from the frames of a `TSeries ZSeries Element` volume, pixel size from `micronsPerPixel`, the laser from
`laserWavelength` (when one), the origin from `positionCurrent` (Z: the sum of the Z devices, focus motor plus
piezo, as each frame of a volume lists them). Frame times are the frames' `relativeTime`, as roiextractors reads
them (one per volume; plane p starts at its own frame's time): a rate and a start when they are regular, else one
time per frame (burst cycles). The plane rate is the one roiextractors measures from them (PrairieView's
`framePeriod` is nominal, often off the true rate), `framePeriod` only when that fails. Before any frame is read,
the whole XML is streamed once to find a page file it names that the copy lacks (`base.shortfall`).

A plane of a volume is read through roiextractors' `select_plane`, which reads every plane of the frames asked:
a movie of one of N planes costs N planes' reads."""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import numpy as np

from nwbconvert.errors import SourceError
from nwbconvert.imaging import FrameTimes, ImagingPlane, Microscopy, Movie, OpticalChannel
from nwbconvert.model import Device, HeaderMetadata, Session, SourceNote
from nwbconvert.readers.base import Match, ReaderBase, ReadOptions, head, shortfall
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

VOLUMETRIC = {"TSeries ZSeries Element", "ZSeries"}
DEVICE = "BrukerMicroscope"


@dataclass(frozen=True)
class BrukerHeader:
    """What the PrairieView XML says about the series (None: it does not say)."""

    version: str
    start: dt.datetime | None
    channels: tuple[str, ...]  # channelName, in channel-number order
    n_planes: int
    frame_period_s: float | None
    microns_per_pixel: tuple[float, float] | None  # (x, y)
    laser_nm: float | None
    xy_um: tuple[float, float] | None
    plane_z_um: tuple[float | None, ...]  # per plane
    plane_offsets_s: tuple[float, ...]  # when each plane of a volume is scanned, after the first


def is_pvscan(xml: Path) -> bool:
    """True when the file's root element (within its first KB) is PrairieView's `<PVScan>`."""
    text = head(xml, 2048).lstrip(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"<?xml"):
        text = text[text.find(b"?>") + 2 :].lstrip()
    return text.startswith(b"<PVScan")


def bruker_folder(path: Path) -> Path | None:
    """The series folder `path` names (the folder, its XML, or one of its OME-TIFFs) when it holds a PVScan XML."""
    folder = path if path.is_dir() else path.parent
    if path.is_file() and not (path.suffix.lower() == ".xml" or path.name.lower().endswith(".ome.tif")):
        return None
    named = folder / f"{folder.name}.xml"
    if named.is_file() and is_pvscan(named):
        return folder
    if path.is_file() and path.suffix.lower() == ".xml":
        return folder if is_pvscan(path) else None
    try:
        return folder if any(is_pvscan(p) for p in sorted(folder.glob("*.xml"))[:8]) else None
    except OSError:
        return None


def _finite(value: str) -> bool:
    try:
        return bool(np.isfinite(float(value)))
    except ValueError:
        return False


def _state(shard: ET.Element | None, key: str) -> ET.Element | None:
    return None if shard is None else shard.find(f"PVStateValue[@key='{key}']")


def _indexed(shard: ET.Element | None, key: str) -> dict[str, str]:
    state = _state(shard, key)
    return {} if state is None else {v.get("index", ""): v.get("value", "") for v in state.iter("IndexedValue")}


def _axis(shard: ET.Element | None, axis: str) -> float | None:
    """A `positionCurrent` axis: the sum of its devices' positions (Z: focus motor + piezo)."""
    state = _state(shard, "positionCurrent")
    sub = None if state is None else state.find(f"SubindexedValues[@index='{axis}']")
    values = [] if sub is None else [v.get("value", "") for v in sub.iter("SubindexedValue")]
    if not values or not all(_finite(v) for v in values):
        return None
    return float(sum(float(v) for v in values))


def _first_sequence(xml: Path) -> tuple[ET.Element, ET.Element]:
    """The root (with its environment) and the first `<Sequence>`, parsed no further."""
    root: ET.Element | None = None
    for event, elem in ET.iterparse(xml, events=("start", "end")):
        if root is None:
            root = elem
        if event == "end" and elem.tag == "Sequence":
            return root, elem
    raise ValueError(f"{xml.name} holds no <Sequence> element")


def _start(text: str | None) -> dt.datetime | None:
    for fmt in ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M:%S"):
        try:
            return dt.datetime.strptime(text or "", fmt)  # PrairieView writes local time, no zone
        except ValueError:
            continue
    return None


def read_header(xml: Path) -> BrukerHeader:
    root, sequence = _first_sequence(xml)
    shard = root.find("PVStateShard")
    files = {int(f.get("channel", "0")): f.get("channelName", "") for f in sequence.iter("File")}
    frames = sequence.findall("Frame")
    n_planes = len(frames) if sequence.get("type") in VOLUMETRIC else 1
    microns = _indexed(shard, "micronsPerPixel")
    mx, my = microns.get("XAxis", ""), microns.get("YAxis", "")
    lasers = {float(v) for v in _indexed(shard, "laserWavelength").values() if _finite(v) and float(v) > 0}
    period = _state(shard, "framePeriod")
    x, y = _axis(shard, "XAxis"), _axis(shard, "YAxis")
    plane_shards = [f.find("PVStateShard") for f in frames[:n_planes]] if n_planes > 1 else [None]
    z = tuple(_axis(s, "ZAxis") if s is not None else _axis(shard, "ZAxis") for s in plane_shards)
    times = [f.get("relativeTime", "") for f in frames[:n_planes]]
    offsets = tuple(float(t) - float(times[0]) for t in times) if all(_finite(t) for t in times) else (0.0,) * n_planes
    return BrukerHeader(
        version=root.get("version", ""),
        start=_start(root.get("date")),
        channels=tuple(files[k] for k in sorted(files)),
        n_planes=n_planes,
        frame_period_s=finite_rate(None if period is None else period.get("value")),
        microns_per_pixel=(float(mx), float(my)) if finite_rate(mx) and finite_rate(my) else None,
        laser_nm=lasers.pop() if len(lasers) == 1 else None,
        xy_um=(x, y) if x is not None and y is not None else None,
        plane_z_um=z,
        plane_offsets_s=offsets,
    )


def frame_times(extractor: Any, offset_s: float = 0.0) -> FrameTimes:
    """A rate from the first frame's time when the `relativeTime`s are regular, else one time per frame; a plane
    of a volume is scanned `offset_s` after the volume's first plane."""
    from roiextractors.extraction_tools import calculate_regular_series_rate

    stamps = np.asarray(extractor.get_native_timestamps(), dtype="float64")
    rate = calculate_regular_series_rate(stamps) if len(stamps) > 1 else None
    t0 = (float(stamps[0]) if len(stamps) else 0.0) + offset_s
    if rate is not None:
        return FrameTimes(t_start_s=t0, rate_hz=float(rate))
    return FrameTimes(t_start_s=t0, timestamps_s=stamps + offset_s)


def _plane(header: BrukerHeader, index: int, names: list[str], rate: float | None) -> ImagingPlane:
    z = header.plane_z_um[index] if index < len(header.plane_z_um) else None
    origin = (*header.xy_um, z) if header.xy_um is not None and z is not None else header.xy_um
    return ImagingPlane(
        name=plane_name(index),
        channels=tuple(OpticalChannel(n, f"PrairieView channel {raw}") for n, raw in zip(names, header.channels)),
        rate_hz=rate,
        device=DEVICE,
        description=f"Plane {index} of {header.n_planes} of a Bruker PrairieView T-series"
        + (f" at Z = {z:g} µm (positionCurrent)" if z is not None else ""),
        excitation_lambda_nm=header.laser_nm,
        grid_spacing_um=header.microns_per_pixel,
        origin_um=origin,
        microscopy=Microscopy.TWO_PHOTON,
    )


def present_time_points(xml: Path, folder: Path, n_planes: int) -> tuple[int, int, str | None]:
    """(time points the XML names, time points before the first whose page file is missing, that file's name):
    the whole XML is streamed, each file looked for once."""
    frames, complete, missing = 0, 0, None
    seen: dict[str, bool] = {}
    for _, elem in ET.iterparse(xml):
        if elem.tag != "Frame":
            continue
        for file in elem.iter("File") if missing is None else ():
            name = file.get("filename", "")
            if name not in seen:
                seen[name] = (folder / name).is_file()
            if not seen[name]:
                missing, complete = name, frames // n_planes
                break
        frames += 1
        elem.clear()
    total = frames // n_planes
    return total, total if missing is None else complete, missing


def check_pages(folder: Path, xml: Path, n_planes: int, options: ReadOptions) -> tuple[int | None, SourceNote | None]:
    """The time points to keep (None: all) and the note of an incomplete copy (see `base.shortfall`)."""
    if not any(folder.glob("*.ome.tif")) and any(folder.glob("*.tif")):
        raise SourceError(
            f"{folder}: holds plain .tif pages without OME-XML, as PrairieView 5.0 and earlier write them; "
            "roiextractors reads PrairieView 5.1 and later only."
        )
    total, complete, missing = present_time_points(xml, folder, n_planes)
    if missing is None:
        return None, None
    if complete == 0:
        raise SourceError(f"{folder}: {missing}, the first page {xml.name} names, is missing; nothing can be read.")
    what = f"the pages {xml.name} names ({missing} is missing)"
    note = shortfall(folder, what, f"{total} time points", f"{complete} before it", options)
    return complete, note


class BrukerReader(ReaderBase):
    name = "bruker"
    description = "Bruker PrairieView T-series folder (<folder>.xml + OME-TIFF pages)"
    suffixes = (".xml", ".ome.tif")
    requires = (ROIEXTRACTORS,)
    verified = "generated"  # tests/test_ophys_microscopes.py, on synthetic/ophys_bruker.py's folders
    input_kind = "folder"
    manufacturer = "Bruker"

    def probe(self, path: Path) -> Match:
        """CONTENT for a folder holding a PrairieView XML (root `<PVScan>`), or that XML or one of its pages."""
        try:
            return Match.CONTENT if bruker_folder(path) is not None else Match.NO
        except OSError:
            return Match.NO

    def read(self, path: Path, options: ReadOptions) -> Session:
        with self.reading(path):
            folder = bruker_folder(path) or path
            xml = folder / f"{folder.name}.xml"
            if not xml.is_file():
                found = ", ".join(p.name for p in folder.glob("*.xml") if is_pvscan(p))
                raise SourceError(
                    f"{folder}: roiextractors reads a PrairieView folder's XML only when it is named after the "
                    f"folder ({xml.name}); found {found or 'none'}. Rename the folder or the XML so that they match."
                )
            return self._read(folder, xml, read_header(xml), options)

    def _read(self, folder: Path, xml: Path, header: BrukerHeader, options: ReadOptions) -> Session:
        from roiextractors import BrukerTiffImagingExtractor

        if not header.channels:
            raise SourceError(f"{xml}: its first <Sequence> names no image file (<File>): there is no movie to read.")
        names = channel_names(header.channels, len(header.channels))
        keep, note = check_pages(folder, xml, header.n_planes, options)
        with warnings.catch_warnings():  # its "multi-channel volumetric data is not tested": the user cannot act on it
            warnings.filterwarnings("ignore", "Multi-channel volumetric Bruker data", UserWarning)
            volumes = [BrukerTiffImagingExtractor(folder, channel_name=raw) for raw in header.channels]
        n_planes = int(volumes[0].get_num_planes())
        rate = finite_rate(volumes[0].get_sampling_frequency())
        if rate is None and header.frame_period_s is not None:
            rate = 1.0 / (header.frame_period_s * n_planes)
        planes = [_plane(header, p, names, rate) for p in range(n_planes)]
        movies = []
        for p, plane in enumerate(planes):
            for volume, name in zip(volumes, names):
                single = volume.select_plane(p) if n_planes > 1 else volume
                kept = stubbed(single if keep is None else single.slice_samples(0, keep), rate, options.stub_seconds)
                movies.append(
                    Movie(
                        movie_name(plane, name),
                        plane.name,
                        name,
                        ExtractorFrames(kept),
                        frame_times(kept, header.plane_offsets_s[p]),
                    )
                )
        files = (xml, *sorted(folder.glob("*.ome.tif")))
        return OpticalSource(
            reader=self.name,
            reader_version=roiextractors_version(),
            path=folder,
            planes=tuple(planes),
            movies=tuple(movies),
            files=files,
            device=Device(DEVICE, f"Bruker two-photon microscope, PrairieView {header.version}".strip(), "Bruker"),
            header=HeaderMetadata(session_start_time=header.start),
            notes=() if note is None else (note,),
        ).session()
