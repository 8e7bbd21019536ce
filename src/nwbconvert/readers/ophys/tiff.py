"""Plain multi-page TIFF movies (one file, or a folder of numbered files), read page by page with tifffile.

A plain TIFF is one that no vendor claims: ScanImage, OME-TIFF (Bruker, Micro-Manager) and Micro-Manager TIFFs are
left to their own readers (`tiff_head`). Every page is a frame; an ImageJ hyperstack's channels and slices become
channels and planes, as do `--set source.channels=N source.planes=N` for pages that interleave them without saying
so. The file gives no frame rate (ImageJ's `finterval` aside): `ophys.rate` must.

Frames are read page by page (`TiffPages`): roiextractors' TiffImagingExtractor reads a whole file into memory when
it cannot memory-map it (compressed pages), so it is not used for frames.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from nwbconvert.errors import SourceError, UsageError
from nwbconvert.imaging import FrameTimes, ImagingPlane, Microscopy, Movie, OpticalChannel
from nwbconvert.model import Device, Session
from nwbconvert.readers.base import Match, ReaderBase, ReadOptions, head, shortfall
from nwbconvert.readers.ophys.base import (
    OPHYS_EXTRA,
    OpticalSource,
    channel_names,
    finite_rate,
    movie_name,
    stub_count,
    tifffile_complaints,
)
from nwbconvert.readers.ophys.tiff_whole import refuse_damaged, whole_pages

TIFF_SUFFIXES = (".tif", ".tiff")
SOURCE_OPTIONS = ("planes", "channels")  # --set source.planes=N / source.channels=N: pages interleaved CZT
TIFF_MAGICS = (b"II*\0", b"MM\0*", b"II+\0", b"MM\0+")
SCANIMAGE_2016_MAGIC = b"\x01\x03\x03\x07"  # ScanImage BigTIFF header block at offset 16 (little-endian 0x07030301)


def is_tiff(path: Path) -> bool:
    return path.is_file() and head(path, 4) in TIFF_MAGICS


@dataclass(frozen=True)
class TiffHead:
    """What the first page of a TIFF says, read once per file (`tiff_head`)."""

    kind: str  # "scanimage", "ome", "micromanager" or "plain"
    description: str
    software: str


@lru_cache(maxsize=32)
def _tiff_head(path: Path, mtime_ns: int) -> TiffHead | None:
    import tifffile

    if head(path, 20)[16:20] == SCANIMAGE_2016_MAGIC:
        return TiffHead("scanimage", "", "SI.")
    try:  # what tifffile logs of a damaged page directory is dropped: a probe neither raises nor says
        with tifffile_complaints(), tifffile.TiffFile(path, _multifile=False) as tif:
            page = tif.pages.first
            description, software, kind = page.description, page.software, "plain"  # ImageJ's too
            if page.is_scanimage:
                kind = "scanimage"
            elif page.is_ome or tif.is_ome:
                kind = "ome"
            elif page.is_micromanager or tif.is_micromanager or "MicroManager" in software:
                kind = "micromanager"
            return TiffHead(kind, description, software)
    except Exception:  # a damaged TIFF is no content match; reading it says what is wrong
        return None


def tiff_head(path: Path) -> TiffHead | None:
    """The first page's kind and texts, or None when `path` is no readable TIFF; never raises."""
    if not is_tiff(path):
        return None
    try:
        return _tiff_head(path, path.stat().st_mtime_ns)
    except OSError:
        return None


