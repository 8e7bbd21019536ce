"""Loading the field's libraries fast: Python's cyclic garbage collector paused while they are imported.

Importing pynwb, NWB Inspector and dandi-cli creates about two million objects, nearly none of them garbage, and
the collector, triggered every 700 allocations, scans the growing heap again and again meanwhile: about 0.25 s of
a fresh process's 2 s. Python's documentation recommends exactly this for a process that forks workers: collector
off while loading, `gc.freeze()` at the end (what was loaded leaves the collector's generations, so its pages stay
shared with forked workers and later collections skip it), collector on again. Nothing else changes: reference
counting frees objects as always; only what is in a reference cycle when something is loaded is never collected
by the cycle collector (a process loads each library once, so this happens a few times per process, not per file).
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Inside the block the cyclic collector is off; when it ends, what exists is frozen if the block loaded a
    module (a block that loaded nothing, e.g. a batch's later sessions, freezes nothing), and the collector is on
    again if it was on before."""
    enabled = gc.isenabled()
    loaded = len(sys.modules)
    gc.disable()
    try:
        yield
    finally:
        if len(sys.modules) > loaded:
            gc.freeze()
        if enabled:
            gc.enable()
