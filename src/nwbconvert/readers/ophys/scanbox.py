"""Neurolabware Scanbox recordings (.sbx samples + the .mat holding their `info` struct) through roiextractors'
SbxImagingExtractor. The user points at the .sbx, the .mat or the folder holding one such pair. The frame rate is the
one roiextractors computes from the info (resfreq / config.lines × (2 − scanmode) × fov_repeats) without its
rounding down to a whole number; a volume scan (optotune `otwave`) gives one plane per optotune position, each at
the volume rate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from nwbconvert.errors import SourceError
from nwbconvert.imaging import FrameTimes, ImagingPlane, Movie, OpticalChannel
from nwbconvert.model import Device, Session
from nwbconvert.readers.base import Match, ReaderBase, ReadOptions
from nwbconvert.readers.ophys.base import (
    ROIEXTRACTORS,
    ExtractorFrames,
    OpticalSource,
    finite_rate,
    movie_name,
    plane_name,
    roiextractors_version,
    stub_count,
)

_CHANNELS = {2: "PMT0", 3: "PMT1"}  # info.channels: 1 both PMTs, 2 PMT0 only, 3 PMT1 only


def _has_info(mat: Path) -> bool:
    """The .mat declares a variable `info` (read from its variable directory, not loaded); never raises."""
    from scipy.io import whosmat

    try:
        return any(name == "info" for name, _, _ in whosmat(str(mat)))
    except Exception:
        return False


def scanbox_pair(path: Path) -> Path | None:
    """The .sbx of the recording `path` names (the .sbx, its .mat, or a folder holding exactly one pair)."""
    if path.is_dir():
        try:
            found = [p for p in sorted(path.glob("*.sbx")) if p.with_suffix(".mat").is_file()]
        except OSError:
            return None
        return found[0] if len(found) == 1 and _has_info(found[0].with_suffix(".mat")) else None
    if path.suffix.lower() not in (".sbx", ".mat") or not path.is_file():
        return None
    sbx, mat = path.with_suffix(".sbx"), path.with_suffix(".mat")
    return sbx if sbx.is_file() and mat.is_file() and _has_info(mat) else None


class SbxPlaneFrames(ExtractorFrames):
    """One optotune plane of a volume scan: roiextractors' memory map of the .sbx at that plane (it gives plane 0)."""

    def __init__(self, extractor: Any, plane: int, n_frames: int) -> None:
        super().__init__(extractor)
        self._plane = plane
        self._shape = (n_frames, *self._shape[1:])

    def read(self, start: int, stop: int) -> np.ndarray:
        raw = self._extractor._data[0, :, :, self._plane, start:stop]  # (cols, rows, frames), stored inverted
        return (np.iinfo(np.uint16).max - np.asarray(raw)).transpose(2, 0, 1)  # (frames, x = cols, y = rows)


def frame_rate(info: dict[str, Any]) -> float | None:
    """Frames per second from the info struct (roiextractors' formula, not rounded down)."""
    try:
        lines = float(info["config"]["lines"])
        rate = float(info["resfreq"]) / lines * (2 - int(info["scanmode"])) * int(info.get("fov_repeats", 1))
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None
    return finite_rate(rate)


def _description(info: dict[str, Any], plane: int) -> str:
    config = info.get("config")
    settings: dict[str, Any] = config if isinstance(config, dict) else {}
    parts = [f"scanmode {'unidirectional' if int(info.get('scanmode', 1)) == 1 else 'bidirectional'}"]
    parts += [f"{key} {settings[key]}" for key in ("magnification", "pmt0_gain", "pmt1_gain") if key in settings]
    if info.get("objective"):
        parts.append(f"objective {info['objective']}")
    positions = [float(v) for v in np.atleast_1d(info.get("otwave", []))]
    if int(info.get("nplanes", 1)) > 1 and plane < len(positions):
        parts.append(f"optotune position {positions[plane]:g} of {', '.join(f'{v:g}' for v in positions)}")
    return "Scanbox: " + ", ".join(parts)


def _wavelength(info: dict[str, Any]) -> float | None:
    config = info.get("config")
    return finite_rate(config.get("wavelength")) if isinstance(config, dict) else None


class ScanboxReader(ReaderBase):
    name = "scanbox"
    description = "Neurolabware Scanbox recording (.sbx + .mat, one PMT)"
    suffixes = (".sbx", ".mat")
    requires = (ROIEXTRACTORS,)
    verified = "generated"  # tests/test_ophys_onephoton.py reads files nwbconvert.synthetic writes
    input_kind = "file or folder"
    manufacturer = "Neurolabware"

    def probe(self, path: Path) -> Match:
        if scanbox_pair(path) is not None:
            return Match.CONTENT
        return Match.SUFFIX if path.is_file() and path.suffix.lower() == ".sbx" else Match.NO

    def read(self, path: Path, options: ReadOptions) -> Session:
        from roiextractors import SbxImagingExtractor

        sbx = scanbox_pair(path) or path
        with self.reading(sbx):
            extractor = SbxImagingExtractor(file_path=sbx)
            info: dict[str, Any] = extractor._info
        channel = _CHANNELS.get(int(info.get("channels", 0)))
        if channel is None:
            raise SourceError(f"{sbx}: both PMTs were recorded (info.channels 1); roiextractors reads one at a time.")
        n_planes = int(info.get("nplanes", 1))
        rate = frame_rate(info)
        plane_rate = rate / n_planes if rate is not None else None
        n = int(extractor.get_num_samples())
        n = stub_count(n, FrameTimes(rate_hz=plane_rate), options.stub_seconds)
        planes, movies = [], []
        for k in range(n_planes):
            plane = ImagingPlane(
                name=plane_name(k),
                channels=(OpticalChannel(channel, f"Scanbox {channel}"),),
                rate_hz=plane_rate,
                device="Scanbox",
                description=_description(info, k),
                excitation_lambda_nm=_wavelength(info),
            )
            frames = SbxPlaneFrames(extractor, k, n) if n_planes > 1 else ExtractorFrames(extractor.slice_samples(0, n))
            t_start = k / rate if rate is not None and n_planes > 1 else 0.0
            times = FrameTimes(t_start_s=t_start, rate_hz=plane_rate)
            planes.append(plane)
            movies.append(Movie(movie_name(plane, channel), plane.name, channel, frames, times, f"Scanbox {sbx.name}"))
        device = Device("Scanbox", "Scanbox two-photon microscope", self.manufacturer)
        files = (sbx, sbx.with_suffix(".mat"))
        return OpticalSource(
            self.name, roiextractors_version(), sbx, tuple(planes), tuple(movies), files=files, device=device
        ).session()
