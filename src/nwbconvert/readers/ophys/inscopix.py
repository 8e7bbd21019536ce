"""Inscopix .isxd movies (nVista, nVoke, IDPS / IDEAS output) through roiextractors' InscopixImagingExtractor (the
`isx` package). An .isxd file ends with a JSON footer whose `type` says what it holds: 0 a movie (this reader), 1 a
cell set (the `inscopix-cellset` reader), others behavior, GPIO or events; the probe reads only that footer."""

from __future__ import annotations

import datetime as dt
import json
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nwbconvert.imaging import ImagingPlane, Microscopy, Movie, OpticalChannel
from nwbconvert.model import Device, HeaderMetadata, Session
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
    stubbed,
    times_of,
)

ISXD_MOVIE = 0  # the footer's "type" of a movie (1: cell set, 2: behavior movie, 3: GPIO, 4: events, ...)
ISXD_CELL_SET = 1
_TAIL_BYTES = 256  # the footer's keys are sorted: "type" is its last, within the file's last few bytes
_MAX_FOOTER = 1 << 20  # a footer larger than this is not parsed whole by the probe
_TYPE_AT_END = re.compile(rb'"type"\s*:\s*(\d+)\s*\}\s*\x00*$')
_EPOCH_PLAUSIBLE = dt.datetime(1990, 1, 1, tzinfo=dt.timezone.utc)  # earlier starts are placeholders (IDPS parts)

# acquisition-info keys (nVista 3 / nVoke and the files derived from them) that describe the imaging
_ACQUISITION_KEYS = (
    "Microscope Serial Number",
    "Acquisition SW Version",
    "Exposure Time (ms)",
    "Microscope Focus",
    "Microscope Gain",
    "efocus",
    "Microscope EX LED Power (mw/mm^2)",
    "Microscope OG LED Power (mw/mm^2)",
)


def isxd_footer(path: Path, limit: int | None = None) -> dict[str, Any] | None:
    """The JSON footer of an .isxd file (the last 8 bytes give its size), or None if it has none; never raises."""
    try:
        with path.open("rb") as f:
            f.seek(0, 2)
            size = f.tell()
            if size < 16:
                return None
            f.seek(size - 8)
            (footer_size,) = struct.unpack("<Q", f.read(8))
            if footer_size <= 0 or footer_size + 8 > size or (limit is not None and footer_size > limit):
                return None
            f.seek(size - 8 - footer_size - 1)
            text = f.read(footer_size + 1)
        found = json.loads(text.strip(b"\x00").decode("utf-8", errors="replace"))
    except (OSError, ValueError, struct.error):
        return None
    return found if isinstance(found, dict) else None


def isxd_type(path: Path) -> int | None:
    """What an .isxd holds as its footer's `type` says (ISXD_MOVIE, ISXD_CELL_SET, ...), read from the file's last
    bytes; None for a file that is no .isxd. Never raises."""
    try:
        with path.open("rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - 8 - _TAIL_BYTES))
            tail = f.read()
    except OSError:
        return None
    found = _TYPE_AT_END.search(tail[:-8]) if len(tail) > 8 else None
    if found is not None:
        return int(found.group(1))
    footer = isxd_footer(path, limit=_MAX_FOOTER)
    kind = footer.get("type") if footer else None
    return kind if isinstance(kind, int) else None


@dataclass(frozen=True)
class IsxdSpacing:
    """The footer's spacingInfo: pixel size and top-left corner of the field of view, in µm (isx SpacingInfo)."""

    pixel_um: tuple[float, float] | None = None  # (x, y)
    top_left_um: tuple[float, float] | None = None


def _ratio(value: object) -> float | None:
    if isinstance(value, dict) and value.get("den"):
        return float(value.get("num", 0)) / float(value["den"])
    return None


def _pair(value: object) -> tuple[float, float] | None:
    if not isinstance(value, dict):
        return None
    x, y = _ratio(value.get("x")), _ratio(value.get("y"))
    return (x, y) if x is not None and y is not None else None


def isxd_spacing(footer: dict[str, Any] | None) -> IsxdSpacing:
    info = (footer or {}).get("spacingInfo")
    if not isinstance(info, dict):
        return IsxdSpacing()
    pixel = _pair(info.get("pixelSize"))
    return IsxdSpacing(pixel if pixel and min(pixel) > 0 else None, _pair(info.get("topLeft")))


def isxd_start(footer: dict[str, Any] | None) -> dt.datetime | None:
    """When the recording started (timingInfo.start, seconds since the Unix epoch with the rig's UTC offset); None
    when the file gives none or a placeholder near the epoch (a movie cut by IDPS starts at its offset)."""
    start = ((footer or {}).get("timingInfo") or {}).get("start") or {}
    seconds = _ratio(start.get("secsSinceEpoch")) if isinstance(start, dict) else None
    if seconds is None:
        return None
    offset = start.get("utcOffset", 0)
    zone = dt.timezone(dt.timedelta(seconds=int(offset))) if isinstance(offset, int | float) else dt.timezone.utc
    when = dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc)
    return when.astimezone(zone) if when >= _EPOCH_PLAUSIBLE else None


