"""Incomplete copies of real Open Ephys (binary and legacy) and BrainVision recordings: refused (exit 3) with what
was expected and found, or with --allow-incomplete converted as neo reads the damaged copy, the shortfall recorded.
(The helpers and the other formats: test_incomplete.py.)"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import realdata
from helpers import provenance, series_arrays
from test_incomplete import convert, kept, neo_chunk, refused, stream_index

PROBE_B = "Record Node 101/experiment1/recording1/continuous/Neuropix-PXI-100.ProbeB"
LEGACY = "openephys_legacy/v0.6.7_OpenEphys/Record Node 101"
CH3 = "100_example-data_CH3.continuous"
CH5 = "100_example-data_CH5.continuous"
EEG_BYTES = 7900 * 32 * 2  # 7 900 samples of 32 int16 channels


def _openephys_binary(tmp_path: Path) -> Path:
    folder = tmp_path / "oe"
    shutil.copytree(realdata("openephys_binary/aind_np_multiexp"), folder)
    for file in folder.rglob("*"):
        file.chmod(0o755 if file.is_dir() else 0o644)
    return folder


def test_openephys_binary_short_continuous_dat_is_refused_then_kept_as_neo_reads_it(tmp_path: Path) -> None:
    from neo.rawio import OpenEphysBinaryRawIO

    folder = _openephys_binary(tmp_path)
    dat = folder / PROBE_B / "continuous.dat"
    assert dat.stat().st_size == 100 * 384 * 2
    os.truncate(dat, 40 * 384 * 2)
    out = tmp_path / "out.nwb"
    refused(convert(folder, out), str(dat), "expected 76 800 bytes (100 samples in sample_numbers.npy)", "30 720 bytes")

    kept(convert(folder, out, "--allow-incomplete"), out, "100 samples", "40 whole samples")
    rawio = OpenEphysBinaryRawIO(dirname=str(folder))
    rawio.parse_header()
    expected = neo_chunk(rawio, stream_index(rawio, "Record Node 101#Neuropix-PXI-100.ProbeB"))
    assert expected.shape == (40, 384)
    np.testing.assert_array_equal(series_arrays(out, "ElectricalSeriesProbeBBlock1")["data"], expected)


def test_openephys_binary_recording_without_structure_oebin_is_named(tmp_path: Path) -> None:
    folder = _openephys_binary(tmp_path)
    oebin = folder / "Record Node 101/experiment3/recording1/structure.oebin"
    oebin.unlink()
    out = tmp_path / "out.nwb"
    refused(convert(folder, out, "--dry-run"), str(oebin), "the header of Record Node 101/experiment3/recording1")

    kept(convert(folder, out, "--allow-incomplete"), out, "structure.oebin", "no such file")
    series = provenance(out)["series"]
    assert sorted(n for n in series if n.startswith("ElectricalSeriesProbeB")) == [
        "ElectricalSeriesProbeBBlock1",
        "ElectricalSeriesProbeBBlock2",
    ]


def test_openephys_binary_missing_sample_numbers_is_named(tmp_path: Path) -> None:
    folder = _openephys_binary(tmp_path)
    (folder / PROBE_B / "sample_numbers.npy").unlink()
    result = convert(folder, tmp_path / "out.nwb", "--dry-run")
    refused(result, "found no sample_numbers.npy", "Neuropix-PXI-100.ProbeB")


def test_openephys_binary_declared_streams_without_continuous_folder_are_a_warning(tmp_path: Path) -> None:
    """The real spikes-and-events copy: structure.oebin declares 16 channels whose continuous/ folder is not
    there; its units and events are converted, and the missing stream is said."""
    folder = realdata("openephys_binary/oe_tools_v067_spikes_events")
    result = convert(folder, tmp_path / "out.nwb", "--dry-run")
    assert result.returncode == 0, result.stderr
    message = " ".join(result.stderr.split())
    assert "Warning:" in message
    assert "declares continuous streams (File_Reader-100.example_data) but the recording folder has no" in message


def _legacy(tmp_path: Path) -> Path:
    folder = tmp_path / "legacy"
    folder.mkdir()
    for file in realdata(LEGACY).iterdir():
        shutil.copyfile(file, folder / file.name)
    return folder


def _legacy_neo(folder: Path) -> np.ndarray:
    from neo.rawio import OpenEphysRawIO

    rawio = OpenEphysRawIO(dirname=str(folder))
    rawio.parse_header()
    return neo_chunk(rawio, 0)


@pytest.mark.parametrize(
    ("size", "expected", "found"),
    [
        (1024 + 60 * 2070, "expected 130 records (as many as 100_example-data_CH1.continuous", "found 60 records"),
        (1024 + 60 * 2070 + 100, "expected whole 2 070-byte records after its 1 024-byte", "60 records and 100 bytes"),
    ],
    ids=["shorter-file", "cut-record"],
)
def test_openephys_legacy_short_channel_file_is_refused_then_kept_as_neo_reads_it(
    tmp_path: Path, size: int, expected: str, found: str
) -> None:
    folder = _legacy(tmp_path)
    assert (folder / CH3).stat().st_size == 1024 + 130 * 2070
    os.truncate(folder / CH3, size)
    out = tmp_path / "out.nwb"
    refused(convert(folder, out), str(folder / CH3), expected, found)

    kept(convert(folder, out, "--allow-incomplete"), out, "", "60 records")
    samples = _legacy_neo(folder)
    assert samples.shape == (60 * 1024, 16)  # neo clips every channel to the shortest file
    (name,) = provenance(out)["series"]
    np.testing.assert_array_equal(series_arrays(out, name)["data"], samples)


def test_openephys_legacy_channel_file_listed_in_structure_but_missing_is_refused(tmp_path: Path) -> None:
    folder = _legacy(tmp_path)
    (folder / CH5).unlink()
    out = tmp_path / "out.nwb"
    refused(convert(folder, out, "--dry-run"), "expected 16 files, found 15 files; no 100_example-data_CH5")
    kept(convert(folder, out, "--allow-incomplete"), out, "16 files", "15 files")
    (name,) = provenance(out)["series"]
    assert len(provenance(out)["series"][name]["channel_ids"]) == 15


def test_openephys_legacy_numbering_hole_without_structure_is_a_warning(tmp_path: Path) -> None:
    folder = _legacy(tmp_path)
    (folder / CH5).unlink()
    (folder / "structure.openephys").unlink()
    out = tmp_path / "out.nwb"
    result = convert(folder, out)
    assert result.returncode == 0, result.stderr
    assert f"no {CH5}" in " ".join(result.stderr.split())
    assert [n["what"] for n in provenance(out)["notes"]] == ["missing-channel"]
    (name,) = provenance(out)["series"]
    np.testing.assert_array_equal(series_arrays(out, name)["data"], _legacy_neo(folder))


def _brainvision(tmp_path: Path) -> Path:
    folder = tmp_path / "bv"
    folder.mkdir()
    for file in realdata("brainvision/mne").iterdir():
        shutil.copyfile(file, folder / file.name)
    return folder / "test.vhdr"


def assert_series_equal_neo(out: Path, rawio: Any) -> None:
    """Every written series holds neo's raw samples of its channels (by channel id)."""
    chunk = neo_chunk(rawio, 0)
    ids = [str(i) for i in rawio.header["signal_channels"]["id"]]
    for name, record in provenance(out)["series"].items():
        columns = [ids.index(c) for c in record["channel_ids"]]
        np.testing.assert_array_equal(series_arrays(out, name)["data"], chunk[:, columns], err_msg=name)


