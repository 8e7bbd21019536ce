"""A small HDF5 movie in the layouts roiextractors' Hdf5ImagingExtractor and CaImAn read, written with h5py.

A root dataset `mov` holds the frames, its `fr` attribute the frame rate (Hz) and `start_time` the time of the
first frame: (channels, frames, height, width) as roiextractors reads it, or (frames, height, width) as CaImAn's
`movie.save(..., var_name_hdf5="mov")` writes it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

RATE = 20.0


def movie(frames: int = 12, height: int = 20, width: int = 16, channels: int = 2) -> np.ndarray:
    """(channels, frames, height, width) uint16, every frame distinct."""
    rng = np.random.default_rng(180)
    data = rng.integers(0, 500, (channels, frames, height, width), dtype=np.uint16)
    return data + (np.arange(channels * frames, dtype=np.uint16).reshape(channels, frames) * 500)[..., None, None]


def write_hdf5_movie(path: Path, channels: int | None = 2, frames: int = 12) -> Path:
    """`channels` None: CaImAn's 3-D layout (one channel); else roiextractors' 4-D layout."""
    import h5py

    data = movie(frames=frames, channels=channels or 1)
    with h5py.File(path, "w") as f:
        dset = f.create_dataset("mov", data=data if channels else data[0], chunks=True)
        dset.attrs["fr"] = RATE
        dset.attrs["start_time"] = 0.0
    return path
