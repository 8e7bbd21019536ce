"""A NeuroNexus Allego recording: NAME.xdat.json metadata, NAME_data.xdat (float32) and NAME_timestamp.xdat (int64)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from nwbconvert.synthetic.signals import extracellular

RATE = 30000.0


def write_neuronexus(folder: Path, name: str = "allego_0__uid0101-10-00-00", seconds: float = 0.5) -> Path:
    """Eight pri (uV) channels, one analog input (V) and one digital input word; returns the .xdat.json path."""
    folder.mkdir(parents=True, exist_ok=True)
    n = round(seconds * RATE)
    pri = extracellular(n, 8, RATE, gain_uv=0.25, seed=15).astype(np.float32) * np.float32(0.25)
    aux = (np.sin(2 * np.pi * 2 * np.arange(n) / RATE) * 0.5).astype(np.float32)[:, None]
    din = ((np.arange(n) // 3000) % 2).astype(np.float32)[:, None]
    data = np.concatenate([pri, aux, din], axis=1)
    first = 1_000_000
    data.astype("<f4").tofile(folder / f"{name}_data.xdat")
    np.arange(first, first + n, dtype="<i8").tofile(folder / f"{name}_timestamp.xdat")
    types = ["ai0"] * 8 + ["ai1", "din0"]
    metadata = {
        "status": {
            "samp_freq": RATE,
            "shape": [n, data.shape[1]],
            "timestamp_range": [first, first + n],
            "t_range": [first / RATE, (first + n) / RATE],
            "start_time": "2026-01-15T10:00:00.000000-05:00",
        },
        "sapiens_base": {
            "biointerface_map": {
                "chan_name": [f"pri_{i}" for i in range(8)] + ["aux_0", "din_0"],
                "ntv_chan_name": [f"A-{i:03d}" for i in range(8)] + ["AUX-000", "DIN-000"],
                "chan_type": types,
            }
        },
    }
    meta = folder / f"{name}.xdat.json"
    meta.write_text(json.dumps(metadata, indent=1))
    return meta