class TiffPages:
    """`imaging.LazyFrames` over chosen pages of TIFF files: frame i is page `page_index[i]` of file
    `files[file_index[i]]`. Only the pages asked for are decoded (compressed pages too); one file stays open between
    reads. `data_offset`: the pages of a one-file movie lie one after another from there (an ImageJ TIFF whose first
    IFD alone describes them all) and are read at their offsets."""

    def __init__(
        self,
        files: tuple[Path, ...],
        file_index: np.ndarray,
        page_index: np.ndarray,
        page_shape: tuple[int, int],
        dtype: np.dtype,
        data_offset: int | None = None,
    ) -> None:
        self.files = files
        self.file_index = np.asarray(file_index, dtype=np.int64)
        self.page_index = np.asarray(page_index, dtype=np.int64)
        self.page_shape = (int(page_shape[0]), int(page_shape[1]))
        self.data_offset = data_offset
        self._shape = (len(self.page_index), self.page_shape[1], self.page_shape[0])
        self._dtype = np.dtype(dtype)
        self._open: tuple[int, Any] | None = None
        self._lock = threading.RLock()  # the open file and its page directories; tifffile's reads take it too

    @property
    def shape(self) -> tuple[int, ...]:
        return self._shape

    @property
    def dtype(self) -> np.dtype:
        return self._dtype

    @property
    def concurrent_reads(self) -> bool:
        """One file: pages are found and read under the lock and decoded outside it, so threads decode at once."""
        return len(self.files) == 1

    def first(self, n: int) -> TiffPages:
        """The first `n` frames (a --stub)."""
        files, pages = self.file_index[:n], self.page_index[:n]
        return TiffPages(self.files, files, pages, self.page_shape, self._dtype, self.data_offset)

    def _file(self, index: int) -> Any:
        import tifffile

        if self._open is None or self._open[0] != index:
            self.close()
            self._open = (index, tifffile.TiffFile(self.files[index], _multifile=False))
        return self._open[1]

    def _page(self, frame: int) -> Any:
        """Frame `frame`'s values (read at their offset), or its tifffile page to decode."""
        tif = self._file(int(self.file_index[frame]))
        if self.data_offset is not None:
            stored = self._dtype.newbyteorder(tif.byteorder)
            offset = self.data_offset + int(self.page_index[frame]) * int(np.prod(self.page_shape)) * stored.itemsize
            tif.filehandle.seek(offset)
            values = tif.filehandle.read_array(stored, int(np.prod(self.page_shape)))
            return values.reshape(self.page_shape)
        page = tif.pages[int(self.page_index[frame])]
        if tuple(page.shape) != self.page_shape:
            raise SourceError(
                f"{self.files[int(self.file_index[frame])]}: page {int(self.page_index[frame])} is {page.shape}, "
                f"the first {self.page_shape}: the pages are not frames of one movie."
            )
        return page

    def read(self, start: int, stop: int) -> np.ndarray:
        stop = min(stop, self._shape[0])
        out = np.empty((max(0, stop - start), *self.page_shape), dtype=self._dtype)
        for i, frame in enumerate(range(start, stop)):
            with self._lock:
                found = self._page(frame)
                if not self.concurrent_reads and not isinstance(found, np.ndarray):
                    found = found.asarray()
            out[i] = found if isinstance(found, np.ndarray) else found.asarray(lock=self._lock)
        return np.swapaxes(out, 1, 2)

    def close(self) -> None:
        if self._open is not None:
            self._open[1].close()
            self._open = None

    def __del__(self) -> None:
        self.close()


@dataclass(frozen=True)
class TiffLayout:
    """How the pages of a TIFF movie map to time, planes and channels (ImageJ hyperstacks; else all time)."""

    n_pages: int
    page_shape: tuple[int, int]  # (height, width)
    dtype: np.dtype
    n_time: int
    n_planes: int = 1
    n_channels: int = 1
    rate_hz: float | None = None
    grid_spacing_um: tuple[float, float] | None = None
    data_offset: int | None = None  # an ImageJ TIFF whose first IFD describes every page: where they start
    declared_pages: int = 0  # pages the file links or declares (more than n_pages in a copy cut short)

    @property
    def kind(self) -> tuple[object, ...]:
        """What the files of one movie share."""
        return (self.page_shape, self.dtype, self.n_planes, self.n_channels)

    def pages_of(self, plane: int, channel: int) -> np.ndarray:
        """Page numbers of the frames of one plane and channel (ImageJ order: channel, slice, frame)."""
        t = np.arange(self.n_time)
        return (t * self.n_planes + plane) * self.n_channels + channel


def _interleaving(path: Path, options: ReadOptions) -> tuple[int, int] | None:
    """(planes, channels) from `source.planes` / `source.channels`, for a TIFF whose pages interleave them
    (channel fastest, then plane, then time) and whose header does not say; None when neither is set."""
    found = {key: options.reader_option(key) for key in SOURCE_OPTIONS}
    if all(v is None for v in found.values()):
        return None
    values = []
    for key in SOURCE_OPTIONS:
        raw = found[key] or "1"
        if not raw.isdigit() or int(raw) < 1:
            raise UsageError(f"{path}: source.{key}={raw} must be a whole number of at least 1.")
        values.append(int(raw))
    return values[0], values[1]


