"""A suite2p output folder in suite2p's layout (suite2p/plane0, plane1, …): ops.npy (a dict, pickled), stat.npy
(an object array of per-ROI dicts), F/Fneu/spks/iscell.npy and, with two channels, F_chan2/Fneu_chan2/redcell.npy.
Shapes follow suite2p: traces (rois, frames) float32, iscell/redcell (rois, 2) [label, probability]."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _stat(rng: np.random.Generator, n_rois: int, ly: int, lx: int) -> np.ndarray:
    """Square ROIs of a few pixels with suite2p's per-ROI statistics."""
    stat = []
    for i in range(n_rois):
        side = 3 + i % 3
        y0, x0 = int(rng.integers(2, ly - side - 2)), int(rng.integers(2, lx - side - 2))
        ypix, xpix = (a.ravel() for a in np.mgrid[y0 : y0 + side, x0 : x0 + side])
        lam = rng.random(len(ypix)).astype("float32") + 0.1
        stat.append(
            {
                "ypix": ypix.astype("int32"),
                "xpix": xpix.astype("int32"),
                "lam": lam,
                "med": [int(np.median(ypix)), int(np.median(xpix))],
                "npix": len(ypix),
                "npix_soma": np.int64(len(ypix)),
                "compact": np.float64(1.0 + 0.01 * i),
                "footprint": np.float64(1.0),
                "radius": np.float64(side / 2),
                "aspect_ratio": np.float64(1.0),
                "skew": np.float32(rng.normal()),
                "std": np.float32(rng.random() * 10),
                "overlap": np.zeros(len(ypix), bool),
                "soma_crop": np.ones(len(ypix), bool),
                "neuropil_mask": np.arange(5, dtype="int32"),
            }
        )
    return np.array(stat, dtype=object)


def _ops(
    rng: np.random.Generator,
    ly: int,
    lx: int,
    n_frames: int,
    fs: float,
    plane: int,
    nplanes: int,
    one_photon: bool,
    nchannels: int,
) -> dict:
    crop = 2  # suite2p crops Vcorr and max_proj to the registration's valid range
    ops = {
        "fs": fs,
        "nframes": n_frames,
        "Ly": ly,
        "Lx": lx,
        "nplanes": nplanes,
        "nchannels": nchannels,
        "functional_chan": 1,
        "iplane": plane,
        "meanImg": rng.random((ly, lx)),
        "meanImg_chan2": rng.random((ly, lx)),
        "meanImgE": rng.random((ly, lx)).astype("float32"),
        "yrange": [crop, ly - crop],
        "xrange": [crop, lx - crop],
        "Vcorr": rng.random((ly - 2 * crop, lx - 2 * crop)),
        "max_proj": rng.random((ly - 2 * crop, lx - 2 * crop)).astype("float32"),
        "save_path": f"suite2p/plane{plane}",
        "1Preg": one_photon,  # suite2p's registration for one-photon data
    }
    return ops


def write_suite2p_folder(
    parent: Path,
    n_planes: int = 2,
    two_channels: bool = True,
    n_rois: int = 5,
    n_frames: int = 40,
    ly: int = 32,
    lx: int = 48,
    fs: float = 7.5,
    seed: int = 0,
    one_photon: bool = False,
) -> Path:
    """Write `parent/suite2p/plane<i>/…` and return the `suite2p` folder; plane i has n_rois + i ROIs."""
    rng = np.random.default_rng(seed)
    root = parent / "suite2p"
    for plane in range(n_planes):
        folder = root / f"plane{plane}"
        folder.mkdir(parents=True, exist_ok=True)
        n = n_rois + plane
        ops = _ops(rng, ly, lx, n_frames, fs, plane, n_planes, one_photon, 2 if two_channels else 1)
        np.save(folder / "ops.npy", np.array(ops), allow_pickle=True)
        np.save(folder / "stat.npy", _stat(rng, n, ly, lx), allow_pickle=True)
        for name in ("F", "Fneu", "spks"):
            np.save(folder / f"{name}.npy", (rng.random((n, n_frames)) * 100).astype("float32"))
        probability = rng.random(n)
        np.save(folder / "iscell.npy", np.column_stack([probability > 0.5, probability]).astype("float64"))
        if two_channels:
            for name in ("F_chan2", "Fneu_chan2"):
                np.save(folder / f"{name}.npy", (rng.random((n, n_frames)) * 50).astype("float32"))
            red = rng.random(n)
            np.save(folder / "redcell.npy", np.column_stack([red > 0.65, red]).astype("float64"))
    return root
