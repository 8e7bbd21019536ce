"""Fill deferred traces datasets: read, compress on every core, and store chunks with direct chunk writes.

One reader thread reads the next row of chunks (all channels, one chunk in time) while a pool of threads encodes
the chunks of the current one (zlib releases the GIL) and the calling thread stores finished chunks in order. At
most three rows and `threads + 1` encoded chunks are held at once, so memory is bounded whatever the length.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nwbconvert.model import Recording
from nwbconvert.writer.chunking import Layout
from nwbconvert.writer.compression import WriteOptions
from nwbconvert.writer.traces import Progress, read_rows


@dataclass(frozen=True)
class DeferredSeries:
    """A traces dataset created empty by hdmf, to be filled here."""

    dataset: str  # HDF5 path, e.g. /acquisition/ElectricalSeriesImec0AP/data
    recording: Recording
    layout: Layout


def fill(path: Path, series: list[DeferredSeries], options: WriteOptions, progress: Progress | None) -> None:
    """Write every deferred dataset of the file at `path` (closed by pynwb, reopened here)."""
    if not series:
        return
    import h5py

    with (
        h5py.File(path, "r+") as f,
        ThreadPoolExecutor(max_workers=options.threads, thread_name_prefix="compress") as pool,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="read") as reader,
    ):
        for item in series:
            _fill_one(f[item.dataset], item, options, pool, reader, progress)


def _fill_one(
    dataset: object,
    item: DeferredSeries,
    options: WriteOptions,
    pool: ThreadPoolExecutor,
    reader: ThreadPoolExecutor,
    progress: Progress | None,
) -> None:
    """Chunks go to the pool in file order; at most `threads + 1` are encoded or waiting to be stored."""
    write_chunk: Callable[[tuple[int, int], bytes], None] = dataset.id.write_direct_chunk  # type: ignore[attr-defined]
    window: deque[tuple[tuple[int, int], Future[bytes]]] = deque()
    for offset, part in _all_chunks(item, reader, progress):
        if len(window) > options.threads:
            done_offset, done = window.popleft()
            write_chunk(done_offset, done.result())
        window.append((offset, pool.submit(options.encode, part, dataset.dtype)))  # type: ignore[attr-defined]
    while window:
        done_offset, done = window.popleft()
        write_chunk(done_offset, done.result())


def _all_chunks(
    item: DeferredSeries, reader: ThreadPoolExecutor, progress: Progress | None
) -> Iterator[tuple[tuple[int, int], np.ndarray]]:
    """Every chunk of the dataset in file order, read one row of chunks (all channels) at a time; the next row
    is read while this one is encoded."""
    chunk_t, chunk_c = item.layout.chunk
    buffer_t, n_samples = chunk_t, item.recording.n_samples
    starts = list(range(0, n_samples, buffer_t))
    pending = reader.submit(read_rows, item.recording, 0, min(buffer_t, n_samples))
    for i, start in enumerate(starts):
        block = pending.result()
        if i + 1 < len(starts):
            nxt = starts[i + 1]
            pending = reader.submit(read_rows, item.recording, nxt, min(nxt + buffer_t, n_samples))
        yield from _chunks(block, start, chunk_t, chunk_c)
        if progress is not None:
            progress(block.nbytes)  # also where a pending Ctrl-C/SIGTERM stops the write
        del block


def _chunks(block: np.ndarray, start: int, chunk_t: int, chunk_c: int) -> Iterator[tuple[tuple[int, int], np.ndarray]]:
    """(chunk offset in the dataset, full-size chunk array) for every chunk of a buffer; edges padded with 0."""
    n_rows, n_channels = block.shape
    for t0 in range(0, n_rows, chunk_t):
        for c0 in range(0, n_channels, chunk_c):
            part = block[t0 : t0 + chunk_t, c0 : c0 + chunk_c]
            if part.shape != (chunk_t, chunk_c):
                padded = np.zeros((chunk_t, chunk_c), dtype=block.dtype)
                padded[: part.shape[0], : part.shape[1]] = part
                part = padded
            yield (start + t0, c0), part
