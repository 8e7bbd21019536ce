"""Uncompressed chunks written around the page cache (O_DIRECT): the disk takes them straight from our buffers.

Written through the page cache, every byte of an uncompressed conversion is copied twice: gathered into a
chunk, then copied again by the kernel into the page cache, which writeback then sends to the disk. On a 2-core
machine that second copy cost as much CPU as everything else (sys 2.1 s for 1.4 GB, beside pynwb's import on
the other core); with O_DIRECT it is 0.1 s and the conversion waits only for the disk. O_DIRECT asks for
buffers, offsets and lengths aligned to the device's blocks: chunks get page-aligned buffers and HDF5 places
large allocations on page boundaries (ALIGN), and any chunk that is not aligned, or a file system that refuses
O_DIRECT (or no O_DIRECT at all, e.g. macOS), is written through the page cache as before.
"""

from __future__ import annotations

import errno
import mmap
import os
import threading
from pathlib import Path

import numpy as np

ALIGN = 4096  # page size: a multiple of every common device's logical block size


def aligned_empty(shape: tuple[int, int], dtype: np.dtype) -> np.ndarray:
    """An uninitialised array whose buffer starts on a page (an anonymous mapping, unmapped when freed)."""
    count = int(np.prod(shape))
    buffer = mmap.mmap(-1, max(1, count * dtype.itemsize))
    return np.frombuffer(buffer, dtype=dtype, count=count).reshape(shape)


class AlignedBuffers:
    """Page-aligned chunk buffers of one shape, reused: a buffer is taken, filled, written and given back, so the
    pages of a few buffers serve the whole recording (a new buffer per chunk pays a page fault per 4 KiB)."""

    def __init__(self, shape: tuple[int, int], dtype: np.dtype) -> None:
        self.shape, self.dtype = shape, np.dtype(dtype)
        self._free: list[np.ndarray] = []
        self._lock = threading.Lock()

    def take(self) -> np.ndarray:
        with self._lock:
            if self._free:
                return self._free.pop()
        return aligned_empty(self.shape, self.dtype)

    def give(self, buffer: np.ndarray) -> None:
        with self._lock:
            self._free.append(buffer)


class ChunkWriter:
    """Writes whole chunks at their byte offsets in `path`: with O_DIRECT when the buffer, the offset and the
    length are aligned and the file system accepts it, through the page cache otherwise."""

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_WRONLY)
        self._direct_fd = _open_direct(path)
        self.direct_bytes = 0  # what went to the disk around the page cache (nothing left for fsync to write)

    def write(self, data: np.ndarray, offset: int) -> bool:
        """Write `data` (C-contiguous) at `offset`; True when it went to the disk directly."""
        view = data.reshape(-1).view(np.uint8).data
        if self._direct_fd is not None and _aligned(data, offset):
            try:
                _pwrite_all(self._direct_fd, view, offset)
            except OSError as exc:
                if exc.errno != errno.EINVAL:
                    raise
                self._stop_direct()  # alignment this file system wants and we cannot see: page cache from now on
            else:
                self.direct_bytes += len(view)
                return True
        _pwrite_all(self._fd, view, offset)
        return False

    def close(self) -> None:
        self._stop_direct()
        os.close(self._fd)

    def __enter__(self) -> ChunkWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _stop_direct(self) -> None:
        if self._direct_fd is not None:
            os.close(self._direct_fd)
            self._direct_fd = None


def _open_direct(path: Path) -> int | None:
    flag = getattr(os, "O_DIRECT", 0)
    if not flag or os.environ.get("NWBCONVERT_NO_DIRECT_IO"):
        return None
    try:
        return os.open(path, os.O_WRONLY | flag)
    except OSError:  # EINVAL: this file system has no O_DIRECT
        return None


def _aligned(data: np.ndarray, offset: int) -> bool:
    return offset % ALIGN == 0 and data.nbytes % ALIGN == 0 and data.ctypes.data % ALIGN == 0


def _pwrite_all(fd: int, view: memoryview, offset: int) -> None:
    while view:
        n = os.pwrite(fd, view, offset)
        view, offset = view[n:], offset + n
