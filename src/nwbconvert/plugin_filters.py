"""Let HDF5 decode chunks written with plugin filters (blosc-zstd) when hdf5plugin is installed.

HDF5 loads a missing filter from its plugin search path when a chunk needs it, so adding hdf5plugin's
folder of filter libraries to that path costs nothing for files without such filters; importing hdf5plugin
itself would add ~0.13 s to every validation.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path


@cache
def find_plugin_filters() -> bool:
    """Add hdf5plugin's filter libraries to HDF5's plugin path (once); False when hdf5plugin is not installed."""
    spec = importlib.util.find_spec("hdf5plugin")
    if spec is None or spec.origin is None:
        return False
    plugins = Path(spec.origin).parent / "plugins"
    if not plugins.is_dir():
        return False
    import h5py

    h5py.h5pl.append(str(plugins).encode())
    return True
