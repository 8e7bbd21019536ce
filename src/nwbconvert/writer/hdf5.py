"""Write an NWBFile to HDF5."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any


def write_hdf5(nwbfile: Any, path: Path, mode: str = "w") -> None:
    """Write `nwbfile` to a new file (mode "w"), or into a file that holds only datasets being filled ("a"), then
    the specifications it uses, as pynwb caches them (from texts made once per process: writer/manager.py)."""
    import h5py
    from pynwb import NWBHDF5IO

    from nwbconvert.spec_texts import cache_specs
    from nwbconvert.writer.manager import current

    schema = current()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with NWBHDF5IO(str(path), mode=mode, manager=schema.manager()) as io:
            io.write(nwbfile, cache_spec=False)
    with h5py.File(path, "a") as h5:
        cache_specs(h5, schema.spec_texts())
