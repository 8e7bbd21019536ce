"""A WinEDR continuous recording: a 2048-byte ASCII header (KEY=VALUE lines) followed by int16 samples."""

from __future__ import annotations

from pathlib import Path

import numpy as np

HEADER_BYTES = 2048
RATE = 10000.0


def write_winedr(path: Path, seconds: float = 1.0) -> Path:
    """Two channels: membrane current (pA) and membrane potential (mV), as WinEDR records them in whole-cell mode."""
    n = round(seconds * RATE)
    t = np.arange(n) / RATE
    current = np.round(200 * np.sin(2 * np.pi * 5 * t)).astype(np.int16)
    voltage = np.round(-700 + 50 * (t % 0.2 < 0.1)).astype(np.int16)
    fields = {
        "VER": "3.4",
        "NC": "2",
        "NP": str(2 * n),
        "NBH": str(HEADER_BYTES),
        "NBA": str(1 + (2 * n * 2) // 512),
        "NBD": "0",
        "AD": "10",
        "ADCMAX": "32767",
        "DT": f"{1 / RATE:g}",
        "YN0": "Im",
        "YU0": "pA",
        "YO0": "0",
        "YCF0": "0.0005",
        "YAG0": "1",
        "YZ0": "0",
        "YN1": "Vm",
        "YU1": "mV",
        "YO1": "1",
        "YCF1": "0.01",
        "YAG1": "1",
        "YZ1": "0",
    }
    header = "".join(f"{k}={v}\r\n" for k, v in fields.items()).encode("ascii")
    with path.open("wb") as f:
        f.write(header.ljust(HEADER_BYTES, b"\x00"))
        f.write(np.stack([current, voltage], axis=1).astype("<i2").tobytes())
    return path
