"""Raw samples of a recording read in bounded pieces, and the chunk layout of its traces dataset (no hdmf)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

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
    for segment, lo, first, end in recording.spans(start, stop):
        for a, b in pieces(first, end, piece_rows):
            try:
                yield lo + a - start, segment.traces.read(a, b, channels)
            except Exception as exc:
                raise read_failed(recording.name, lo + a, lo + b, exc) from exc


def read_failed(series: str, start: int, stop: int, exc: Exception) -> SourceError:
    """The error for samples the source could not give while they were written, in plain words."""
    from nwbconvert.readers.plain import explain

    return SourceError(
        f"Reading samples {start}-{stop} of {series} from the source failed ({explain(exc, Path())}). The recording "
        "may be truncated or damaged: check that every file of it was copied completely."
    )


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
