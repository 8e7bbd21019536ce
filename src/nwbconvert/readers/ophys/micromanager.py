"""Micro-Manager multipage OME-TIFF acquisitions (`<name>_MMStack_Pos0.ome.tif` + `DisplaySettings.json` in one
folder), through roiextractors' MicroManagerTiffImagingExtractor: one one-photon (camera) movie.

Told apart from other TIFFs by Micro-Manager's own header right after the TIFF header (the index-map pointer,
54773648, at byte 8), which neither a plain, a ScanImage nor a Bruker/Thor OME-TIFF has. The summary metadata
gives the channel (`ChNames`), the pixel size (`PixelSize_um`), the start (`StartTime`) and the frame interval
(`Interval_ms`). The rate is 1000 / `Interval_ms`; roiextractors' rate is DisplaySettings.json's `PlaybackFPS`,
the speed Micro-Manager's viewer plays the movie at (10 unless changed), not the acquisition's, so it is not used:
with no interval ("as fast as possible"), the rate is left for `ophys.rate` and a note says so."""

from __future__ import annotations

import datetime as dt
import re
import struct
from pathlib import Path
from typing import Any

from nwbconvert.errors import SourceError
from nwbconvert.imaging import ImagingPlane, Microscopy, Movie, OpticalChannel
from nwbconvert.model import Device, HeaderMetadata, Session, SourceNote
from nwbconvert.readers.base import Match, ReaderBase, ReadOptions, head
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
    times_of,
)

INDEX_MAP_HEADER = 54773648  # Micro-Manager's multipage-TIFF header, at byte 8
SETTINGS = "DisplaySettings.json"
DEVICE = "MicroManagerMicroscope"
MAX_FILES = 256  # top-level files looked at in a folder


def is_mmstack(path: Path) -> bool:
    """True for a TIFF that starts with Micro-Manager's multipage header (16 bytes read)."""
    data = head(path, 16)
    if len(data) < 16 or data[:2] not in (b"II", b"MM"):
        return False
    order = "<" if data[:2] == b"II" else ">"
    return struct.unpack(order + "I", data[8:12])[0] == INDEX_MAP_HEADER


def mm_folder(path: Path) -> Path | None:
    """The acquisition folder `path` names (the folder or one of its MMStack OME-TIFFs), if it is one."""
    if path.is_file():
        return path.parent if path.name.lower().endswith((".ome.tif", ".ome.tiff")) and is_mmstack(path) else None
    try:
        tiffs = sorted(path.glob("*.ome.tif"))[:MAX_FILES]
    except OSError:
        return None
    return path if any(is_mmstack(p) for p in tiffs) else None


def _start(text: object) -> dt.datetime | None:
    for fmt in ("%Y-%m-%d %H:%M:%S.%f %z", "%Y-%m-%d %H:%M:%S %z", "%Y-%m-%dT%H:%M:%S.%f%z"):
        try:
            return dt.datetime.strptime(str(text), fmt)
        except ValueError:
            continue
    return None


def _plane(summary: dict[str, Any], name: str, rate: float | None) -> ImagingPlane:
    size = finite_rate(summary.get("PixelSize_um"))
    camera = summary.get("Core-Camera") or "camera"
    return ImagingPlane(
        name=plane_name(0),
        channels=(OpticalChannel(name, f"Micro-Manager channel {name} ({camera})"),),
        rate_hz=rate,
        device=DEVICE,
        description=f"Camera image of a Micro-Manager acquisition ({summary.get('Prefix', '')})",
        grid_spacing_um=(size, size) if size is not None else None,
        microscopy=Microscopy.ONE_PHOTON,
    )


