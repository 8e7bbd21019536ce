"""A Multi Channel Systems MC_DataTool export to binary with the header option: text header, then uint16 samples."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nwbconvert.synthetic.signals import extracellular

RATE = 10000.0
ADC_ZERO = 32768


def write_mcs_raw(path: Path, seconds: float = 1.0, n_channels: int = 6) -> Path:
    names = ";".join(f"El_{i + 1:02d}" for i in range(n_channels))
    header = (
        'MC_DataTool binary conversion\r\nVersion 2.6.15\r\nMC_REC file = "C:\\data\\synthetic.mcd"\r\n'
        f"Sample rate = {RATE:g}\r\nADC zero = {ADC_ZERO}\r\n"
        "El = 0.1\u00b5V/AD\r\n"
        f"Streams = {names}\r\nEOH\r\n"
    ).encode("Windows-1252")
    samples = extracellular(round(seconds * RATE), n_channels, RATE, gain_uv=0.1, seed=14).astype(np.int32) + ADC_ZERO
    with path.open("wb") as f:
        f.write(header)
        f.write(samples.astype("<u2").tobytes())
    return path
