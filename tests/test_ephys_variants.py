"""Real vendor files in variants another reader opens: Neuralynx recordings with timestamp gaps neo refuses by
default, SpikeGLX runs of older versions and NP2.x header variants. Built from the real files in
../shared/realdata; checked against neo (and probeinterface) and literal tables of what was written."""

from __future__ import annotations

import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from cli_runner import nwbconvert
from conftest import COMPLETE_METADATA, realdata
from helpers import provenance, series_arrays

SET = [f"--set={kv}" for kv in COMPLETE_METADATA]

# --- Neuralynx: gaps -------------------------------------------------------------------------------------------
NCS_HEADER_BYTES = 16 * 1024
NCS_RECORD = np.dtype(
    [("timestamp", "<u8"), ("channel", "<u4"), ("rate", "<u4"), ("valid", "<u4"), ("samples", "<i2", (512,))]
)
GAPS_US = {8: 1_200_000, 14: 35_000, 19: 2_000}  # record index -> microseconds added from that record on


def _gapped_neuralynx(tmp_path: Path) -> Path:
    """The real 2 kHz ATLAS folder with three timestamp jumps (1.2 s, 35 ms, 2 ms) written into every .ncs."""
    folder = tmp_path / "nlx"
    folder.mkdir()
    for f in realdata("neuralynx/mne_testing_2kHz").iterdir():
        if f.suffix in (".ncs", ".nev"):
            shutil.copyfile(f, folder / f.name)
    for f in folder.glob("*.ncs"):
        records = np.memmap(f, dtype=NCS_RECORD, mode="r+", offset=NCS_HEADER_BYTES)
        for first, jump in GAPS_US.items():
            records["timestamp"][first:] += np.uint64(jump)
        records.flush()
        del records
    return folder


def test_neo_refuses_the_gapped_copy_by_default(tmp_path: Path) -> None:
    from neo.rawio import NeuralynxRawIO

    rawio = NeuralynxRawIO(dirname=str(_gapped_neuralynx(tmp_path)))
    with pytest.raises(ValueError, match="gap_tolerance_ms"):
        rawio.parse_header()


@pytest.mark.parametrize("single_file", [False, True], ids=["folder", "one-ncs"])
def test_neuralynx_gaps_are_written_as_timestamps(tmp_path: Path, single_file: bool) -> None:
    from neo.rawio import NeuralynxRawIO

    folder = _gapped_neuralynx(tmp_path)
    source = folder / "LAHC1.ncs" if single_file else folder
    out = tmp_path / "o.nwb"
    result = nwbconvert("convert", source, "-o", out, *SET, "--timezone", "UTC", "--no-validate")
    assert result.returncode == 0, result.stderr
    assert "3 gaps in the recording (longest 1.2 s); written with timestamps" in result.stdout + result.stderr
    notes = provenance(out)["notes"]
    assert [n["what"] for n in notes] == ["gaps"]

    if single_file:
        rawio = NeuralynxRawIO(dirname=str(folder), include_filenames=["LAHC1.ncs"], gap_tolerance_ms=0.25)
    else:
        rawio = NeuralynxRawIO(dirname=str(folder), gap_tolerance_ms=0.25)
    rawio.parse_header()
    assert rawio.segment_count(0) == 4
    sizes = [rawio.get_signal_size(0, s, 0) for s in range(4)]
    assert sizes == [8 * 512, 6 * 512, 5 * 512, 3 * 512 + 427]  # the real last record holds 427 samples
    expected = np.concatenate([rawio.get_analogsignal_chunk(0, s, stream_index=0) for s in range(4)])
    stamps = np.concatenate([rawio.get_signal_t_start(0, s, 0) + np.arange(n) / 2000.0 for s, n in enumerate(sizes)])
    with h5py.File(out, "r") as f:
        (name,) = list(f["acquisition"])
    series = series_arrays(out, name)
    assert series["rate"] is None
    np.testing.assert_array_equal(series["data"], expected)
    np.testing.assert_allclose(series["timestamps"], stamps, rtol=0, atol=1e-9)

    # the literal table: every record's first sample sits where its record timestamp (as written) says
    records = np.memmap(folder / "LAHC1.ncs", dtype=NCS_RECORD, mode="r", offset=NCS_HEADER_BYTES)
    written_s = (records["timestamp"].astype(np.int64) - int(records["timestamp"][0])) / 1e6
    at_records = series["timestamps"][np.arange(len(records)) * 512] - series["timestamps"][0]
    np.testing.assert_allclose(at_records, written_s, rtol=0, atol=2e-6)
    assert np.diff(series["timestamps"]).max() == pytest.approx(1.2 + 1 / 2000, abs=2e-6)