def check_one_stream(folder: Path) -> None:
    """Refuse, in plain words, what roiextractors cannot read right: several channels (it raises) or several
    positions in one folder (it would read whichever file it lists first)."""
    import tifffile

    files = sorted(folder.glob("*.ome.tif"))
    if not files:
        raise SourceError(f"{folder}: holds no Micro-Manager OME-TIFF (<name>_MMStack_Pos0.ome.tif).")
    positions = sorted({m.group(1) for p in files if (m := re.search(r"_MMStack_(Pos\d+)", p.name))})
    if len(positions) > 1:
        raise SourceError(
            f"{folder}: holds the files of {len(positions)} stage positions ({', '.join(positions)}); roiextractors "
            "reads one position per folder: move each position's files into a folder of its own."
        )
    with files[0].open("rb") as f:
        summary = tifffile.read_micromanager_metadata(f, keys={"Summary"}).get("Summary") or {}
    if int(summary.get("Channels") or 1) > 1:
        names = ", ".join(map(str, summary.get("ChNames") or ()))
        raise SourceError(
            f"{folder}: a Micro-Manager acquisition of {summary['Channels']} channels ({names}); roiextractors "
            "0.10 reads Micro-Manager files of one channel only."
        )


class MicroManagerReader(ReaderBase):
    name = "micromanager"
    description = "Micro-Manager multipage OME-TIFF folder (*_MMStack_Pos0.ome.tif + DisplaySettings.json)"
    suffixes = (".ome.tif",)
    requires = (ROIEXTRACTORS,)
    verified = "generated"  # tests/test_ophys_microscopes.py, on synthetic/ophys_micromanager.py's folders
    input_kind = "folder"
    manufacturer = "Micro-Manager"
    note = "one channel and one position per folder (roiextractors reads no more)"

    def probe(self, path: Path) -> Match:
        """CONTENT for a folder holding a Micro-Manager OME-TIFF, or that file (its own header, 16 bytes)."""
        try:
            return Match.CONTENT if mm_folder(path) is not None else Match.NO
        except OSError:
            return Match.NO

    def read(self, path: Path, options: ReadOptions) -> Session:
        from roiextractors import MicroManagerTiffImagingExtractor

        folder = mm_folder(path) or (path if path.is_dir() else path.parent)
        with self.reading(path):
            if not (folder / SETTINGS).is_file():
                raise SourceError(
                    f"{folder}: {SETTINGS} is missing (Micro-Manager writes it beside the TIFFs, and roiextractors "
                    "needs it); copy it from the acquisition folder."
                )
            check_one_stream(folder)
            extractor = MicroManagerTiffImagingExtractor(folder)
            summary = dict(extractor.micromanager_metadata.get("Summary") or {})
            return self._session(folder, extractor, summary, options)

    def _session(self, folder: Path, extractor: Any, summary: dict[str, Any], options: ReadOptions) -> Session:
        interval = finite_rate(summary.get("Interval_ms"))
        rate = 1000.0 / interval if interval is not None else None
        notes: tuple[SourceNote, ...] = ()
        if rate is None:
            message = (
                f"{folder}: Micro-Manager recorded no frame interval (Interval_ms is 0: as fast as possible), so the "
                "frame rate is unknown: set ophys.rate (Hz)."
            )
            notes = (SourceNote("no-rate", str(folder), message),)
        (name,) = channel_names(summary.get("ChNames") or (), 1)
        plane = _plane(summary, name, rate)
        kept = stubbed(extractor, rate, options.stub_seconds)
        movie = Movie(movie_name(plane, name), plane.name, name, ExtractorFrames(kept), times_of(kept, rate))
        version = summary.get("MicroManagerVersion", "")
        return OpticalSource(
            reader=self.name,
            reader_version=roiextractors_version(),
            path=folder,
            planes=(plane,),
            movies=(movie,),
            files=(*sorted(folder.glob("*.ome.tif")), folder / SETTINGS),
            device=Device(DEVICE, f"Camera microscope run by Micro-Manager {version}".strip()),
            header=HeaderMetadata(session_start_time=_start(summary.get("StartTime"))),
            notes=notes,
        ).session()
