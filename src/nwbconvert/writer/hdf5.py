"""Write an NWBFile to HDF5."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any


def write_hdf5(nwbfile: Any, path: Path) -> None:
    from pynwb import NWBHDF5IO

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with NWBHDF5IO(str(path), mode="w") as io:
            io.write(nwbfile)
