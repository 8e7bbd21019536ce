"""A Femtonics MESc (.mesc) file as the MESc software lays it out in HDF5: root attribute `Uuid`; groups
`MSession_<i>/MUnit_<j>`, each unit one acquisition with a dataset `Channel_<k>` per detector of (frames, rows,
columns) uint16 (rows × columns is YDim × XDim, as roiextractors reads it), and the unit's attributes: channel count
and names (`VecChannelsSize`, `Channel_<k>_Name` as character codes), sizes (`XDim`, `YDim`, `ZDim`), axis
conversions (`X/Y/ZAxisConversionConversionLinearScale` / `…LinearOffset` / `…UnitName`: µm per pixel, ms per frame),
the measurement date (`MeasurementDatePosix`, `MeasurementDateNanoSecs`) and who measured where."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

START_POSIX = 1_700_000_000  # 2023-11-14T22:13:20Z: the first unit's measurement date


@dataclass(frozen=True)
class FemtonicsUnit:
    """One MUnit of the sample: its frames' size and timing, and which channels it records."""

    n_frames: int = 6
    rows: int = 24  # YDim
    cols: int = 40  # XDim
    frame_ms: float = 32.3  # ZAxisConversionConversionLinearScale: ≈ 30.96 frames/s
    pixel_um: float = 0.8
    channels: tuple[str, ...] = ("UG", "UR")
    after_s: int = 0  # measured this many seconds after the first unit


UNITS = (FemtonicsUnit(), FemtonicsUnit(n_frames=5, rows=20, cols=32, frame_ms=64.5, channels=("UG",), after_s=90))


def _text(value: str, dtype: str = "uint8") -> np.ndarray:
    return np.frombuffer(value.encode("latin-1"), np.uint8).astype(dtype)


def femtonics_frames(unit_index: int, channel: int, unit: FemtonicsUnit) -> np.ndarray:
    rng = np.random.default_rng(100 * unit_index + channel)
    return rng.integers(0, 8000, (unit.n_frames, unit.rows, unit.cols), dtype=np.uint16)


def write_femtonics(path: Path, units: tuple[FemtonicsUnit, ...] = UNITS) -> Path:
    """`path` with one session `MSession_0` holding `units` as MUnit_0, MUnit_1, …"""
    import h5py

    with h5py.File(path, "w") as f:
        f.attrs["Uuid"] = np.arange(16, dtype=np.uint8)
        session = f.create_group("MSession_0")
        for j, unit in enumerate(units):
            group = session.create_group(f"MUnit_{j}")
            for k, name in enumerate(unit.channels):
                group.create_dataset(f"Channel_{k}", data=femtonics_frames(j, k, unit))
                group.attrs[f"Channel_{k}_Name"] = _text(name)
            _unit_attrs(group.attrs, unit, j)
    return path


def _unit_attrs(a: Any, unit: FemtonicsUnit, index: int) -> None:
    """The unit's attributes, on its h5py AttributeManager `a`."""
    a["VecChannelsSize"] = np.uint32(len(unit.channels))
    for axis, size in (("X", unit.cols), ("Y", unit.rows), ("Z", unit.n_frames)):
        a[f"{axis}Dim"] = np.array([size], np.uint64)
    for axis in "XY":
        a[f"{axis}AxisConversionConversionLinearScale"] = unit.pixel_um
        a[f"{axis}AxisConversionConversionLinearOffset"] = -12.5
        a[f"{axis}AxisConversionUnitName"] = _text("um")
    a["ZAxisConversionConversionLinearScale"] = unit.frame_ms
    a["ZAxisConversionConversionLinearOffset"] = 0.0
    a["ZAxisConversionUnitName"] = _text("ms")
    a["MeasurementDatePosix"] = np.uint64(START_POSIX + unit.after_s)
    a["MeasurementDateNanoSecs"] = np.uint32(250_000_000)
    a["ExperimenterUsername"] = _text("measurement")
    a["ExperimenterSetupID"] = _text("SETUP-1", "int16")
    a["CreatingMEScVersion"] = _text("4.5.0")
    a["Comment"] = _text(f"unit {index}")
