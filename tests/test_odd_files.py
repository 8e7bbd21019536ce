"""Odd real files that another reader opens: damaged copies of the shared recordings convert or are refused in
plain words (the vendor's reader or neo is the oracle)."""

from __future__ import annotations

import shutil
from pathlib import Path

import h5py
import numpy as np

from cli_runner import nwbconvert
from conftest import COMPLETE_METADATA, realdata
from helpers import scaled, series_arrays
from nwbconvert.units import volt_factor

SET = [f"--set={kv}" for kv in COMPLETE_METADATA]


def _copy(source: Path, folder: Path) -> Path:
    """A writable copy of the real file `source` (and its set members) in `folder`."""
    for member in source.parent.glob(source.stem + ".*"):
        shutil.copyfile(member, folder / member.name)
    return folder / source.name


def _patch(path: Path, offset: int, data: bytes) -> None:
    with path.open("r+b") as f:
        f.seek(offset)
        f.write(data)


def test_blackrock_label_with_an_embedded_nul_is_cut_there(tmp_path: Path) -> None:
    import neo.rawio

    ns2 = _copy(realdata("blackrock/ndi_matlab/testData.ns2"), tmp_path)
    header = ns2.read_bytes()[:4096]
    at = header.index(b"CC\x01\x00lfp 1\x00")  # channel 1's 16-byte electrode label
    _patch(ns2, at + 4 + 3, b"\x00")  # 'lfp 1' -> 'lfp\x001'
    rawio = neo.rawio.BlackrockRawIO(filename=str(ns2.with_suffix("")))
    rawio.parse_header()
    assert rawio.header["signal_channels"]["name"][0] == "lfp\x001"  # neo passes the NUL on

    out = tmp_path / "out.nwb"
    result = nwbconvert("convert", ns2, "-o", out, *SET)
    assert result.returncode == 0, result.stderr
    assert "Validated: no errors" in result.stdout + result.stderr
    series = series_arrays(out, "ElectricalSeriesNsx2")
    assert series["channel_names"][:3] == ["lfp", "lfp 2", "lfp 3"]
    expected = rawio.rescale_signal_raw_to_float(
        rawio.get_analogsignal_chunk(0, 0, 0, 2000, stream_index=0), dtype="float64", stream_index=0
    )
    to_volts = np.array([volt_factor(str(u)) for u in rawio.header["signal_channels"]["units"]])
    np.testing.assert_allclose(scaled(series)[:2000], expected * to_volts, rtol=1e-6)
    with h5py.File(out, "r") as f:
        assert len(f["units/id"]) == len(rawio.header["spike_channels"])