def test_brainvision_partial_last_sample_is_refused_then_kept_as_neo_reads_it(tmp_path: Path) -> None:
    from neo.rawio import BrainVisionRawIO

    vhdr = _brainvision(tmp_path)
    eeg = vhdr.with_suffix(".eeg")
    assert eeg.stat().st_size == EEG_BYTES
    os.truncate(eeg, 3950 * 64 + 10)
    out = tmp_path / "out.nwb"
    refused(convert(vhdr, out), str(eeg), "whole samples of 32 channels × 2 bytes", "3 950 samples and 10 bytes")

    kept(convert(vhdr, out, "--allow-incomplete"), out, "whole samples", "3 950 samples")
    rawio = BrainVisionRawIO(filename=str(vhdr))
    rawio.parse_header()
    assert rawio.get_signal_size(0, 0, 0) == 3950
    assert_series_equal_neo(out, rawio)


def test_brainvision_eeg_shorter_than_its_markers_reach_is_refused(tmp_path: Path) -> None:
    vhdr = _brainvision(tmp_path)
    os.truncate(vhdr.with_suffix(".eeg"), 79 * 64)  # 1 % of the file, whole samples
    out = tmp_path / "out.nwb"
    refused(convert(vhdr, out), "expected at least 7 700 samples (test.vmrk has a marker at sample 7700)", "found 79")


