"""Plausible extracellular signals: noise, a slow oscillation and spikes, as raw integers."""

from __future__ import annotations

import numpy as np


def extracellular(
    n_samples: int, n_channels: int, rate_hz: float, gain_uv: float, seed: int, lfp_only: bool = False
) -> np.ndarray:
    """int16 samples (samples, channels) whose scaled values look like a real probe recording."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_samples) / rate_hz
    phase = rng.uniform(0, 2 * np.pi, n_channels)
    volts_uv = 80.0 * np.sin(2 * np.pi * 7.0 * t[:, None] + phase[None, :])
    if not lfp_only:
        volts_uv = volts_uv + rng.normal(0.0, 12.0, (n_samples, n_channels))
        spike = -120.0 * np.exp(-(((np.arange(-15, 30) / rate_hz) * 4000.0) ** 2))
        for ch in range(n_channels):
            for at in rng.choice(max(1, n_samples - 60), size=max(1, int(t[-1] * 8)), replace=False):
                volts_uv[at : at + spike.size, ch] += spike[: n_samples - at]
    return np.clip(np.round(volts_uv / gain_uv), -32768, 32767).astype(np.int16)


def square_wave(n_samples: int, rate_hz: float, period_s: float, high: int) -> np.ndarray:
    """A 50 % duty cycle pulse train: 0 or `high`."""
    t = np.arange(n_samples) / rate_hz
    return np.where((t % period_s) < period_s / 2, high, 0).astype(np.int16)
