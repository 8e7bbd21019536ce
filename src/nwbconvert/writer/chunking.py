"""Chunk and buffer shapes: ~10 MB chunks of a few dozen channels (DANDI's streaming guidance)."""

from __future__ import annotations

from dataclasses import dataclass

CHUNK_BYTES = 10 * 1024 * 1024
CHANNELS_PER_CHUNK = 64
BUFFER_BYTES = 64 * 1024 * 1024  # one read from the source; bounds memory whatever the length


@dataclass(frozen=True)
class Layout:
    chunk: tuple[int, int]
    buffer: tuple[int, int]


def layout(n_samples: int, n_channels: int, itemsize: int) -> Layout:
    """Chunks span few channels and many samples; a buffer spans all channels and whole chunks."""
    chunk_ch = min(n_channels, CHANNELS_PER_CHUNK)
    chunk_t = max(1, min(n_samples, CHUNK_BYTES // (chunk_ch * itemsize)))
    per_buffer = max(1, BUFFER_BYTES // (chunk_t * n_channels * itemsize))
    buffer_t = min(n_samples, chunk_t * per_buffer)
    return Layout(chunk=(chunk_t, chunk_ch), buffer=(max(1, buffer_t), n_channels))
