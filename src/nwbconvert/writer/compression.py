"""How bulk traces are stored: the HDF5 filter, its level, chunk size and how many cores compress.

gzip (deflate + shuffle), blosc-zstd and `none` are encoded by nwbconvert itself, chunk by chunk in a thread
pool (the compressors release the GIL), and stored with h5py's direct chunk write (uncompressed chunks, whose
size is known, are instead copied into chunks allocated before pynwb writes: see preallocated.py): the file
holds a standard gzip/shuffle dataset that any HDF5 reader decodes without plugins. zlib streams come from
libdeflate (the `deflate` package: the same format, ~2.2x zlib's speed at level 4 with a slightly smaller
output; it releases the GIL for the whole chunk, so two threads compress twice as fast as one), else from
Python's zlib.
blosc-zstd chunks are c-blosc frames from numcodecs, which is what HDF5's Blosc filter (id 32001) stores; the
dataset declares that filter through `hdf5plugin`, which writers and readers both need. lzf goes through
HDF5's own (single-core) filter pipeline.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from nwbconvert.options import DEFAULT_CHUNK_MB, DEFAULT_COMPRESSION, DEFAULT_LEVEL, LEVELS, Compression

Encoded = np.ndarray | bytes | bytearray  # a chunk as stored: raw samples, or the filters' output


@dataclass(frozen=True)
class WriteOptions:
    compression: str = DEFAULT_COMPRESSION  # a Compression
    level: int | None = None  # None: DEFAULT_LEVEL
    jobs: int | None = None  # threads that compress; None: every core
    chunk_mb: float = DEFAULT_CHUNK_MB  # target chunk size

    @property
    def effective_level(self) -> int | None:
        return self.level if self.level is not None else DEFAULT_LEVEL.get(self.compression)

    @property
    def threads(self) -> int:
        return max(1, self.jobs if self.jobs else (os.cpu_count() or 1))

    @property
    def chunk_bytes(self) -> int:
        return max(1, int(self.chunk_mb * 1024 * 1024))

    @property
    def direct(self) -> bool:
        """True when nwbconvert encodes chunks itself (in parallel) instead of HDF5's filter pipeline."""
        return self.compression in ("gzip", "blosc-zstd", "none")

    def dataset_options(self) -> dict[str, Any]:
        """Keyword arguments for hdmf's H5DataIO that declare the filters of a traces dataset."""
        if self.compression == "gzip":
            return {"compression": "gzip", "compression_opts": self.effective_level, "shuffle": True}
        if self.compression == "lzf":
            return {"compression": "lzf", "shuffle": True}
        if self.compression == "blosc-zstd":
            import hdf5plugin

            blosc = hdf5plugin.Blosc(cname="zstd", clevel=self.effective_level or 5, shuffle=hdf5plugin.Blosc.SHUFFLE)
            return {
                "compression": blosc.filter_id,
                "compression_opts": blosc.filter_options,
                "allow_plugin_filters": True,
            }
        return {}

    def encode(
        self,
        parts: Iterable[tuple[int, np.ndarray]],
        shape: tuple[int, int],
        dtype: np.dtype,
        out: np.ndarray | None = None,
    ) -> Encoded:
        """A full chunk of `shape` as HDF5 stores it in a dataset of `dtype`, after its filters: shuffle then
        deflate (gzip), a blosc frame (blosc-zstd) or raw samples (none; in `out` when given). `parts` are (row
        offset, samples) pieces covering the chunk's data from its first row; the rest of an edge chunk is 0.
        Samples take the file's byte order (a big-endian source is stored little-endian)."""
        dtype = np.dtype(dtype)
        if self.compression == "gzip":
            return deflate()(
                shuffled(parts, shape, dtype), self.effective_level if self.effective_level is not None else 4
            )
        raw = gathered(parts, np.zeros(shape, dtype=dtype) if out is None else out)
        if self.compression == "blosc-zstd":
            return blosc_zstd(self.effective_level or 5).encode(raw)
        return raw


