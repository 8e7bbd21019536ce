"""Write an NWBFile to HDF5."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any


def write_hdf5(nwbfile: Any, path: Path, mode: str = "w") -> None:
    """Write `nwbfile` to a new file (mode "w"), or into a file that holds only datasets being filled ("a")."""
    from pynwb import NWBHDF5IO

    from nwbconvert.writer.manager import build_manager

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with NWBHDF5IO(str(path), mode=mode, manager=build_manager()) as io:
            io.write(nwbfile)
