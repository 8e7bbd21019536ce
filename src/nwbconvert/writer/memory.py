"""Keep large sample buffers out of glibc's heap so freeing them returns memory to the system.

glibc raises its mmap threshold each time a large block is freed (up to 32 MiB), after which buffers of a few
MiB come from per-thread heap arenas and stay resident after they are freed. With reader and compressor
threads that made peak RSS grow by ~75 MB for nothing; fixing the threshold at 1 MiB (which also turns the
dynamic adjustment off) keeps every buffer of a chunk's size in its own mapping.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from functools import cache

M_MMAP_THRESHOLD = -3
THRESHOLD_BYTES = 1 << 20


@cache
def map_large_buffers() -> bool:
    """Fix glibc's mmap threshold (once per process); False where there is no glibc (macOS, musl, Windows)."""
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        return bool(libc.mallopt(M_MMAP_THRESHOLD, THRESHOLD_BYTES))
    except (OSError, AttributeError):
        return False
