"""UCLA Miniscope (V4, Miniscope-DAQ-QT-Software) recordings through roiextractors' MiniscopeImagingExtractor: a device
folder (metaData.json with the device's settings, numbered .avi files 0.avi, 1.avi, … and timeStamps.csv), or the
session folder above it (metaData.json listing its `miniscopes`: one imaging plane per device folder). Behavior
cameras' folders (same layout, a webcam `deviceType`) are not claimed."""

from __future__ import annotations

import datetime as dt
import json
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from nwbconvert.errors import SourceError
from nwbconvert.imaging import FrameTimes, ImagingPlane, Microscopy, Movie, OpticalChannel
from nwbconvert.model import Device, HeaderMetadata, Session, SourceNote
from nwbconvert.readers.base import Match, ReaderBase, ReadOptions
from nwbconvert.readers.ophys.base import (
    ROIEXTRACTORS,
    ExtractorFrames,
    OpticalSource,
    channel_names,
    finite_rate,
    movie_name,
    plane_name,
    roiextractors_version,
    stub_count,
    stubbed,
    times_of,
)

META = "metaData.json"
STAMPS = "timeStamps.csv"
_MAX_META_BYTES = 1 << 16
_SETTINGS = (("gain", "gain"), ("led0", "LED power (0-100)"), ("ewl", "EWL focus"), ("frameRate", "frame-rate setting"))