def _layout(tif: Any, interleaved: tuple[int, int] | None = None) -> TiffLayout:
    """Pages, frame shape and dtype of an open TIFF, and ImageJ's hyperstack axes, rate and pixel size (or the
    planes and channels `interleaved` gives)."""
    page = tif.pages.first
    if page.samplesperpixel != 1 or page.ndim != 2:
        raise SourceError(
            f"{tif.filehandle.path}: its pages are {page.shape} {page.photometric.name} images, not grayscale "
            "frames: a calcium-imaging movie has one value per pixel."
        )
    declared = len(tif.pages)
    ij = tif.imagej_metadata or {}
    offset = None
    if int(ij.get("images", 0) or 0) > declared:  # ImageJ > 4 GB: the other pages have no IFD of their own
        offset = tif.series[0].dataoffset
        if offset is None or page.compression != 1:
            raise SourceError(f"{tif.filehandle.path}: an ImageJ TIFF whose pages are neither IFDs nor contiguous.")
        declared = int(ij["images"])
    n_pages, declared = whole_pages(tif, declared, offset)
    channels = int(ij.get("channels", 1) or 1)
    planes = int(ij.get("slices", 1) or 1) if int(ij.get("frames", 1) or 1) > 1 else 1
    if interleaved is not None:
        planes, channels = interleaved
        if declared % (channels * planes):
            raise SourceError(
                f"{tif.filehandle.path}: {declared} pages are not whole cycles of {planes} plane(s) × {channels} "
                "channel(s) (source.planes, source.channels)."
            )
    elif declared % (channels * planes):
        channels, planes = 1, 1
    rate, spacing = _imagej_scale(ij, page)
    shape = (int(page.shape[0]), int(page.shape[1]))
    cycles = n_pages // (channels * planes)
    return TiffLayout(n_pages, shape, np.dtype(page.dtype), cycles, planes, channels, rate, spacing, offset, declared)


def _imagej_scale(ij: dict[str, Any], page: Any) -> tuple[float | None, tuple[float, float] | None]:
    """ImageJ's frame rate (1 / `finterval`) and pixel size (the resolution tags, when its unit is µm)."""
    rate = finite_rate(1.0 / float(ij["finterval"])) if float(ij.get("finterval", 0) or 0) > 0 else None
    spacing = None
    if ij and str(ij.get("unit", "")).lower() in {"micron", "um", "µm", "\\u00b5m"}:
        xres, yres = page.tags.get("XResolution"), page.tags.get("YResolution")
        if xres is not None and yres is not None and xres.value[0] and yres.value[0]:
            spacing = (xres.value[1] / xres.value[0], yres.value[1] / yres.value[0])
    return rate, spacing


def numbered_tiffs(folder: Path) -> list[Path]:
    """The TIFF files at the top of `folder` whose names differ only by a number, in numeric order (empty if the
    folder holds no such series of at least two files)."""
    try:
        files = [p for p in folder.iterdir() if p.suffix.lower() in TIFF_SUFFIXES and not p.name.startswith(".")]
    except OSError:
        return []
    pattern = re.compile(r"^(.*?)(\d+)(\D*)$")
    parsed = [(pattern.match(p.stem), p) for p in files]
    stems = {(m.group(1), m.group(3), p.suffix.lower()) for m, p in parsed if m}
    if len(files) < 2 or len(stems) != 1 or any(m is None for m, _ in parsed):
        return []
    return [p for m, p in sorted(parsed, key=lambda mp: int(mp[0].group(2)))]  # type: ignore[union-attr]


