"""A MaxWell MaxOne recording in the legacy (version 20160704) HDF5 layout, stored uncompressed."""

from __future__ import annotations

from pathlib import Path

import numpy as np

RATE = 20000.0  # the legacy format does not store a rate: neo assumes 20 kHz


def write_maxwell(path: Path, seconds: float = 0.2, n_channels: int = 8) -> Path:
    """`sig` holds (channels, samples) uint16 around 512; `mapping` routes channels to electrodes."""
    import h5py

    n = round(seconds * RATE)
    rng = np.random.default_rng(17)
    sig = np.clip(512 + rng.normal(0, 6, (n_channels, n)), 0, 1023).astype(np.uint16)
    mapping = np.zeros(n_channels, dtype=[("channel", "<i4"), ("electrode", "<i4"), ("x", "<f8"), ("y", "<f8")])
    mapping["channel"] = np.arange(n_channels)
    mapping["electrode"] = 1000 + np.arange(n_channels) * 3
    mapping["x"] = (mapping["electrode"] % 220) * 17.5
    mapping["y"] = (mapping["electrode"] // 220) * 17.5
    with h5py.File(path, "w") as f:
        f["version"] = np.array([b"20160704"])
        f["sig"] = sig
        f["mapping"] = mapping
        settings = f.create_group("settings")
        settings["lsb"] = np.array([6.294e-6])
        settings["gain"] = np.array([512.0])
    return path