def gathered(parts: Iterable[tuple[int, np.ndarray]], out: np.ndarray) -> np.ndarray:
    """Consecutive pieces copied into `out`, whose rows and columns beyond them are set to 0 (an edge chunk's
    padding; `out` may hold an earlier chunk)."""
    rows = cols = 0
    for row, part in parts:
        if row != rows:
            raise RuntimeError(f"samples {rows}-{row} of a chunk were not read")
        copy_rows(out[row : row + len(part), : part.shape[1]], part)
        rows, cols = row + len(part), max(cols, part.shape[1])
    out[rows:] = 0
    out[:rows, cols:] = 0
    return out


def copy_rows(dst: np.ndarray, src: np.ndarray) -> None:
    """dst[...] = src, each row's samples copied as one item when both hold them adjacent (a column slice of a
    file mapping does): a third less time than numpy's sample-by-sample copy of a 64-channel gather."""
    if dst.dtype == src.dtype and dst.strides[1] == src.strides[1] == dst.itemsize and dst.size:
        row = np.dtype((np.void, dst.shape[1] * dst.itemsize))
        dst.view(row)[...] = src.view(row)
    else:
        dst[...] = src


def shuffled(parts: Iterable[tuple[int, np.ndarray]], shape: tuple[int, int], dtype: np.dtype) -> np.ndarray:
    """HDF5's shuffle filter applied to a chunk: byte k of every sample, for each k; each piece's bytes are
    copied straight into their planes (one copy)."""
    size = dtype.itemsize
    planes = np.zeros((size, *shape), dtype=np.uint8)
    for row, part in parts:
        rows, cols = part.shape
        as_bytes = _bytes(np.asarray(part, dtype=dtype)).reshape(rows, cols, size)
        for k in range(size):
            planes[k, row : row + rows, :cols] = as_bytes[:, :, k]
    return planes


def _bytes(samples: np.ndarray) -> np.ndarray:
    """The samples' bytes as uint8, without a copy when each row's samples are adjacent (a column slice of a
    file mapping is)."""
    if samples.ndim == 2 and samples.strides[1] == samples.itemsize:
        return samples.view(np.uint8)
    return np.ascontiguousarray(samples).view(np.uint8)


@cache
def blosc_zstd(level: int) -> Any:
    """numcodecs' Blosc codec as HDF5's Blosc filter is declared: zstd, byte shuffle, typesize of the data."""
    from numcodecs.blosc import Blosc

    return Blosc(cname="zstd", clevel=level, shuffle=Blosc.SHUFFLE)


@cache
def deflate() -> Callable[[Any, int], bytes | bytearray]:
    """libdeflate's zlib_compress when installed (a standard zlib stream, faster), else zlib's."""
    try:
        import deflate as libdeflate
    except ImportError:
        return zlib.compress
    return libdeflate.zlib_compress


def check(options: WriteOptions) -> None:
    """Refuse unknown methods and levels out of range before anything is read (a UsageError, exit 2)."""
    from nwbconvert.errors import MissingDependency, UsageError

    if options.compression not in tuple(Compression):
        raise UsageError(f"--compression {options.compression}: choose one of {', '.join(Compression)}.")
    levels = LEVELS.get(options.compression)
    if options.level is not None and (levels is None or options.level not in levels):
        allowed = f"{levels.start}-{levels.stop - 1}" if levels else "none (this method has no level)"
        raise UsageError(f"--compression-level {options.level}: for {options.compression} use {allowed}.")
    if options.chunk_mb <= 0 or options.chunk_mb > 1024:
        raise UsageError(
            f"--chunk-mb {options.chunk_mb}: give a size between 0.001 and 1024 MB (default {DEFAULT_CHUNK_MB:g})."
        )
    if options.jobs is not None and options.jobs < 1:
        raise UsageError(f"--jobs {options.jobs}: give 1 or more (default: every core).")
    if options.compression == "blosc-zstd":
        import importlib.util

        if importlib.util.find_spec("hdf5plugin") is None:
            raise MissingDependency("Writing blosc-zstd compressed data", "hdf5plugin", "blosc")