def _sex(value: object) -> str | None:
    text = str(value or "").strip().lower()
    return {"m": "M", "male": "M", "f": "F", "female": "F"}.get(text)


def _described(acquisition: dict[str, Any], dropped: list[Any]) -> str:
    parts = [f"{key}: {acquisition[key]}" for key in _ACQUISITION_KEYS if acquisition.get(key) not in (None, "")]
    if dropped:
        parts.append(f"dropped frames (indices, blank in the movie): {', '.join(str(d) for d in dropped)}")
    return "; ".join(parts)


class InscopixReader(ReaderBase):
    name = "inscopix"
    description = "Inscopix movie (.isxd)"
    suffixes = (".isxd",)
    requires = (ROIEXTRACTORS, ("isx", "ophys"))
    verified = "real"  # tests/test_ophys_onephoton.py reads the real .isxd movie of ../shared/realdata
    manufacturer = "Inscopix"
    note = "Python 3.12 or older, not on Apple-silicon macOS (the isx package)"

    def probe(self, path: Path) -> Match:
        if not path.is_file() or path.suffix.lower() != ".isxd":
            return Match.NO
        kind = isxd_type(path)
        if kind == ISXD_MOVIE:
            return Match.CONTENT
        return Match.NO if kind is not None else Match.SUFFIX

    def read(self, path: Path, options: ReadOptions) -> Session:
        from roiextractors import InscopixImagingExtractor

        footer = isxd_footer(path)
        with self.reading(path):
            extractor = InscopixImagingExtractor(file_path=path)
            rate = finite_rate(extractor.get_sampling_frequency())
            acquisition = extractor.movie.get_acquisition_info() or {}
            dropped = list(extractor.movie.timing.dropped or [])
            extractor = stubbed(extractor, rate, options.stub_seconds)
            frames = ExtractorFrames(extractor)
            times = times_of(extractor, rate)
        spacing = isxd_spacing(footer)
        microscope = str(acquisition.get("Microscope Type") or "Inscopix microscope")
        (channel,) = channel_names(None, 1)
        plane = ImagingPlane(
            name=plane_name(0),
            channels=(OpticalChannel(channel),),
            rate_hz=rate,
            device=microscope,
            description=_described(acquisition, dropped),
            grid_spacing_um=spacing.pixel_um,
            origin_um=spacing.top_left_um,
            microscopy=Microscopy.ONE_PHOTON,
        )
        movie = Movie(movie_name(plane, channel), plane.name, channel, frames, times, f"Inscopix movie {path.name}")
        serial = acquisition.get("Microscope Serial Number")
        device = Device(microscope, f"serial number {serial}" if serial else "", self.manufacturer)
        header = HeaderMetadata(
            session_start_time=isxd_start(footer),
            subject_id=str(acquisition["Animal ID"]) if acquisition.get("Animal ID") else None,
            sex=_sex(acquisition.get("Animal Sex")),
        )
        return OpticalSource(
            self.name, roiextractors_version(), path, (plane,), (movie,), device=device, header=header
        ).session()
