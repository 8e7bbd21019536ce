"""What every imaging reader shares: frames read through a roiextractors ImagingExtractor, stable names, and the
Session an optical source becomes (no recordings; `Session.imaging`)."""

from __future__ import annotations

import logging
import math
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nwbconvert.imaging import FrameTimes, Imaging, ImagingPlane, Movie, Segmentation
from nwbconvert.model import Device, HeaderMetadata, Session, SourceFile, SourceNote
from nwbconvert.provenance import describe_files

OPHYS_EXTRA = "ophys"  # the pip extra that pulls roiextractors and the vendor packages it uses
ROIEXTRACTORS = ("roiextractors", OPHYS_EXTRA)


class ExtractorFrames:
    """`imaging.LazyFrames` over a roiextractors ImagingExtractor: frames read only when asked, transposed from
    roiextractors' (frame, height, width[, depth]) to NWB's (frame, x, y[, z])."""

    def __init__(self, extractor: Any) -> None:
        self._extractor = extractor
        n = int(extractor.get_num_samples())
        height, width, *depth = (int(v) for v in extractor.get_sample_shape())
        self._shape = (n, width, height, *depth)
        self._dtype = np.dtype(extractor.get_dtype())

    @property
    def shape(self) -> tuple[int, ...]:
        return self._shape

    @property
    def dtype(self) -> np.dtype:
        return self._dtype

    def read(self, start: int, stop: int) -> np.ndarray:
        frames = np.asarray(self._extractor.get_series(start_sample=start, end_sample=stop))
        return np.swapaxes(frames, 1, 2).astype(self._dtype, copy=False)


def channel_names(names: Sequence[str] | None, n: int) -> list[str]:
    """Stable channel names: the header's names (CamelCase, as the series names use them), else Channel0, …"""
    from nwbconvert.units import camel

    found = [camel(str(name)) for name in names or ()]
    if len(found) == n and all(found) and len(set(found)) == n:
        return found
    return [f"Channel{i}" for i in range(n)]


def plane_name(index: int) -> str:
    return f"Plane{index}"


def movie_name(plane: ImagingPlane, channel: str) -> str:
    """`TwoPhotonSeriesPlane0Green`: the series type, the plane, and the channel."""
    return f"{plane.microscopy.series_type}{plane.name}{channel}"


def segmentation_name(plane: str) -> str:
    return f"PlaneSegmentation{plane}"


def finite_rate(value: object) -> float | None:
    """A frame rate the header gives, or None where it gives none (0, NaN, missing)."""
    try:
        rate = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return rate if math.isfinite(rate) and rate > 0 else None


def times_of(extractor: Any, rate_hz: float | None) -> FrameTimes:
    """A movie's frame times as its file gives them: its own time stamps when it has them, else its rate."""
    native = extractor.get_native_timestamps() if hasattr(extractor, "get_native_timestamps") else None
    if native is not None:
        stamps = np.asarray(native, dtype="float64")
        return FrameTimes(t_start_s=float(stamps[0]) if len(stamps) else 0.0, timestamps_s=stamps)
    return FrameTimes(rate_hz=rate_hz)


def stub_count(n: int, times: FrameTimes, stub_seconds: float | None) -> int:
    """How many of `n` frames a --stub of `stub_seconds` keeps (the one rule): those of the first `stub_seconds`,
    at least one, by the frames' own time stamps when they have them, else their rate; all when neither is known
    or no stub is asked."""
    if stub_seconds is None:
        return n
    if times.timestamps_s is not None and len(times.timestamps_s):
        keep = int(np.searchsorted(times.timestamps_s - times.timestamps_s[0], stub_seconds, side="left"))
    elif times.rate_hz is not None:
        keep = round(stub_seconds * times.rate_hz)
    else:
        keep = n
    return min(n, max(1, keep))


def stubbed(extractor: Any, rate_hz: float | None, stub_seconds: float | None) -> Any:
    """The extractor `--stub` keeps (`stub_count`, by the movie's own time stamps, else `rate_hz`)."""
    if stub_seconds is None:
        return extractor
    n = int(extractor.get_num_samples())
    keep = stub_count(n, times_of(extractor, rate_hz), stub_seconds)
    return extractor if keep == n else extractor.slice_samples(0, keep)


