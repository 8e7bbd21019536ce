"""Multi Channel Systems HDF5 files that spikeinterface's reader rejects and McsPyDataTools (the vendor's library)
reads: every analog stream converts, values and times equal McsPy's."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

from cli_runner import nwbconvert
from conftest import COMPLETE_METADATA, realdata
from helpers import provenance, scaled, series_arrays

SET = [f"--set={kv}" for kv in COMPLETE_METADATA]
MCS = "mcs_h5/2014-02-27T08-30-03W8SpikeCutoutsAndTimestampsAndRawData.h5"
STREAMS = "Data/Recording_0/AnalogStream"
AUX_STRETCHES = [[10_000_000, 0, 2999], [15_000_000, 3000, 5999]]  # µs, first, last: a 2 s gap between them


def _aux_stream(f: h5py.File) -> None:
    """Stream_1: an auxiliary stream in the vendor layout, 2 channels at 1 kHz, ADZero 100, two stretches."""
    electrode = f[f"{STREAMS}/Stream_0"]
    aux = f.create_group(f"{STREAMS}/Stream_1")
    for key, value in electrode.attrs.items():
        aux.attrs[key] = value
    aux.attrs["DataSubType"] = b"Auxiliary"
    aux.attrs["Label"] = b"Aux"
    aux.attrs["StreamGUID"] = b"7c1e3f2a-0000-4000-8000-000000000001"
    rng = np.random.default_rng(3)
    aux.create_dataset("ChannelData", data=rng.integers(-2000, 2000, size=(2, 6000), dtype=np.int16))
    aux.create_dataset("ChannelDataTimeStamps", data=np.array(AUX_STRETCHES, dtype=np.int64))
    info = electrode["InfoChannel"][()][:2].copy()
    for i, row in enumerate(info):
        row["ChannelID"], row["RowIndex"], row["Label"] = 8 + i, i, f"A{i + 1}".encode()
        row["Unit"], row["Exponent"], row["ADZero"], row["Tick"], row["ConversionFactor"] = b"V", -6, 100, 1000, 3
        info[i] = row
    aux.create_dataset("InfoChannel", data=info)
    aux["InfoChannel"].attrs["InfoVersion"] = 1


def _vendor_file(folder: Path) -> Path:
    """The real MCS file with its electrode stream starting at 10 s (ChannelDataTimeStamps [[10 000 000, 0,
    158 023]]) and an auxiliary stream added; the version attributes McsPy asks for are added too."""
    path = folder / "w8.h5"
    shutil.copyfile(realdata(MCS), path)
    with h5py.File(path, "r+") as f:
        stream = f[f"{STREAMS}/Stream_0"]
        stream.attrs["StreamInfoVersion"] = 1
        stream["InfoChannel"].attrs["InfoVersion"] = 1
        stamps = stream["ChannelDataTimeStamps"]
        assert stamps[()].tolist() == [[0, 0, 158023]]
        stamps[0, 0] = 10_000_000
        _aux_stream(f)
    return path


def _mcspy(path: Path) -> Any:
    """McsPy's view of the file (keep it: the file closes when it goes)."""
    import McsPy.McsData

    McsPy.McsData.VERBOSE = False
    return McsPy.McsData.RawData(str(path))


def test_spikeinterface_rejects_the_timestamps(tmp_path: Path) -> None:
    from spikeinterface.extractors import read_mcsh5

    path = _vendor_file(tmp_path)
    with pytest.raises(AssertionError, match="ChannelDataTimeStamps"):
        read_mcsh5(path, stream_id=0)


def test_every_analog_stream_equals_mcspy(tmp_path: Path) -> None:
    path = _vendor_file(tmp_path)
    out = tmp_path / "mcs.nwb"
    result = nwbconvert("convert", path, "-o", out, *SET)
    assert result.returncode == 0, result.stderr
    assert "Validated: no errors" in result.stdout + result.stderr
    assert provenance(out)["reader"] == "mcs-h5"
    raw = _mcspy(path)
    streams = raw.recordings[0].analog_streams
    assert sorted(streams) == [0, 1]
    for stream_id, name, kind in (
        (0, "ElectricalSeriesStream0", "ElectricalSeries"),
        (1, "TimeSeriesStream1", "TimeSeries"),
    ):
        stream = streams[stream_id]
        got = series_arrays(out, name)
        assert got["neurodata_type"] == kind
        infos = sorted(stream.channel_infos.values(), key=lambda c: c.row_index)
        values = np.column_stack([stream.get_channel_in_range(c.channel_id)[0] for c in infos])
        np.testing.assert_allclose(scaled(got), values, rtol=1e-12, atol=0)
        times_us, unit = stream.get_channel_sample_timestamps(infos[0].channel_id)
        assert str(unit) == "microsecond"
        times = np.asarray(times_us, dtype=float) * 1e-6
        if got["rate"] is not None:
            assert got["rate"] == infos[0].sampling_frequency.magnitude
            np.testing.assert_allclose(got["starting_time"] + np.arange(len(times)) / got["rate"], times, atol=1e-9)
        else:
            np.testing.assert_allclose(got["timestamps"], times, rtol=0, atol=1e-9)
    assert series_arrays(out, "ElectricalSeriesStream0")["starting_time"] == 10.0
    aux = series_arrays(out, "TimeSeriesStream1")
    assert aux["rate"] is None and aux["timestamps"][3000] - aux["timestamps"][2999] == pytest.approx(2.001)


def test_timestamps_beyond_the_samples_are_a_truncated_copy(tmp_path: Path) -> None:
    path = _vendor_file(tmp_path)
    with h5py.File(path, "r+") as f:
        f[f"{STREAMS}/Stream_1/ChannelDataTimeStamps"][1, 2] = 7999  # 2 000 samples more than ChannelData holds
    out = tmp_path / "cut.nwb"
    result = nwbconvert("convert", path, "-o", out, *SET)
    assert result.returncode == 3, result.stderr
    assert "expected 8000 samples (ChannelDataTimeStamps), found 6000 samples (ChannelData)" in result.stderr
    assert not out.exists()
    result = nwbconvert("convert", path, "-o", out, "--allow-incomplete", *SET)
    assert result.returncode == 0, result.stderr
    assert len(series_arrays(out, "TimeSeriesStream1")["data"]) == 6000