class TiffReader(ReaderBase):
    name = "tiff"
    description = "multi-page TIFF movie (one file, or a folder of numbered TIFF files)"
    suffixes = TIFF_SUFFIXES
    requires = (("tifffile", OPHYS_EXTRA),)
    verified = "real"  # tests/test_ophys_tiff.py reads the real BigTIFF movie of ../shared/realdata
    input_kind = "file or folder"
    source_options = SOURCE_OPTIONS
    note = "ophys.rate (a plain TIFF holds no frame rate)"
    unreadable_advice = "It may be truncated or damaged; check that the whole file was copied."

    def probe(self, path: Path) -> Match:
        """SUFFIX for a .tif/.tiff no vendor claims (ScanImage, OME, Micro-Manager: NO), or a folder of numbered
        plain TIFF files."""
        if path.is_dir():
            files = numbered_tiffs(path)
            found = tiff_head(files[0]) if files else None
            return Match.SUFFIX if found is not None and found.kind == "plain" else Match.NO
        if path.suffix.lower() not in TIFF_SUFFIXES or not path.is_file():
            return Match.NO
        found = tiff_head(path)
        return Match.SUFFIX if found is None or found.kind == "plain" else Match.NO

    def read(self, path: Path, options: ReadOptions) -> Session:
        files = tuple(numbered_tiffs(path)) if path.is_dir() else (path,)
        if not files:
            raise SourceError(f"{path}: holds no numbered TIFF files (movie_0001.tif, movie_0002.tif, ...).")
        interleaved = _interleaving(path, options)
        with self.reading(path):
            layouts = [_opened(file, interleaved) for file in files]
        return _session(self.name, path, files, layouts, options, _checked(path, files, layouts, options))


def _opened(file: Path, interleaved: tuple[int, int] | None) -> TiffLayout:
    """The layout of one file, refused when tifffile read past damage in a copy otherwise whole."""
    import tifffile

    with tifffile_complaints() as said, tifffile.TiffFile(file, _multifile=False) as tif:
        layout = _layout(tif, interleaved)
    if layout.n_pages >= layout.declared_pages:  # a copy cut short is a shortfall (`_checked`)
        refuse_damaged(file, said)
    return layout


def _checked(path: Path, files: tuple[Path, ...], layouts: list[TiffLayout], options: ReadOptions) -> tuple:
    """Files that are parts of one movie, or a plain-words error; a note (or error) for each copy cut short."""
    first = layouts[0]
    if len(files) > 1 and any(layout.data_offset is not None for layout in layouts):
        raise SourceError(f"{path}: ImageJ TIFFs of one IFD each cannot be read as parts of one movie.")
    for file, layout in zip(files, layouts):
        if layout.kind != first.kind:
            raise SourceError(
                f"{file}: its frames are {layout.page_shape} {layout.dtype}, those of {files[0].name} "
                f"{first.page_shape} {first.dtype}: the files are not parts of one movie."
            )
    why = {True: " (ImageJ's `images`)", False: " or more (its last page links past the end of the file)"}
    return tuple(
        shortfall(
            file,
            "its pages",
            f"{lay.declared_pages} pages{why[lay.data_offset is not None]}",
            f"{lay.n_pages} whole pages",
            options,
        )
        for file, lay in zip(files, layouts)
        if lay.n_pages < lay.declared_pages
    )


def _session(
    reader: str, path: Path, files: tuple[Path, ...], layouts: list[TiffLayout], options: ReadOptions, notes: tuple
) -> Session:
    """One plane per slice and one movie per slice × channel, the files' pages one after another."""
    from importlib.metadata import version

    first = layouts[0]
    names = channel_names(None, first.n_channels)
    planes: list[ImagingPlane] = []
    movies: list[Movie] = []
    times = FrameTimes(rate_hz=first.rate_hz)
    for p in range(first.n_planes):
        plane = ImagingPlane(
            name=f"Plane{p}",
            channels=tuple(OpticalChannel(n, "TIFF channel") for n in names),
            rate_hz=first.rate_hz,
            device="Microscope",
            description=f"Imaging plane {p} of {path.name}",
            grid_spacing_um=first.grid_spacing_um,
            microscopy=Microscopy.TWO_PHOTON,
        )
        planes.append(plane)
        for c, channel in enumerate(names):
            file_index = np.concatenate([np.full(lay.n_time, i) for i, lay in enumerate(layouts)])
            page_index = np.concatenate([lay.pages_of(p, c) for lay in layouts])
            frames = TiffPages(files, file_index, page_index, first.page_shape, first.dtype, first.data_offset)
            keep = stub_count(frames.shape[0], times, options.stub_seconds)
            frames = frames.first(keep) if keep < frames.shape[0] else frames
            movies.append(
                Movie(movie_name(plane, channel), plane.name, channel, frames, times, f"Frames of {path.name}")
            )
    return OpticalSource(
        reader=reader,
        reader_version=f"tifffile {version('tifffile')}",
        path=path,
        planes=tuple(planes),
        movies=tuple(movies),
        files=files,
        device=Device("Microscope", "The microscope that recorded the TIFF movie (the file does not name it)"),
        notes=notes,
    ).session()
