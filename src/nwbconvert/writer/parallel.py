"""Fill deferred traces datasets: read, compress on every core, and store chunks with direct chunk writes.

Each chunk is one task for a thread pool: read its samples from the source in small pieces (reads are
serialised: not every vendor reader is thread-safe), shuffle them into the filter's byte planes, deflate (libdeflate
releases the GIL). The calling thread stores finished chunks in file order. At most `threads + 1` chunks are
in flight, so memory is bounded by a few chunks whatever the length of the recording.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np

from nwbconvert.durable import Writeback
from nwbconvert.model import Recording
from nwbconvert.writer.chunking import READ_AHEAD_BYTES, Layout
from nwbconvert.writer.compression import Encoded, WriteOptions
from nwbconvert.writer.direct_io import AlignedBuffers
from nwbconvert.writer.samples import Progress, read_pieces

T = TypeVar("T")


class RowSource(Protocol):
    """What a deferred dataset is filled from, as rows: a recording's samples × channels, or a movie's frames ×
    pixels (a chunk of whole frames holds the same bytes as those rows: C order)."""

    @property
    def n_rows(self) -> int: ...

    @property
    def n_cols(self) -> int: ...

    @property
    def dtype(self) -> np.dtype: ...

    @property
    def row_bytes(self) -> int:
        """Bytes one row costs to read from the source."""
        ...

    @property
    def concurrent(self) -> bool:
        """True when several threads may read pieces at once (the source decodes outside its own lock)."""
        ...

    def prefetch(self, start: int, stop: int) -> None: ...

    def pieces(self, start: int, stop: int, cols: slice, piece_rows: int) -> Iterator[tuple[int, np.ndarray]]:
        """Rows [start, stop) of columns `cols`, as (offset from `start`, rows) pieces of at most `piece_rows`."""
        ...


@dataclass(frozen=True)
class RecordingRows:
    """A recording's samples (all segments, in time order) as rows."""

    recording: Recording

    @property
    def n_rows(self) -> int:
        return self.recording.n_samples

    @property
    def n_cols(self) -> int:
        return len(self.recording.channels)

    @property
    def dtype(self) -> np.dtype:
        return self.recording.dtype

    @property
    def row_bytes(self) -> int:
        return self.recording.row_bytes

    @property
    def concurrent(self) -> bool:
        return False  # vendor readers need not be thread-safe

    def prefetch(self, start: int, stop: int) -> None:
        self.recording.prefetch(start, stop)

    def pieces(self, start: int, stop: int, cols: slice, piece_rows: int) -> Iterator[tuple[int, np.ndarray]]:
        return read_pieces(self.recording, start, stop, cols, piece_rows)


@dataclass(frozen=True)
class DeferredSeries:
    """A bulk dataset created empty by hdmf, to be filled here: (rows, cols) chunks, or for a movie
    (`frame_shape` set) chunks of whole frames stored at (frame, 0, 0[, 0])."""

    dataset: str  # HDF5 path, e.g. /acquisition/ElectricalSeriesImec0AP/data
    rows: RowSource
    layout: Layout
    frame_shape: tuple[int, ...] = ()  # a movie's (x, y[, z]); () for traces

    @classmethod
    def of_recording(cls, dataset: str, recording: Recording, layout: Layout) -> DeferredSeries:
        return cls(dataset, RecordingRows(recording), layout)

    @property
    def recording(self) -> Recording:
        """The recording a traces dataset is filled from (a movie has none)."""
        if not isinstance(self.rows, RecordingRows):
            raise TypeError(f"{self.dataset} is filled from a movie, not a recording")
        return self.rows.recording

    def dataset_offset(self, offset: tuple[int, int]) -> tuple[int, ...]:
        """Where a chunk at (row, col) sits in the dataset: the same for traces, (frame, 0, …) for a movie."""
        return (offset[0], *(0 for _ in self.frame_shape)) if self.frame_shape else offset

    def chunk_block(self, data: np.ndarray) -> np.ndarray:
        """Rows as the dataset holds them: a movie's rows reshaped into frames."""
        return data.reshape(len(data), *self.frame_shape) if self.frame_shape else data


@dataclass(frozen=True)
class Chunk:
    """Where one chunk sits in its dataset and how much of it holds data (edge chunks are partly padding)."""

    offset: tuple[int, int]  # first sample, first channel
    rows: int
    cols: int


def chunk_grid(item: DeferredSeries) -> Iterator[Chunk]:
    """Every chunk of a series in storage order: time blocks, each across all channel groups."""
    chunk_t, chunk_c = item.layout.chunk
    n_samples, n_channels = item.rows.n_rows, item.rows.n_cols
    for t0 in range(0, n_samples, chunk_t):
        for c0 in range(0, n_channels, chunk_c):
            yield Chunk((t0, c0), min(chunk_t, n_samples - t0), min(chunk_c, n_channels - c0))


