"""Odd real files that another reader opens: damaged copies of the shared recordings convert or are refused in
plain words (the vendor's reader or neo is the oracle)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

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


def _plexon_copy(folder: Path) -> tuple[Path, int]:
    """A copy of a real .plx file and the byte offset where its headers end (from neo's header layout)."""
    from neo.rawio import plexonrawio as layout

    plx = _copy(realdata("plexon/pyramid_plexon_sdk/16sp_lfp_with_2coords.plx"), folder)
    size = np.dtype(layout.GlobalHeader).itemsize
    header = np.frombuffer(plx.read_bytes()[:size], dtype=layout.GlobalHeader)[0]
    channel_bytes = [
        int(header[count]) * np.dtype(kind).itemsize
        for count, kind in (
            ("NumDSPChannels", layout.DspChannelHeader),
            ("NumEventChannels", layout.EventChannelHeader),
            ("NumSlowChannels", layout.SlowChannelHeader),
        )
    ]
    return plx, size + sum(channel_bytes)


def _assert_refused(result: Any, out: Path, *words: str) -> None:
    message = " ".join((result.stdout + result.stderr).split())
    assert result.returncode == 3, message
    for word in words:
        assert word in message
    assert "Error:" not in message.replace("Error: ", "", 1)  # no Python exception names after ours
    assert "Traceback" not in message
    assert list(out.parent.iterdir()) == []  # nothing written, nothing left


def test_plexon_header_with_timestamp_frequency_zero_is_refused_in_plain_words(tmp_path: Path) -> None:
    from neo.rawio import plexonrawio as layout

    plx, _ = _plexon_copy(tmp_path)
    offset = np.dtype(layout.GlobalHeader).fields["ADFrequency"][1]
    assert offset == 136  # MagicNumber, Version, Comment[128]
    assert int(np.frombuffer(plx.read_bytes()[offset : offset + 4], "<i4")[0]) == 40000
    _patch(plx, offset, np.int32(0).tobytes())
    out = tmp_path / "out" / "plx.nwb"
    out.parent.mkdir()
    result = nwbconvert("convert", plx, "-o", out, *SET)
    _assert_refused(result, out, "timestamp frequency (ADFrequency", "is 0", "cannot be timed", str(plx))


def test_plexon_file_of_headers_only_is_refused_in_plain_words(tmp_path: Path) -> None:
    import neo.rawio

    plx, headers_end = _plexon_copy(tmp_path)
    with plx.open("r+b") as f:
        f.truncate(headers_end)
    with pytest.raises(UnboundLocalError):  # neo's own message for this file
        neo.rawio.PlexonRawIO(filename=str(plx), progress_bar=False).parse_header()
    out = tmp_path / "out" / "plx.nwb"
    out.parent.mkdir()
    result = nwbconvert("convert", plx, "-o", out, *SET)
    _assert_refused(result, out, "no data block", f"{headers_end} bytes")
    assert "bl_header" not in result.stderr


def test_edf_series_are_named_after_their_sampling_rate(tmp_path: Path) -> None:
    result = nwbconvert("convert", realdata("edf/mne/test.edf"), "-o", tmp_path / "e.nwb", "--dry-run", *SET)
    assert result.returncode == 0, result.stderr
    assert "ElectricalSeries512Hz " in result.stdout
    assert "5120Hz" not in result.stdout


EDF_SIGNALS = (  # label, rate (Hz), unit
    ("EEG Fz", 512.0, "uV"),
    ("EEG Cz", 512.0, "uV"),
    ("EEG Oz", 256.0, "uV"),
    ("Temp", 256.0, "degC"),
    ("Resp", 0.5, "mV"),
)


def test_edf_with_several_rates_and_units_gets_unique_rate_names(tmp_path: Path) -> None:
    import neo.rawio
    import pyedflib

    edf = tmp_path / "multi.edf"
    headers: list[dict[str, str | int | float | None]] = [
        {"label": label, "dimension": unit, "sample_frequency": rate, "physical_max": 1000.0,
         "physical_min": -1000.0, "digital_max": 32767, "digital_min": -32768, "transducer": "", "prefilter": ""}
        for label, rate, unit in EDF_SIGNALS
    ]  # fmt: skip
    rng = np.random.default_rng(17)
    writer = pyedflib.EdfWriter(str(edf), len(headers), file_type=pyedflib.FILETYPE_EDFPLUS)
    writer.setSignalHeaders(headers)
    writer.writeSamples([rng.uniform(-900, 900, int(rate * 10)) for _, rate, _ in EDF_SIGNALS])
    writer.close()
    rawio = neo.rawio.EDFRawIO(filename=str(edf))
    rawio.parse_header()
    assert len(rawio.header["signal_streams"]) == 3  # neo: one stream per rate, named 'stream ((512.0,) Hz)'

    out = tmp_path / "multi.nwb"
    result = nwbconvert("convert", edf, "-o", out, *SET)
    assert result.returncode == 0, result.stderr
    with h5py.File(out, "r") as f:
        assert sorted(f["acquisition"]) == sorted(
            ["ElectricalSeries512Hz", "ElectricalSeries256Hz", "TimeSeries256Hz", "ElectricalSeries0p5Hz"]
        )
    reader = pyedflib.EdfReader(str(edf))
    try:
        for name, index, to_unit in (
            ("ElectricalSeries512Hz", 1, 1e-6),
            ("TimeSeries256Hz", 3, 1.0),
            ("ElectricalSeries0p5Hz", 4, 1e-3),
        ):
            series = series_arrays(out, name)
            column = 1 if name == "ElectricalSeries512Hz" else 0
            step = 2000.0 / 65535 * to_unit  # one digital step (neo's gain divides by 65536, pyedflib's by 65535)
            np.testing.assert_allclose(scaled(series)[:, column], reader.readSignal(index) * to_unit, atol=step)
            assert series["rate"] == EDF_SIGNALS[index][1]
    finally:
        reader.close()


def test_folder_holding_one_recording_file_is_read_as_that_file(tmp_path: Path) -> None:
    import neo.rawio

    session = tmp_path / "session1"
    session.mkdir()
    abf = session / "cell.abf"
    shutil.copyfile(realdata("abf/16d22006_kim_gapfree.abf"), abf)
    (session / "notes.txt").write_text("patched at 10:00\n")
    (session / "extra").mkdir()  # a folder of nothing recognisable adds no source (a second one: session_folder.py)
    (session / "extra" / "other.log").write_text("rig log\n")

    plan = nwbconvert("convert", session, "-o", tmp_path / "never.nwb", "--dry-run", *SET)
    assert plan.returncode == 0, plan.stderr
    assert f"{abf} (axon)" in " ".join(plan.stdout.split())  # the plan names the file it reads

    out = tmp_path / "cell.nwb"
    result = nwbconvert("convert", session, "-o", out, *SET)
    assert result.returncode == 0, result.stderr
    rawio = neo.rawio.AxonRawIO(filename=str(abf))
    rawio.parse_header()
    expected = rawio.rescale_signal_raw_to_float(
        rawio.get_analogsignal_chunk(0, 0, None, None, stream_index=0, channel_indexes=[0]),
        dtype="float64",
        stream_index=0,
        channel_indexes=[0],
    )
    series = series_arrays(out, "TimeSeriesSignals")  # channel 'IN 2', in dB
    assert series["unit"] == "dB"
    np.testing.assert_allclose(scaled(series), expected, rtol=1e-6)
    with h5py.File(out, "r") as f:
        source_files = f["general/source_script"][()]
    assert b"cell.abf" in source_files and b"notes.txt" not in source_files


def test_folder_holding_two_recording_files_is_a_session_folder(tmp_path: Path) -> None:
    """Two recordings of different readers in one folder are two sources of one session (session_folder.py)."""
    shutil.copyfile(realdata("edf/mne/test.edf"), tmp_path / "a.edf")
    shutil.copyfile(realdata("abf/16d22006_kim_gapfree.abf"), tmp_path / "b.abf")
    result = nwbconvert("convert", tmp_path, "-o", tmp_path / "out.nwb", *SET)
    assert result.returncode == 0, result.stderr
    with h5py.File(tmp_path / "out.nwb", "r") as f:
        assert {"ElectricalSeries512Hz", "CurrentClampSeriesIN3Sweep000"} <= set(f["acquisition"])