def _meta(folder: Path) -> dict[str, Any] | None:
    """A folder's metaData.json, or None (missing, too large for a settings file, or not a JSON object)."""
    path = folder / META
    try:
        if not path.is_file() or path.stat().st_size > _MAX_META_BYTES:
            return None
        found = json.loads(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def is_miniscope_device(folder: Path, meta: dict[str, Any] | None = None) -> bool:
    """A Miniscope's device folder: its metaData.json names a Miniscope device type (or, with none, has the
    Miniscope's LED and focus settings) and 0.avi is there."""
    meta = _meta(folder) if meta is None else meta
    if meta is None or not (folder / "0.avi").is_file():
        return False
    kind = str(meta.get("deviceType", ""))
    return kind.lower().startswith("miniscope") if kind else {"led0", "ewl"} <= meta.keys()


def device_folders(folder: Path) -> list[Path]:
    """The Miniscope device folders `folder` is (itself) or holds (a session folder's `miniscopes`)."""
    meta = _meta(folder)
    if meta is None:
        return []
    if is_miniscope_device(folder, meta):
        return [folder]
    names = meta.get("miniscopes")
    if not isinstance(names, list):
        return []
    found = [next((c for c in (folder / str(n), folder / str(n).replace(" ", "_")) if c.is_dir()), None) for n in names]
    return [f for f in found if f is not None and is_miniscope_device(f)]


@dataclass(frozen=True)
class MiniscopeDevice:
    """One device folder as read: its plane and movie, the Device, and the files read."""

    plane: ImagingPlane
    movie: Movie
    device: Device
    files: tuple[Path, ...]
    notes: tuple[SourceNote, ...] = ()


def _description(meta: dict[str, Any]) -> str:
    parts = [f"{label} {meta[key]}" for key, label in _SETTINGS if meta.get(key) not in (None, "")]
    return f"{meta.get('deviceType', 'Miniscope')}: " + ", ".join(parts) if parts else ""


def _nominal_rate(meta: dict[str, Any]) -> float | None:
    """The device's frame-rate setting ("30FPS"), used only when timeStamps.csv is missing."""
    return finite_rate(str(meta.get("frameRate", "")).upper().removesuffix("FPS").strip() or None)


def _start_time(session: Path) -> dt.datetime | None:
    """The recording start of the session folder's metaData.json (local time, no zone), as roiextractors reads it."""
    from roiextractors.extractors.miniscopeimagingextractor.miniscope_utils import get_recording_start_time

    if not (session / META).is_file():
        return None
    try:
        return get_recording_start_time(session / META)
    except (KeyError, ValueError, TypeError, OSError):
        return None


class MiniscopeReader(ReaderBase):
    name = "miniscope"
    description = "UCLA Miniscope V4 recording (folder with metaData.json, 0.avi, … and timeStamps.csv)"
    suffixes = ()
    requires = (ROIEXTRACTORS, ("cv2", "ophys"), ("natsort", "ophys"))
    verified = "generated"  # tests/test_ophys_onephoton.py reads a folder nwbconvert.synthetic writes
    input_kind = "folder"
    manufacturer = "UCLA Miniscope"

    def probe(self, path: Path) -> Match:
        return Match.CONTENT if path.is_dir() and device_folders(path) else Match.NO

    def read(self, path: Path, options: ReadOptions) -> Session:
        folders = device_folders(path)
        if not folders:
            raise SourceError(f"{path}: no Miniscope device folder (metaData.json and 0.avi) here.")
        session_folder = path if folders != [path] else path.parent
        devices = [self._device(folder, index, options) for index, folder in enumerate(folders)]
        meta = _meta(session_folder) or {}
        header = HeaderMetadata(
            session_start_time=_start_time(session_folder),
            subject_id=str(meta["animalName"]) if meta.get("animalName") else None,
        )
        files = [f for d in devices for f in d.files] + [p for p in (session_folder / META,) if p.is_file()]
        source = OpticalSource(
            self.name,
            roiextractors_version(),
            path,
            tuple(d.plane for d in devices),
            tuple(d.movie for d in devices),
            files=tuple(dict.fromkeys(files)),
            device=devices[0].device,
            header=header,
            notes=tuple(n for d in devices for n in d.notes),
        )
        return replace(source.session(), devices=tuple(d.device for d in devices))

    def _device(self, folder: Path, index: int, options: ReadOptions) -> MiniscopeDevice:
        from roiextractors import MiniscopeImagingExtractor

        meta = _meta(folder) or {}
        stamps = folder / STAMPS
        notes: tuple[SourceNote, ...] = ()
        with self.reading(folder):
            if stamps.is_file():
                extractor = MiniscopeImagingExtractor(folder_path=folder)
                rate = finite_rate(extractor.get_sampling_frequency())
                _check_stamps(folder, extractor)
                extractor = stubbed(extractor, rate, options.stub_seconds)
                times = times_of(extractor, rate)
            else:
                rate = _nominal_rate(meta)
                if rate is None:
                    raise SourceError(f"{folder}: {STAMPS} is missing and metaData.json gives no frameRate.")
                notes = (_no_stamps(folder, rate),)
                with warnings.catch_warnings():  # said once, as the note below
                    warnings.simplefilter("ignore", UserWarning)
                    extractor = MiniscopeImagingExtractor(folder_path=folder, sampling_frequency=rate)
                n = extractor.get_num_samples()
                times = FrameTimes(rate_hz=rate)
                keep = stub_count(n, times, options.stub_seconds)
                extractor = extractor if keep == n else extractor.slice_samples(0, keep)
            frames = ExtractorFrames(extractor)
        name = str(meta.get("deviceName") or folder.name)
        (channel,) = channel_names(None, 1)
        plane = ImagingPlane(
            name=plane_name(index),
            channels=(OpticalChannel(channel),),
            rate_hz=rate,
            device=name,
            description=_description(meta),
            microscopy=Microscopy.ONE_PHOTON,
        )
        movie = Movie(
            movie_name(plane, channel), plane.name, channel, frames, times, f"Miniscope {name} ({folder.name})"
        )
        device = Device(name, str(meta.get("deviceType", "")), self.manufacturer)
        avis = sorted(folder.glob("*.avi"), key=lambda p: (len(p.stem), p.stem))
        files = (*avis, *(p for p in (folder / META, stamps) if p.is_file()))
        return MiniscopeDevice(plane, movie, device, files, notes)


def _no_stamps(folder: Path, rate: float) -> SourceNote:
    message = (
        f"{folder}: {STAMPS} is missing: the frames are timed at the device's frame-rate setting ({rate:g} Hz), "
        "not at the times they were taken (dropped frames go unnoticed)."
    )
    return SourceNote("no-timestamps", str(folder), message)


def _check_stamps(folder: Path, extractor: Any) -> None:
    """timeStamps.csv has one row per frame of the .avi files: a different count is an error giving both."""
    from roiextractors.extractors.miniscopeimagingextractor.miniscopeimagingextractor import (
        read_timestamps_from_csv_file,
    )

    n = int(extractor.get_num_samples())
    rows = len(read_timestamps_from_csv_file(folder / STAMPS))
    if rows != n:
        raise SourceError(
            f"{folder}: {STAMPS} has {rows} rows but the .avi files hold {n} frames; the frames cannot be timed. "
            "Copy the recording again from where it was recorded."
        )
