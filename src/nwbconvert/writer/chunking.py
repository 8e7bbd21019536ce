"""Chunk and buffer shapes: ~10 MB chunks of a few dozen channels (DANDI's streaming guidance)."""

from __future__ import annotations

from dataclasses import dataclass

CHUNK_BYTES = 10 * 1024 * 1024
CHANNELS_PER_CHUNK = 64
BUFFER_BYTES = 32 * 1024 * 1024  # source bytes touched by one read; bounds memory whatever the length


@dataclass(frozen=True)
class Layout:
    chunk: tuple[int, int]
    buffer: tuple[int, int]


def layout(
    n_samples: int, n_channels: int, itemsize: int, source_row_bytes: int, chunk_bytes: int = CHUNK_BYTES
) -> Layout:
    """Chunks span few channels and many samples; a buffer spans all channels and whole chunks.

    `source_row_bytes` is what one sample costs to read from the source: more than the channels
    written when a series takes a few columns of a wider file (a sync channel, an ADC subset).
    """
    row = max(source_row_bytes, n_channels * itemsize)
    chunk_ch = min(n_channels, CHANNELS_PER_CHUNK)
    chunk_t = max(1, min(n_samples, chunk_bytes // (chunk_ch * itemsize), BUFFER_BYTES // row))
    per_buffer = max(1, BUFFER_BYTES // (chunk_t * row))
    buffer_t = min(n_samples, chunk_t * per_buffer)
    return Layout(chunk=(chunk_t, chunk_ch), buffer=(max(1, buffer_t), n_channels))
