"""Chunk shapes (~10 MB of a few dozen channels: DANDI's streaming guidance) and bounded source reads.

A chunk spans at most 64 channels and as many samples as fit the target size: 384 int16 channels give
(81920, 64) chunks of 10 MiB, six chunks across. Chunks are read from the source one at a time, and each read
is cut into pieces of at most PIECE_BYTES of source rows, so the memory a read maps or copies stays small
whatever the chunk size or the width of the source file (a 1-column sync series of a 385-column file touches
the whole row of every sample it reads).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

CHUNK_BYTES = 10 * 1024 * 1024
CHANNELS_PER_CHUNK = 64
PIECE_BYTES = 8 * 1024 * 1024  # source bytes one read touches
READ_AHEAD_BYTES = 256 * 1024 * 1024  # source bytes asked of the disk ahead of the reads (page cache, not RSS)


@dataclass(frozen=True)
class Layout:
    chunk: tuple[int, int]  # (samples, channels) of one chunk
    piece_rows: int  # samples read from the source at once


def layout(
    n_samples: int, n_channels: int, itemsize: int, source_row_bytes: int, chunk_bytes: int = CHUNK_BYTES
) -> Layout:
    """Chunks span few channels and many samples; reads are cut into pieces of at most PIECE_BYTES of source.

    `source_row_bytes` is what one sample costs to read from the source: more than the channels
    written when a series takes a few columns of a wider file (a sync channel, an ADC subset).
    """
    chunk_ch = max(1, min(n_channels, CHANNELS_PER_CHUNK))
    chunk_t = max(1, min(n_samples, chunk_bytes // (chunk_ch * itemsize)))
    row = max(1, source_row_bytes, n_channels * itemsize)
    return Layout(chunk=(chunk_t, chunk_ch), piece_rows=max(1, PIECE_BYTES // row))


def pieces(start: int, stop: int, piece_rows: int) -> Iterator[tuple[int, int]]:
    """[start, stop) cut into consecutive (lo, hi) ranges of at most `piece_rows` samples."""
    for lo in range(start, stop, piece_rows):
        yield lo, min(lo + piece_rows, stop)
