"""hdmf data iterators that stream a `Recording` (all its segments) without holding it in memory."""

from __future__ import annotations

import numpy as np
from hdmf.data_utils import GenericDataChunkIterator

from nwbconvert.model import Recording
from nwbconvert.writer.chunking import CHUNK_BYTES
from nwbconvert.writer.samples import Progress, read_rows, traces_layout


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
        for segment, lo, a, b in self.recording.spans(start, stop):
            out[lo + a - start : lo + b - start] = segment.t_start_s + np.arange(a, b) / rate
        return out