def test_brainvision_half_vmrk_is_refused_then_converted_without_its_markers(tmp_path: Path) -> None:
    vhdr = _brainvision(tmp_path)
    vmrk = vhdr.with_suffix(".vmrk")
    text = vmrk.read_bytes()
    assert len([line for line in text.splitlines() if line.startswith(b"Mk")]) == 14
    vmrk.write_bytes(text[: len(text) // 2])
    out = tmp_path / "out.nwb"
    refused(convert(vhdr, out), str(vmrk), "the markers of test.vmrk: expected whole lines", "last line is cut")
    kept(convert(vhdr, out, "--allow-incomplete"), out, "whole lines", "last line is cut")
    assert provenance(out)["event_channels"] == {}


def test_brainvision_marker_missing_from_the_numbering_is_refused(tmp_path: Path) -> None:
    vhdr = _brainvision(tmp_path)
    vmrk = vhdr.with_suffix(".vmrk")
    lines = vmrk.read_bytes().splitlines(keepends=True)
    vmrk.write_bytes(b"".join(line for line in lines if not line.startswith(b"Mk5=")))
    refused(convert(vhdr, tmp_path / "out.nwb", "--dry-run"), "expected 14 markers (Mk1 to Mk14), found 13 markers")


def test_openephys_binary_event_arrays_of_different_lengths_are_refused(tmp_path: Path) -> None:
    folder = _openephys_binary(tmp_path)
    states = folder / "Record Node 101/experiment1/recording1/events/NI-DAQmx-103.PXIe-6341/TTL/states.npy"
    full = np.load(states)
    assert full.shape == (2394,)
    np.save(states, full[:1000])
    out = tmp_path / "out.nwb"
    result = convert(folder, out, "--dry-run")
    refused(result, str(states), "expected 2 394 rows (as many as full_words.npy), found 1 000 rows")
    kept(convert(folder, out, "--allow-incomplete"), out, "2 394 rows", "1 000 rows")


def test_openephys_binary_timestamps_shorter_than_sample_numbers_is_refused(tmp_path: Path) -> None:
    folder = _openephys_binary(tmp_path)
    timestamps = folder / PROBE_B / "timestamps.npy"
    np.save(timestamps, np.load(timestamps)[:60])
    result = convert(folder, tmp_path / "out.nwb", "--dry-run")
    refused(result, str(timestamps), "expected 100 rows (as many as sample_numbers.npy), found 60 rows")


def test_brainvision_set_renamed_without_editing_its_header_is_complete(tmp_path: Path) -> None:
    """The .vhdr still names test.eeg/test.vmrk, the files are run2.*: neo reads them by the header's own name,
    and so does the completeness check (it refused the set as missing its data file)."""
    from neo.rawio import BrainVisionRawIO

    vhdr = _brainvision(tmp_path)
    for suffix in (".vhdr", ".eeg", ".vmrk"):
        vhdr.with_suffix(suffix).rename(vhdr.with_name("run2" + suffix))
    renamed = vhdr.with_name("run2.vhdr")
    out = tmp_path / "out.nwb"
    result = convert(renamed, out)
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr and provenance(out)["notes"] == []
    rawio = BrainVisionRawIO(filename=str(renamed))
    rawio.parse_header()
    assert_series_equal_neo(out, rawio)
    renamed.with_suffix(".eeg").unlink()  # and a data file that is gone by either name is still missing
    refused(convert(renamed, tmp_path / "again.nwb"), "the file run2.vhdr names (run2.eeg)", "no such file")
