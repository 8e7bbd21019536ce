"""A 3Brain BioCAM recording in the BRW 3.x HDF5 layout (3BRecInfo + 3BData/Raw, frames of all channels)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

RATE = 17855.5
BIT_DEPTH = 12


def write_biocam(path: Path, seconds: float = 0.2, grid: int = 4) -> Path:
    """A grid x grid electrode array stored as uint16 (4096 levels between MinVolt and MaxVolt uV)."""
    import h5py

    n = round(seconds * RATE)
    n_channels = grid * grid
    rng = np.random.default_rng(16)
    frames = np.clip(2048 + rng.normal(0, 40, (n, n_channels)), 0, 4095).astype(np.uint16)
    chs = np.array([(r + 1, c + 1) for r in range(grid) for c in range(grid)], dtype=[("Row", "<i2"), ("Col", "<i2")])
    with h5py.File(path, "w") as f:
        rec = f.create_group("3BRecInfo/3BRecVars")
        rec["BitDepth"] = np.array([BIT_DEPTH], dtype=np.uint8)
        rec["MaxVolt"] = np.array([4125.0])
        rec["MinVolt"] = np.array([-4125.0])
        rec["NRecFrames"] = np.array([n], dtype=np.int64)
        rec["SamplingRate"] = np.array([RATE])
        rec["SignalInversion"] = np.array([1.0])
        f.create_group("3BRecInfo/3BMeaStreams/Raw")["Chs"] = chs
        data = f.create_group("3BData")
        data.attrs["Version"] = 101
        data["Raw"] = frames.reshape(-1)
    return path
