"""A Neurolabware Scanbox recording as Scanbox writes it: `<name>.sbx`, the raw uint16 samples (stored inverted,
65535 - value, each frame rows × columns, interleaved with the optotune planes of a volume scan), and
`<name>.mat` holding the `info` struct that sizes and times them (sz, recordsPerBuffer, channels, scanmode, resfreq,
config.lines, otwave/volscan), as scipy.io.savemat writes a MATLAB struct."""

from __future__ import annotations

from pathlib import Path

import numpy as np

RESFREQ = 7930.0  # the resonant mirror's line rate (Hz): 7930 / 24 lines ≈ 330.4 frames/s unidirectional


def scanbox_frames(n_frames: int = 8, rows: int = 24, cols: int = 40, planes: int = 1) -> np.ndarray:
    """The frames the sample holds, in acquisition order (planes interleaved): (frames × planes, rows, cols)."""
    rng = np.random.default_rng(81)
    return rng.integers(0, 4000, (n_frames * planes, rows, cols), dtype=np.uint16)


def write_scanbox(
    folder: Path, name: str = "mouse_000_001", n_frames: int = 8, rows: int = 24, cols: int = 40, planes: int = 1
) -> Path:
    """`folder/<name>.sbx` (returned) and its `.mat`: one channel (PMT0, `channels` 2), unidirectional scanning
    (`scanmode` 1), a Scanbox version 2 header; `planes` > 1 makes a volume scan over that many optotune planes."""
    from scipy.io import savemat

    folder.mkdir(parents=True, exist_ok=True)
    frames = scanbox_frames(n_frames, rows, cols, planes)
    sbx = folder / f"{name}.sbx"
    (np.iinfo(np.uint16).max - frames).astype("<u2").tofile(sbx)
    info = {
        "channels": 2,  # 1: PMT0 and PMT1, 2: PMT0 only, 3: PMT1 only
        "scanmode": 1,  # 1: unidirectional, 0: bidirectional
        "recordsPerBuffer": rows,
        "sz": np.array([rows, cols], dtype=np.float64),
        "resfreq": RESFREQ,
        "bytesPerBuffer": rows * cols * 2,
        "scanbox_version": 2.0,
        "config": {"lines": float(rows), "magnification": 1.0, "pmt0_gain": 0.55, "wavelength": 920.0},
        "volscan": 1.0 if planes > 1 else 0.0,
        "otwave": np.arange(planes, dtype=np.float64) * 10.0 if planes > 1 else np.zeros((0,)),
        "objective": "Nikon 16x/0.8w/WD3.0",
    }
    savemat(folder / f"{name}.mat", {"info": info})
    return sbx
