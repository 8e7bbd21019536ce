"""AxoGraph files of all three kinds (digitized, graph, AxoGraph X), written in the vendor layout that neo's
AxographRawIO parses, convert sample for sample (neo reads them back as the oracle)."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from cli_runner import nwbconvert
from conftest import COMPLETE_METADATA
from helpers import scaled, series_arrays

SET = [f"--set={kv}" for kv in COMPLETE_METADATA]
RATE = 8192.0  # 1/RATE is exact in float32, the time column of the older kinds
COLUMNS = (
    ("Im (pA)", 0.01, 1e-12, "VoltageClampSeriesImSweep000"),
    ("Vm (mV)", 0.005, 1e-3, "CurrentClampSeriesVmSweep000"),
)


def _pascal80(text: str) -> bytes:
    raw = text.encode()
    return struct.pack(">B", len(raw)) + raw + b"\0" * (79 - len(raw))


def _utf16(text: str) -> bytes:
    raw = text.encode("utf-16-be")
    return struct.pack(">l", len(raw)) + raw


def write_axograph(path: Path, kind: str, samples: list[np.ndarray]) -> Path:
    """Big-endian columns as neo's AxographRawIO reads them: a time column, then one per channel. 'digitized'
    (AxGr version 2: int16 scaled by a gain), 'graph' (AxGr version 1: float32 values) or 'x' (axgx version 6:
    a series time column and int16 columns with gain and offset). The optional metadata after the columns is left
    out (neo stops at the end of file)."""
    n = len(samples[0])
    out = bytearray()
    if kind == "digitized":
        out += b"AxGr" + struct.pack(">HHl", 2, len(samples) + 1, n) + _pascal80("Time (s)")
        out += struct.pack(">ff", 0.0, 1 / RATE)
        for (title, gain, _, _), data in zip(COLUMNS, samples):
            out += struct.pack(">l", n) + _pascal80(title) + struct.pack(">f", gain) + data.astype(">i2").tobytes()
    elif kind == "graph":
        out += b"AxGr" + struct.pack(">HHl", 1, len(samples) + 1, n) + _pascal80("Time (s)")
        out += (np.arange(n) / RATE).astype(">f4").tobytes()
        for (title, gain, _, _), data in zip(COLUMNS, samples):
            out += struct.pack(">l", n) + _pascal80(title) + (data * gain).astype(">f4").tobytes()
    else:
        out += b"axgx" + struct.pack(">llll", 6, len(samples) + 1, n, 9) + _utf16("Time (s)")
        out += struct.pack(">dd", 0.0, 1 / RATE)
        for (title, gain, _, _), data in zip(COLUMNS, samples):
            out += struct.pack(">ll", n, 10) + _utf16(title) + struct.pack(">dd", gain, 0.0)
            out += data.astype(">i2").tobytes()
    path.write_bytes(bytes(out))
    return path


@pytest.mark.parametrize(("kind", "suffix"), [("digitized", ".axgd"), ("graph", ".axgd"), ("x", ".axgx")])
def test_axograph_converts_equal_to_neo(kind: str, suffix: str, tmp_path: Path) -> None:
    import neo.rawio

    rng = np.random.default_rng(5)
    samples = [rng.integers(-3000, 3000, 4096).astype("int16") for _ in COLUMNS]
    source = write_axograph(tmp_path / f"cell{suffix}", kind, samples)
    rawio = neo.rawio.AxographRawIO(filename=str(source))
    rawio.parse_header()
    assert rawio.header["signal_channels"]["name"].tolist() == ["Im", "Vm"]
    assert rawio.get_signal_size(0, 0, 0) == 4096
    expected = rawio.rescale_signal_raw_to_float(
        rawio.get_analogsignal_chunk(0, 0, None, None, stream_index=0, channel_indexes=[0, 1]),
        dtype="float64",
        stream_index=0,
        channel_indexes=[0, 1],
    )
    np.testing.assert_allclose(expected[:, 0], samples[0] * 0.01, rtol=1e-6)  # the file holds what we wrote

    out = tmp_path / "cell.nwb"
    result = nwbconvert("convert", source, "-o", out, *SET)
    assert result.returncode == 0, result.stderr
    assert "Validated: no errors" in result.stdout + result.stderr
    for column, (_, _, to_si, name) in enumerate(COLUMNS):
        series = series_arrays(out, name)
        assert series["rate"] == pytest.approx(RATE)
        assert series["unit"] == ("amperes" if column == 0 else "volts")
        np.testing.assert_allclose(scaled(series), expected[:, column] * to_si, rtol=1e-6)
