"""HDF5 movies: a root dataset `mov` with the frame rate in its `fr` attribute, as roiextractors'
Hdf5ImagingExtractor reads it ((channels, frames, height, width)) and as CaImAn's `movie.save` writes it
((frames, height, width)). Frames are read from the dataset block by block with h5py (every channel; the
extractor gives only the first)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nwbconvert.errors import SourceError
from nwbconvert.imaging import FrameTimes, ImagingPlane, Microscopy, Movie, OpticalChannel
from nwbconvert.model import Device, Session
from nwbconvert.readers.base import Match, ReaderBase, ReadOptions
from nwbconvert.readers.catalog_hdf5 import hdf5_root
from nwbconvert.readers.ophys.base import OPHYS_EXTRA, OpticalSource, channel_names, finite_rate, movie_name, stub_count

DATASET = "mov"  # roiextractors' default `mov_field`, CaImAn's `var_name_hdf5`
OTHER_FORMATS = ("estimates", "params")  # a CaImAn segmentation (cnm.save) is no movie


def _attr(value: Any) -> Any:
    value = value.decode(errors="replace") if isinstance(value, bytes) else value
    return value.item() if isinstance(value, np.ndarray) and value.size == 1 else value


@dataclass
class H5Frames:
    """`imaging.LazyFrames` over one channel of the `mov` dataset: frames [start, stop) are read, no more."""

    path: Path
    dataset: str
    channel: int | None  # None: a (frames, height, width) dataset
    n_frames: int
    frame_shape: tuple[int, int]  # (height, width)
    raw_dtype: np.dtype
    _file: Any = field(default=None, repr=False)

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.n_frames, self.frame_shape[1], self.frame_shape[0])

    @property
    def dtype(self) -> np.dtype:
        return self.raw_dtype

    def read(self, start: int, stop: int) -> np.ndarray:
        import h5py

        stop = min(stop, self.n_frames)
        if stop <= start:
            return np.empty((0, *self.shape[1:]), dtype=self.raw_dtype)
        if self._file is None:
            self._file = h5py.File(self.path, "r")
        data = self._file[self.dataset]
        block = data[start:stop] if self.channel is None else data[self.channel, start:stop]
        return np.swapaxes(block, 1, 2)


def movie_dataset(path: Path) -> tuple[tuple[int, ...], dict[str, Any]] | None:
    """The shape and attributes of the root `mov` dataset when `path` is an HDF5 movie (3-D or 4-D, and not
    a known other format); else None. Never raises."""
    import h5py

    keys, attrs = hdf5_root(path)
    if DATASET not in keys or any(k in keys for k in OTHER_FORMATS) or "nwb_version" in attrs:
        return None
    try:
        with h5py.File(path, "r") as f:
            data = f[DATASET]
            if not isinstance(data, h5py.Dataset) or data.ndim not in (3, 4) or data.dtype.kind not in "uif":
                return None
            return tuple(int(n) for n in data.shape), {k: _attr(v) for k, v in data.attrs.items()}
    except Exception:
        return None


class Hdf5MovieReader(ReaderBase):
    name = "hdf5-movie"
    description = "HDF5 movie (root dataset `mov`, rate in its `fr` attribute)"
    suffixes = (".h5", ".hdf5")
    requires = (("h5py", OPHYS_EXTRA),)
    verified = "generated"  # tests/test_ophys_tiff.py reads files nwbconvert.synthetic.ophys_hdf5 writes
    unreadable_advice = "It may be truncated or damaged; check that the whole file was copied."

    def probe(self, path: Path) -> Match:
        return Match.CONTENT if path.is_file() and movie_dataset(path) is not None else Match.NO

    def read(self, path: Path, options: ReadOptions) -> Session:
        import h5py

        found = movie_dataset(path)
        if found is None:
            raise SourceError(f"{path}: holds no 3-D or 4-D `{DATASET}` dataset of numbers at its root.")
        shape, attrs = found
        with self.reading(path), h5py.File(path, "r") as f:
            dtype = np.dtype(f[DATASET].dtype)
        n_channels, (n, height, width) = (1, shape) if len(shape) == 3 else (shape[0], shape[1:])
        rate = finite_rate(attrs.get("fr"))
        start = attrs.get("start_time")
        t_start = float(start) if isinstance(start, int | float) and np.isfinite(start) else 0.0
        times = FrameTimes(t_start_s=t_start, rate_hz=rate)
        n = stub_count(n, times, options.stub_seconds)
        names = channel_names(None, n_channels)
        plane = ImagingPlane(
            name="Plane0",
            channels=tuple(OpticalChannel(c, "HDF5 movie channel") for c in names),
            rate_hz=rate,
            device="Microscope",
            description=f"The imaging plane of {path.name}",
            microscopy=Microscopy.TWO_PHOTON,
        )
        movies = tuple(
            Movie(
                movie_name(plane, c),
                plane.name,
                c,
                H5Frames(path, DATASET, None if len(shape) == 3 else i, n, (height, width), dtype),
                times,
                f"Frames of `{DATASET}` in {path.name}",
            )
            for i, c in enumerate(names)
        )
        return OpticalSource(
            reader=self.name,
            reader_version=f"h5py {h5py.__version__} (the layout roiextractors' Hdf5ImagingExtractor reads)",
            path=path,
            planes=(plane,),
            movies=movies,
            device=Device("Microscope", "The microscope that recorded the movie (the file does not name it)"),
        ).session()