def in_order(
    tasks: Iterator[tuple[Chunk, Callable[[], T]]],
    pool: ThreadPoolExecutor,
    window: int,
    store: Callable[[Chunk, T], None],
) -> None:
    """Run tasks on the pool, at most `window` at once, and `store` their results in the order given."""
    pending: deque[tuple[Chunk, Future[T]]] = deque()
    for chunk, task in tasks:
        if len(pending) >= window:
            done, result = pending.popleft()
            store(done, result.result())
        pending.append((chunk, pool.submit(task)))
    while pending:
        done, result = pending.popleft()
        store(done, result.result())


class ChunkReader:
    """Reads one chunk's samples in pieces, one reader at a time (vendor readers need not be thread-safe), or at
    once where the source says it may (`RowSource.concurrent`: a TIFF decoded outside its file lock).

    The first chunk of each time block asks the OS to read the blocks READ_AHEAD_BYTES ahead, so a recording
    that is not in the page cache streams from disk while earlier blocks are compressed.
    """

    def __init__(self, item: DeferredSeries) -> None:
        self.item = item
        self._lock = threading.Lock()
        self._block = item.layout.chunk[0]
        self._ahead = max(1, READ_AHEAD_BYTES // (self._block * max(1, item.rows.row_bytes))) * self._block
        item.rows.prefetch(0, self._ahead)

    def pieces(self, chunk: Chunk) -> Iterator[tuple[int, np.ndarray]]:
        (t0, c0), rows = chunk.offset, self.item.rows
        if c0 == 0:
            rows.prefetch(t0 + self._ahead, t0 + self._ahead + self._block)
        source = rows.pieces(t0, t0 + chunk.rows, slice(c0, c0 + chunk.cols), self.item.layout.piece_rows)
        if rows.concurrent:
            yield from source
            return
        while True:
            with self._lock:
                piece = next(source, None)
            if piece is None:
                return
            yield piece


def fill(path: Path, series: list[DeferredSeries], options: WriteOptions, progress: Progress | None) -> None:
    """Write every deferred dataset of the file at `path` (closed by pynwb, reopened here)."""
    if not series:
        return
    import h5py

    with (
        h5py.File(path, "r+") as f,
        ThreadPoolExecutor(options.threads, thread_name_prefix="compress") as pool,
        Writeback(path) as writeback,
    ):
        filler = Filler(options, pool, writeback, progress)
        for item in series:
            dataset = f[item.dataset]
            filler.fill(item, dataset.dtype, _direct_put(dataset, item))


Put = Callable[[tuple[int, int], Encoded], None]  # stores one encoded chunk at its (sample, channel) offset


def _direct_put(dataset: Any, item: DeferredSeries) -> Put:
    """Stores encoded chunks with HDF5's direct chunk write, at the dataset's offset of each (a movie's: frames)."""
    write_chunk = dataset.id.write_direct_chunk

    def put(offset: tuple[int, int], encoded: Encoded) -> None:
        write_chunk(item.dataset_offset(offset), encoded)

    return put


@dataclass(frozen=True)
class Filler:
    """Encodes the chunks of a series on `pool` and stores them in file order, telling writeback and progress.

    With `aligned` (uncompressed chunks only), chunks are gathered into reused page-aligned buffers, which
    O_DIRECT writes need (see direct_io.py).
    """

    options: WriteOptions
    pool: ThreadPoolExecutor
    writeback: Writeback
    progress: Progress | None
    aligned: bool = False

    def fill(self, item: DeferredSeries, dtype: np.dtype, put: Put) -> None:
        reader = ChunkReader(item)
        buffers = AlignedBuffers(item.layout.chunk, dtype) if self.aligned else None

        def encode(chunk: Chunk) -> Encoded:
            out = buffers.take() if buffers is not None else None
            return self.options.encode(reader.pieces(chunk), item.layout.chunk, dtype, out)

        def store(chunk: Chunk, encoded: Encoded) -> None:
            put(chunk.offset, encoded)
            if buffers is not None and isinstance(encoded, np.ndarray):
                buffers.give(encoded)
            self.writeback.wrote(encoded.nbytes if isinstance(encoded, np.ndarray) else len(encoded))
            if self.progress is not None:
                self.progress(chunk.rows * chunk.cols * dtype.itemsize)  # also where a pending Ctrl-C stops

        tasks = ((chunk, partial(encode, chunk)) for chunk in chunk_grid(item))
        in_order(tasks, self.pool, self.options.threads + 1, store)
