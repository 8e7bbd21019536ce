"""A headerless binary file of interleaved int16 samples (read with --format raw-binary and --set source.*)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nwbconvert.synthetic.signals import extracellular


def write_raw_binary(
    path: Path, seconds: float = 1.0, n_channels: int = 8, rate_hz: float = 20000.0, channel_major: bool = False
) -> np.ndarray:
    """Writes `path` and returns its samples as (samples, channels) int16; channel-major files store the transpose."""
    data = extracellular(round(seconds * rate_hz), n_channels, rate_hz, gain_uv=0.195, seed=11)
    (data.T if channel_major else data).astype("<i2").tofile(path)
    return data
