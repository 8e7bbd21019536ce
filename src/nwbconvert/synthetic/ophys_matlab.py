"""CNMF-E and EXTRACT results as MATLAB v7.3 .mat files (HDF5 after MATLAB's 512-byte user block), written with
h5py in the layout MATLAB gives a saved struct: one root group per variable, arrays stored with their dimensions
reversed (a MATLAB [frames x rois] array is an HDF5 (rois, frames) dataset), strings as uint16 character codes.

- CNMF-E (the Schnitzer-lab `cnmfeAnalysisOutput` struct): extractedImages, extractedSignals, time.totalTime, Cn.
  roiextractors reads extractedImages (and legacy EXTRACT's filters) as (rois, height, width), which is how they
  are stored here; a MATLAB [height x width x rois] array would be (rois, width, height) in the file, and
  roiextractors would swap its x and y.
- EXTRACT >= 1.0 (`output` struct): spatial_weights, temporal_weights, config (preprocess, …), info (version,
  summary_image, max_image, F_per_pixel); legacy EXTRACT (`extractAnalysisOutput`): filters, traces,
  time.totalTime, info.summary_image."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

HEADER = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 HDF5 schema 1.00 ."


def _mat73(path: Path) -> Any:
    import h5py

    return h5py.File(path, "w", userblock_size=512)


def _sign(path: Path) -> None:
    """MATLAB's text header in the user block: version 0x0200, 'IM' (little-endian) at bytes 124-127."""
    block = HEADER.ljust(116, b" ") + b"\x00" * 8 + b"\x00\x02IM"
    with path.open("r+b") as f:
        f.write(block.ljust(128, b"\x00"))


def _chars(text: str) -> np.ndarray:
    return np.array([[ord(c)] for c in text], dtype="uint16")


def _footprints(rng: np.random.Generator, n_rois: int, height: int, width: int) -> np.ndarray:
    """(rois, height, width) non-negative blobs, one per ROI."""
    masks = np.zeros((n_rois, height, width))
    for i in range(n_rois):
        y, x = int(rng.integers(2, height - 6)), int(rng.integers(2, width - 6))
        masks[i, y : y + 4, x : x + 4] = rng.random((4, 4)) + 0.1
    return masks


def write_cnmfe_mat(
    path: Path, n_rois: int = 4, n_frames: int = 30, height: int = 24, width: int = 32, rate: float = 10.0
) -> Path:
    """A CNMF-E result: extractedImages stored (rois, height, width), extractedSignals (frames, rois)."""
    rng = np.random.default_rng(1)
    with _mat73(path) as f:
        group = f.create_group("cnmfeAnalysisOutput")
        group["extractedImages"] = _footprints(rng, n_rois, height, width)
        group["extractedSignals"] = rng.random((n_frames, n_rois)) * 10
        group.create_group("time")["totalTime"] = np.array([[n_frames / rate]])
        group["Cn"] = rng.random((height, width))
        group["movieList"] = _chars("movie.h5")
    _sign(path)
    return path


def write_extract_mat(
    path: Path,
    n_rois: int = 4,
    n_frames: int = 30,
    height: int = 24,
    width: int = 32,
    version: str = "1.1.0",
    preprocess: bool = True,
) -> Path:
    """An EXTRACT >= 1.0 result (`output`): spatial_weights stored (rois, width, height) and temporal_weights
    (rois, frames), as MATLAB saves its [height x width x rois] and [frames x rois] arrays."""
    rng = np.random.default_rng(2)
    with _mat73(path) as f:
        output = f.create_group("output")
        output["spatial_weights"] = _footprints(rng, n_rois, height, width).transpose(0, 2, 1)
        output["temporal_weights"] = rng.random((n_rois, n_frames)) * 10
        config = output.create_group("config")
        config["preprocess"] = np.array([[1.0 if preprocess else 0.0]])
        config["avg_cell_radius"] = np.array([[3.0]])
        config["trace_output_option"] = _chars("nonneg")
        info = output.create_group("info")
        info["version"] = _chars(version)
        for name in ("summary_image", "max_image", "F_per_pixel"):
            info[name] = rng.random((width, height))
    _sign(path)
    return path


def write_legacy_extract_mat(
    path: Path, n_rois: int = 3, n_frames: int = 20, height: int = 24, width: int = 32, rate: float = 5.0
) -> Path:
    """A legacy EXTRACT result (`extractAnalysisOutput`): filters (rois, height, width), traces (frames, rois)."""
    rng = np.random.default_rng(3)
    with _mat73(path) as f:
        output = f.create_group("extractAnalysisOutput")
        output["filters"] = _footprints(rng, n_rois, height, width)
        output["traces"] = rng.random((n_frames, n_rois)) * 10
        output.create_group("time")["totalTime"] = np.array([[n_frames / rate]])
        info = output.create_group("info")
        info["summary_image"] = rng.random((height, width))
        info["version"] = _chars("0.9.0")
        output["file"] = _chars("movie.tif")
    _sign(path)
    return path
