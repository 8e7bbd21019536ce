"""A movie's frames streamed into its dataset: chunks of whole frames, read frame block by frame block.

A chunk holds whole frames of one plane and channel, as many as fit `chunk_bytes` (10 MiB by default, DANDI's
guidance), at least one: a viewer reads one frame by reading one chunk (a 512 × 512 uint16 movie gets chunks of
20 frames; a frame larger than the target is one chunk by itself). The parallel filler of `writer/parallel.py`
treats a movie as rows of frames × pixels: a chunk of whole frames holds exactly those rows' bytes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from hdmf.data_utils import GenericDataChunkIterator

from nwbconvert.imaging import Movie
from nwbconvert.writer.chunking import CHUNK_BYTES, PIECE_BYTES, Layout
from nwbconvert.writer.samples import Progress


def movie_layout(movie: Movie, chunk_bytes: int = CHUNK_BYTES) -> Layout:
    """Chunks of whole frames (~`chunk_bytes`), as rows of all pixels; source reads of ~PIECE_BYTES of frames."""
    frame = max(1, movie.frame_bytes)
    frames = max(1, min(movie.n_frames, chunk_bytes // frame))
    pixels = max(1, int(np.prod(movie.frame_shape)))
    return Layout(chunk=(frames, pixels), piece_rows=max(1, PIECE_BYTES // frame))


def read_frames(movie: Movie, start: int, stop: int) -> np.ndarray:
    """Frames [start, stop), checked to be what the reader declared (and, for a TIFF, that tifffile did not read
    past a damaged page directory to give them)."""
    from nwbconvert.errors import SourceError
    from nwbconvert.readers.ophys.base import tiff_damage, tifffile_complaints
    from nwbconvert.writer.samples import read_failed

    try:
        with tifffile_complaints() as said:
            frames = movie.frames.read(start, stop)
    except Exception as exc:
        raise read_failed(movie.name, start, stop, exc) from exc
    damage = tiff_damage(said)
    if damage is not None:
        raise SourceError(
            f"Reading frames {start}-{stop} of {movie.name} from the source failed ({damage}). The movie may be "
            "truncated or damaged: check that every file of it was copied completely."
        )
    expected = (stop - start, *movie.frame_shape)
    if frames.shape != expected:
        raise read_failed(movie.name, start, stop, ValueError(f"frames of shape {frames.shape}, not {expected}"))
    return frames


@dataclass(frozen=True)
class MovieRows:
    """`writer.parallel.RowSource` over a movie: one row per frame, one column per pixel."""

    movie: Movie

    @property
    def n_rows(self) -> int:
        return self.movie.n_frames

    @property
    def n_cols(self) -> int:
        return int(np.prod(self.movie.frame_shape))

    @property
    def dtype(self) -> np.dtype:
        return self.movie.dtype

    @property
    def row_bytes(self) -> int:
        return self.movie.frame_bytes

    @property
    def concurrent(self) -> bool:
        """A movie whose frames say `concurrent_reads` (optional on LazyFrames) is read by every thread at once."""
        return bool(getattr(self.movie.frames, "concurrent_reads", False))

    def prefetch(self, start: int, stop: int) -> None:
        """Frames are read through their reader's library: nothing to ask of the disk ahead."""

    def pieces(self, start: int, stop: int, cols: slice, piece_rows: int) -> Iterator[tuple[int, np.ndarray]]:
        for lo in range(start, stop, piece_rows):
            hi = min(lo + piece_rows, stop)
            yield lo - start, read_frames(self.movie, lo, hi).reshape(hi - lo, -1)[:, cols]


class MovieIterator(GenericDataChunkIterator):
    """A movie's frames for hdmf: (frames, x, y[, z]), chunks of whole frames (`movie_layout`).

    A `deferred` iterator yields nothing: hdmf only creates the dataset, `writer.parallel` (or the Zarr fill)
    writes its chunks on every core afterwards.
    """

    def __init__(
        self, movie: Movie, progress: Progress | None = None, chunk_bytes: int = CHUNK_BYTES, deferred: bool = False
    ) -> None:
        self.movie, self.progress, self.deferred = movie, progress, deferred
        self.layout = movie_layout(movie, chunk_bytes)
        chunk = (self.layout.chunk[0], *movie.frame_shape)
        super().__init__(chunk_shape=chunk, buffer_shape=chunk)

    def __next__(self):  # type: ignore[no-untyped-def]
        if self.deferred:
            raise StopIteration
        return super().__next__()

    def _get_maxshape(self) -> tuple[int, ...]:
        return (self.movie.n_frames, *self.movie.frame_shape)

    def _get_dtype(self) -> np.dtype:
        return self.movie.dtype

    def _get_data(self, selection: tuple[slice, ...]) -> np.ndarray:
        frames = selection[0]
        data = read_frames(self.movie, frames.start or 0, frames.stop)[(slice(None), *selection[1:])]
        if self.progress is not None:
            self.progress(data.nbytes)
        return data
