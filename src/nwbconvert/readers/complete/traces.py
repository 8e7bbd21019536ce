"""Samples read straight from a raw (time, channels) block of a file, for a stream whose file holds fewer samples
than the header neo sizes it from (with --allow-incomplete: the whole samples that are there)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True, eq=False)
class FileTraces:
    """`LazyTraces` over `n_samples` rows of `n_columns` values of `raw_dtype` at `offset` in `path`; the
    recording's channels are the columns `channel_indexes`."""

    path: Path
    offset: int
    n_samples: int
    n_columns: int
    raw_dtype: np.dtype
    channel_indexes: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return (self.n_samples, len(self.channel_indexes))

    @property
    def dtype(self) -> np.dtype:
        return self.raw_dtype

    @property
    def row_bytes(self) -> int:
        return self.n_columns * self.raw_dtype.itemsize

    def read(self, start: int, stop: int, channels: slice | list[int] | None = None) -> np.ndarray:
        idx = self.channel_indexes if channels is None else self.channel_indexes[channels]
        stop = min(stop, self.n_samples)
        if stop <= start:
            return np.empty((0, len(idx)), dtype=self.raw_dtype)
        rows = np.memmap(
            self.path,
            dtype=self.raw_dtype,
            mode="r",
            offset=self.offset + start * self.row_bytes,
            shape=(stop - start, self.n_columns),
        )
        return np.array(rows[:, idx])

    def prefetch(self, start: int, stop: int) -> None:
        """No read-ahead for these (a damaged copy, read once)."""