@dataclass(frozen=True)
class OpticalSource:
    """What an imaging reader found, before it becomes a Session."""

    reader: str
    reader_version: str
    path: Path
    planes: tuple[ImagingPlane, ...]
    movies: tuple[Movie, ...] = ()
    segmentations: tuple[Segmentation, ...] = ()
    files: tuple[Path, ...] = ()  # every file read (checksummed into the provenance)
    device: Device | None = None
    header: HeaderMetadata = field(default_factory=HeaderMetadata)
    notes: tuple[SourceNote, ...] = ()

    def session(self) -> Session:
        files: tuple[SourceFile, ...] = describe_files(p for p in (self.files or (self.path,)) if p.is_file())
        return Session(
            reader=self.reader,
            reader_version=self.reader_version,
            source=str(self.path),
            recordings=(),
            devices=(self.device,) if self.device is not None else (),
            header=self.header,
            source_files=files,
            notes=self.notes,
            imaging=Imaging(self.planes, self.movies, self.segmentations),
        )


class _TifffileLog(logging.Handler):
    """tifffile's log records, kept in the list of the thread that asked (`tifffile_complaints`); elsewhere
    printed as Python prints a record no handler takes (logging.lastResort)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.local = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        kept: list[logging.LogRecord] | None = getattr(self.local, "kept", None)
        if kept is not None:
            kept.append(record)
        elif not logging.getLogger().handlers and logging.lastResort is not None:
            logging.lastResort.handle(record)


_TIFFFILE_LOG = _TifffileLog()
_TIFF_DAMAGE = re.compile(  # tifffile's warnings (not errors) that say the bytes are damaged or cut short
    r"failed to read \d+ bytes|could not read all values|contains no pages|invalid offset to first page|"
    r"missing required tags|incompletely written"
)


@contextmanager
def tifffile_complaints() -> Iterator[list[logging.LogRecord]]:
    """What tifffile logs in this thread while inside, kept off stderr (its messages name its exceptions, and it
    reads on past a damaged page directory): the caller decides what it means (`tiff_damage`)."""
    logger = logging.getLogger("tifffile")
    if _TIFFFILE_LOG not in logger.handlers:
        logger.addHandler(_TIFFFILE_LOG)
    outer = getattr(_TIFFFILE_LOG.local, "kept", None)
    kept: list[logging.LogRecord] = []
    _TIFFFILE_LOG.local.kept = kept
    try:
        yield kept
    finally:
        _TIFFFILE_LOG.local.kept = outer
        if outer is not None:
            outer.extend(kept)


def tiff_damage(records: Sequence[logging.LogRecord]) -> str | None:
    """The damage tifffile read past, in plain words (a page directory or tag it could not read, a page list or a
    strip cut short), or None when it only noted something about the metadata."""
    said = [r.getMessage() for r in records if r.levelno >= logging.ERROR or _TIFF_DAMAGE.search(r.getMessage())]
    if not said:
        return None
    at = sorted({int(m) for text in said for m in re.findall(r"@(\d+)", text)})
    where = f", the first at byte {at[0]}" if at else ""
    return (
        f"its page directories (TIFF IFDs) are damaged or cut short: {len(said)} of their entries are unreadable{where}"
    )


@contextmanager
def tiff_checked(path: Path) -> Iterator[None]:
    """Inside, a TIFF that tifffile finds damaged (`tiff_damage`) is refused in plain words (exit 3); tifffile's
    other notes stay off stderr. tifffile complains about a copy cut short too (the page list runs past the end):
    a reader that counts those pages itself (tiff.whole_pages, then `shortfall`, which --allow-incomplete lets
    through) keeps `tifffile_complaints` and asks `tiff_damage` only when the copy is whole."""
    from nwbconvert.errors import SourceError

    with tifffile_complaints() as said:
        yield
    damage = tiff_damage(said)
    if damage is not None:
        raise SourceError(
            f"{path}: {damage}. The copy looks damaged or incompletely copied: copy the file again from where it "
            "was recorded."
        )


def roiextractors_version() -> str:
    from importlib.metadata import version

    return f"roiextractors {version('roiextractors')}"
