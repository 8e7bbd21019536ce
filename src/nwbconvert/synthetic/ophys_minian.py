"""A Minian output folder, as `minian.utilities.save_minian` leaves it: one zarr group per variable (A.zarr, C.zarr,
S.zarr, b0.zarr, c0.zarr, b.zarr, f.zarr, max_proj.zarr), each an xarray Dataset saved by `to_zarr` (the variable
and its coordinates as arrays, dimension names in `_ARRAY_DIMENSIONS`), written here with zarr. A Miniscope
timeStamps.csv beside them gives the frame times."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def _dataset(folder: Path, name: str, data: np.ndarray, dims: tuple[str, ...], coords: dict[str, Any]) -> None:
    import zarr

    group = zarr.open_group(str(folder / f"{name}.zarr"), mode="w")
    array = group.create_dataset(name, data=data, chunks=data.shape or None)
    array.attrs["_ARRAY_DIMENSIONS"] = list(dims)
    for coord, values in coords.items():
        values = np.asarray(values)
        created = group.create_dataset(coord, data=values, chunks=values.shape or None)
        created.attrs["_ARRAY_DIMENSIONS"] = [coord] if values.ndim else []
    zarr.consolidate_metadata(group.store)


def write_minian_folder(
    folder: Path,
    n_units: int = 3,
    n_frames: int = 25,
    height: int = 20,
    width: int = 28,
    frame_ms: float = 33.3,
    timestamps: bool = True,
) -> Path:
    """Write `folder` with the Minian variables (unit ids 2, 5, 7, … as Minian keeps them after merging)."""
    import zarr

    rng = np.random.default_rng(4)
    zarr.open_group(str(folder), mode="w")  # the folder is itself a zarr group (its .zgroup), as roiextractors opens it
    units = np.arange(n_units) * 3 + 2
    frames = np.arange(n_frames)
    spatial = {"unit_id": units, "height": np.arange(height), "width": np.arange(width)}
    masks = np.zeros((n_units, height, width))
    for i in range(n_units):
        y, x = int(rng.integers(0, height - 5)), int(rng.integers(0, width - 5))
        masks[i, y : y + 5, x : x + 5] = rng.random((5, 5))
    _dataset(folder, "A", masks, ("unit_id", "height", "width"), spatial)
    temporal = {"unit_id": units, "frame": frames}
    for name in ("C", "S", "b0", "c0"):
        data = rng.random((n_units, n_frames)) * 5
        _dataset(folder, name, data, ("unit_id", "frame"), temporal)
    _dataset(folder, "b", rng.random((height, width)), ("height", "width"), spatial | {"unit_id": np.int64(0)})
    _dataset(folder, "f", rng.random(n_frames), ("frame",), {"frame": frames})
    _dataset(folder, "max_proj", rng.random((height, width)), ("height", "width"), spatial)
    if timestamps:  # Miniscope V4's timeStamps.csv: Frame Number, Time Stamp (ms), Buffer Index
        stamps = np.round(np.arange(n_frames) * frame_ms + rng.random(n_frames), 3)
        lines = ["Frame Number,Time Stamp (ms),Buffer Index"]
        lines += [f"{i},{t},0" for i, t in enumerate(stamps)]
        (folder / "timeStamps.csv").write_text("\n".join(lines) + "\n")
    return folder
