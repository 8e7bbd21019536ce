"""An Elan EEG recording: NAME.eeg (big-endian int16 samples, channels + 2 status channels), .eeg.ent, .eeg.pos."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nwbconvert.synthetic.signals import extracellular

RATE = 512.0


def write_elan(folder: Path, name: str = "eeg_session", seconds: float = 4.0, n_channels: int = 6) -> Path:
    """Writes the three files into `folder` and returns the .eeg path."""
    folder.mkdir(parents=True, exist_ok=True)
    labels = [f"EEG{i + 1}" for i in range(n_channels)] + ["Trigger", "Status"]
    n_all = n_channels + 2
    physical_uv = 3276.7  # -32768..32767 logical maps to +-3276.8 uV: 0.1 uV per bit
    lines = [
        "V2",
        "Synthetic recording written by nwbconvert",
        "Elan 2 channels + status",
        "15-01-2026 10:00:00",
        "15-01-2026 10:00:00",
        "-1",
        "Reserved",
        "-1",
        repr(1.0 / RATE),
        str(n_all),
        *labels,
        *(["EEG"] * n_channels + ["trigger", "status"]),
        *(["uV"] * n_channels + ["none", "none"]),
        *([f"{-physical_uv - 0.1:.1f}"] * n_all),
        *([f"{physical_uv:.1f}"] * n_all),
        *(["-32768"] * n_all),
        *(["32767"] * n_all),
        *(["none"] * n_all),
    ]
    eeg = folder / f"{name}.eeg"
    eeg.with_name(eeg.name + ".ent").write_text("\n".join(lines) + "\n", encoding="ascii")
    samples = extracellular(round(seconds * RATE), n_channels, RATE, gain_uv=0.1, seed=13, lfp_only=True)
    status = np.zeros((samples.shape[0], 2), dtype=np.int16)
    np.concatenate([samples, status], axis=1).astype(">i2").tofile(eeg)
    eeg.with_name(eeg.name + ".pos").write_text(
        "".join(f"{t}   {c}   0\n" for t, c in ((256, 1), (1024, 2), (1536, 1)))
    )
    return eeg
