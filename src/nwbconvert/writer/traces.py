"""hdmf data iterators that stream a `Recording` (all its segments) without holding it in memory."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
from hdmf.data_utils import GenericDataChunkIterator

from nwbconvert.errors import SourceError
from nwbconvert.model import Recording
from nwbconvert.writer.chunking import CHUNK_BYTES, Layout, layout, pieces

Progress = Callable[[int], None]  # called with the number of raw bytes just read from the source


def read_pieces(
    recording: Recording, start: int, stop: int, channels: slice | None = None, piece_rows: int | None = None
) -> Iterator[tuple[int, np.ndarray]]:
    """Raw samples [start, stop) of the recording's segments in time order, as (offset from `start`, samples)
    pieces of at most `piece_rows` samples (default: PIECE_BYTES of source rows), never across a segment."""
    if piece_rows is None:
        piece_rows = traces_layout(recording).piece_rows
    offsets = recording.sample_offsets
    for i, segment in enumerate(recording.segments):
        lo, hi = int(offsets[i]), int(offsets[i + 1])
        for a, b in pieces(max(start, lo), min(stop, hi), piece_rows):
            try:
                yield a - start, segment.traces.read(a - lo, b - lo, channels)
            except Exception as exc:
                raise SourceError(
                    f"Reading samples {a}-{b} of {recording.name} from the source failed "
                    f"({type(exc).__name__}: {exc}). The recording may be truncated or damaged."
                ) from exc


def read_rows(recording: Recording, start: int, stop: int, channels: slice | None = None) -> np.ndarray:
    """Raw samples [start, stop) of the recording's segments concatenated in time order, read in pieces."""
    n_channels = len(range(len(recording.channels))[channels]) if channels is not None else len(recording.channels)
    out = np.empty((max(0, stop - start), n_channels), dtype=recording.dtype)
    for offset, part in read_pieces(recording, start, stop, channels):
        out[offset : offset + len(part)] = part
    return out


def traces_layout(recording: Recording, chunk_bytes: int = CHUNK_BYTES) -> Layout:
    source_row = recording.row_bytes
    n_channels = len(recording.channels)
    return layout(recording.n_samples, n_channels, recording.dtype.itemsize, source_row, chunk_bytes)


class TracesIterator(GenericDataChunkIterator):
    """Raw samples of a recording, segments concatenated in time order, read buffer by buffer.

    A `deferred` iterator yields nothing: hdmf only creates the (full-size, chunked, filtered) dataset, and
    `writer.parallel` fills its chunks afterwards.
    """

    def __init__(
        self,
        recording: Recording,
        progress: Progress | None = None,
        chunk_bytes: int = CHUNK_BYTES,
        deferred: bool = False,
    ) -> None:
        self.recording = recording
        self.progress = progress
        self.deferred = deferred
        self.layout = traces_layout(recording, chunk_bytes)
        super().__init__(chunk_shape=self.layout.chunk, buffer_shape=self.layout.chunk)  # one chunk per read

    def __next__(self):  # type: ignore[no-untyped-def]
        if self.deferred:
            raise StopIteration
        return super().__next__()

    def _get_maxshape(self) -> tuple[int, int]:
        return (self.recording.n_samples, len(self.recording.channels))

    def _get_dtype(self) -> np.dtype:
        return self.recording.dtype

    def _get_data(self, selection: tuple[slice, ...]) -> np.ndarray:
        rows, cols = selection
        data = read_rows(self.recording, rows.start or 0, rows.stop, cols)
        if self.progress is not None:
            self.progress(data.nbytes)
        return data


class TimestampsIterator(GenericDataChunkIterator):
    """Sample times of a recording with gaps: each segment's start plus its sample index / rate."""

    def __init__(self, recording: Recording) -> None:
        self.recording = recording
        self._starts = recording.sample_offsets
        n = recording.n_samples
        chunk = max(1, min(n, 1 << 20))
        super().__init__(chunk_shape=(chunk,), buffer_shape=(min(n, chunk * 8),))

    def _get_maxshape(self) -> tuple[int]:
        return (self.recording.n_samples,)

    def _get_dtype(self) -> np.dtype:
        return np.dtype("float64")

    def _get_data(self, selection: tuple[slice, ...]) -> np.ndarray:
        (rows,) = selection
        start, stop = rows.start or 0, rows.stop
        out = np.empty(stop - start, dtype="float64")
        rate = self.recording.sampling_rate_hz
        for i, segment in enumerate(self.recording.segments):
            lo, hi = int(self._starts[i]), int(self._starts[i + 1])
            a, b = max(start, lo), min(stop, hi)
            if a < b:
                out[a - start : b - start] = segment.t_start_s + np.arange(a - lo, b - lo) / rate
        return out
