"""Incomplete copies of real recordings: a data file shorter than its header declares, or a missing header, data,
channel or event file, is refused (exit 3) with what was expected and found; with --allow-incomplete what is
there is converted, a warning printed and the shortfall recorded in the provenance. The samples that are there
equal what neo reads from the damaged copy."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cli_runner import nwbconvert
from conftest import COMPLETE_METADATA, realdata
from helpers import provenance, series_arrays


def convert(source: Path, out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    sets = [a for value in COMPLETE_METADATA for a in ("--set", value)]
    return nwbconvert("convert", source, "-o", out, *sets, *args)


def refused(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    """Exit 3, the copy said to look incomplete, each of `expected` in the message, no traceback."""
    assert result.returncode == 3, result.stdout + result.stderr
    message = " ".join(result.stderr.split())  # rich wraps long lines
    assert "the copy looks incomplete" in message
    assert "--allow-incomplete" in message
    for text in expected:
        assert text in message, (text, message)
    assert "Traceback" not in result.stderr


def kept(result: subprocess.CompletedProcess[str], out: Path, expected: str, found: str) -> dict[str, Any]:
    """Exit 0 with a warning on stderr and the shortfall in the file's provenance; the note recorded."""
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning:" in result.stderr
    notes = provenance(out)["notes"]
    matching = [n for n in notes if n["what"] == "incomplete" and expected in n["expected"] and found in n["found"]]
    assert matching, notes
    return matching[0]


def neo_chunk(rawio: Any, stream_index: int, block: int = 0, segment: int = 0) -> np.ndarray:
    return np.asarray(rawio.get_analogsignal_chunk(block, segment, stream_index=stream_index))


def stream_index(rawio: Any, name: str) -> int:
    names = [str(s["name"]) for s in rawio.header["signal_streams"]]
    return names.index(name)


# --- SpikeGLX ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def spikeglx_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run around the real Neuropixels 1.0 + NI-DAQ headers, 0.1 s of generated samples."""
    from nwbconvert.synthetic.spikeglx import write_spikeglx_from_meta

    headers = realdata("spikeglx_meta/np1_3B_g0")
    run = write_spikeglx_from_meta(tmp_path_factory.mktemp("sglx"), sorted(headers.glob("*.meta")), seconds=0.1)
    return run.folder


def _copy(folder: Path, tmp_path: Path) -> Path:
    target = tmp_path / folder.name
    shutil.copytree(folder, target)
    return target


def test_spikeglx_truncated_bin_is_refused_then_kept_as_neo_reads_it(spikeglx_run: Path, tmp_path: Path) -> None:
    from neo.rawio import SpikeGLXRawIO

    run = _copy(spikeglx_run, tmp_path)
    ap = next(run.rglob("*.imec0.ap.bin"))
    full = ap.stat().st_size
    assert full == 385 * 2 * 3000  # 385 saved channels, 0.1 s at 30 kHz
    os.truncate(ap, full // 2)
    out = tmp_path / "out.nwb"
    refused(convert(run, out), ap.name, "2 310 000 bytes (3 000 samples; fileSizeBytes", "1 155 000 bytes (1 500")
    assert not out.exists()

    note = kept(convert(run, out, "--allow-incomplete"), out, "2 310 000 bytes", "1 155 000 bytes")
    assert note["path"] == str(ap)
    rawio = SpikeGLXRawIO(dirname=str(run))
    rawio.parse_header()
    expected = neo_chunk(rawio, stream_index(rawio, "imec0.ap"))
    assert expected.shape == (1500, 384)
    np.testing.assert_array_equal(series_arrays(out, "ElectricalSeriesImec0AP")["data"], expected)


def test_spikeglx_partial_last_sample_is_refused_with_the_sizes(spikeglx_run: Path, tmp_path: Path) -> None:
    run = _copy(spikeglx_run, tmp_path)
    ap = next(run.rglob("*.imec0.ap.bin"))
    os.truncate(ap, 385 * 2 * 1000 + 7)  # neo refuses a size that is not whole samples
    out = tmp_path / "out.nwb"
    refused(convert(run, out), "expected 2 310 000 bytes", "found 770 007 bytes (1 000 whole samples)")
    result = convert(run, out, "--allow-incomplete")
    assert result.returncode == 3
    assert "cannot be read even with --allow-incomplete" in " ".join(result.stderr.split())
    assert not out.exists()


@pytest.mark.parametrize("removed", ["imec0.ap.meta", "nidq.bin"])
def test_spikeglx_missing_sibling_is_named_unless_its_stream_is_left_out(
    spikeglx_run: Path, tmp_path: Path, removed: str
) -> None:
    run = _copy(spikeglx_run, tmp_path)
    lost = next(run.rglob(f"*.{removed}"))
    lost.unlink()
    stream = removed.rsplit(".", 1)[0]
    out = tmp_path / "out.nwb"
    refused(convert(run, out, "--dry-run"), str(lost), f"the {stream} stream's", "found no such file")

    result = convert(run, out, "--allow-incomplete")
    note = kept(result, out, "the file", "no such file")
    assert note["path"] == str(lost)
    written = {n for n in provenance(out)["series"]}
    assert not any(stream.replace(".", "").lower() in n.lower() for n in written), written

    others = ["imec0.lf", "nidq"] if stream == "imec0.ap" else ["imec0.ap", "imec0.lf"]
    out2 = tmp_path / "out2.nwb"
    result = convert(run, out2, *(a for s in others for a in ("--stream", s)))
    assert result.returncode == 0, result.stderr
    assert "Warning:" not in result.stderr
    assert provenance(out2)["notes"] == []


# --- Blackrock ---------------------------------------------------------------------------------------------


def _blackrock(tmp_path: Path) -> Path:
    folder = tmp_path / "blackrock"
    shutil.copytree(realdata("blackrock/ndi_matlab"), folder)
    return folder


def test_blackrock_truncated_nsx_is_refused_then_its_whole_samples_kept(tmp_path: Path) -> None:
    from neo.rawio import BlackrockRawIO

    folder = _blackrock(tmp_path)
    ns2 = folder / "testData.ns2"
    header_and_packet = 2492 + 9  # the file's headers, then one data packet header (10 002 points of 33 channels)
    assert ns2.stat().st_size == header_and_packet + 10002 * 33 * 2
    os.truncate(ns2, header_and_packet + 4000 * 33 * 2 + 5)
    out = tmp_path / "out.nwb"
    refused(convert(folder, out), "testData.ns2", "expected 10 002 samples", "found 4 000 whole samples")
    assert not out.exists()

    kept(convert(folder, out, "--allow-incomplete"), out, "10 002 samples", "4 000 whole samples")
    original = BlackrockRawIO(filename=str(realdata("blackrock/ndi_matlab") / "testData"))
    original.parse_header()
    expected = neo_chunk(original, 0)[:4000]
    np.testing.assert_array_equal(series_arrays(out, "ElectricalSeriesNsx2")["data"], expected)


def test_blackrock_cut_nev_is_refused_then_the_events_there_kept(tmp_path: Path) -> None:
    from neo.rawio import BlackrockRawIO

    folder = _blackrock(tmp_path)
    nev = folder / "testData.nev"
    assert nev.stat().st_size == 3440 + 13794 * 112
    os.truncate(nev, 3440 + 107 * 112 + 59)  # 1 % of the file
    out = tmp_path / "out.nwb"
    refused(convert(folder, out), "testData.nev", "whole 112-byte packets", "found 107 packets and 59 bytes of a cut")

    kept(convert(folder, out, "--allow-incomplete"), out, "112-byte packets", "107 packets")
    damaged = BlackrockRawIO(filename=str(folder / "testData"))
    damaged.parse_header()
    assert damaged.event_count(0, 0, 0) == 24
    tables = provenance(out)["event_channels"]
    assert tables["EventsDigitalInputPort"]["events"] == 24


def test_plan_size_estimate_of_an_unreadable_stream_is_a_source_error(tmp_path: Path) -> None:
    """A reader told more samples than its file holds (no check for its format): exit 3's error, not a crash."""
    from dataclasses import replace

    from helpers import plan_of
    from nwbconvert.errors import SourceError
    from nwbconvert.model import Segment
    from nwbconvert.plan import make_plan
    from nwbconvert.readers.complete.traces import FileTraces

    plan = plan_of(realdata("blackrock/ndi_matlab") / "testData.ns2")
    session = plan.session
    short = tmp_path / "short.bin"
    short.write_bytes(b"\0" * 100)
    rec = session.recordings[0]
    traces = FileTraces(short, 0, rec.n_samples, len(rec.channels), np.dtype("<i2"), np.arange(len(rec.channels)))
    broken = replace(rec, segments=(Segment(0.0, traces),))
    with pytest.raises(SourceError, match="its first samples could not be read from the source"):
        make_plan(replace(session, recordings=(broken,)), plan.metadata)


# --- Neuralynx ---------------------------------------------------------------------------------------------


def _neuralynx(tmp_path: Path) -> Path:
    folder = tmp_path / "neuralynx"
    folder.mkdir()
    for file in realdata("neuralynx/mne_testing_2kHz").iterdir():
        if file.suffix in (".ncs", ".nev"):
            shutil.copyfile(file, folder / file.name)
    return folder


@pytest.mark.parametrize(
    ("name", "size", "expected"),
    [
        ("LAHC2.ncs", 16384 + 22 * 1044 + 544, ["whole 1 044-byte records", "found 22 records and 544 bytes of a cut"]),
        ("LAHC2.ncs", 16384 + 22 * 1044, ["expected 23 records (as many as LAHC1.ncs", "found 22 records"]),
        ("Events.nev", 16384 + 3 * 184 + 84, ["whole 184-byte records", "found 3 records and 84 bytes of a cut one"]),
    ],
    ids=["ncs-cut-record", "ncs-records-missing", "nev-cut-record"],
)
def test_neuralynx_cut_file_is_refused_naming_it(tmp_path: Path, name: str, size: int, expected: list[str]) -> None:
    folder = _neuralynx(tmp_path)
    assert (folder / name).stat().st_size == (16384 + 23 * 1044 if name.endswith(".ncs") else 16384 + 4 * 184)
    os.truncate(folder / name, size)
    out = tmp_path / "out.nwb"
    refused(convert(folder, out), str(folder / name), *expected)
    result = convert(folder, out, "--allow-incomplete")  # neo refuses what is there (or sizes it wrongly)
    assert result.returncode == 3
    assert "cannot be read even with --allow-incomplete" in " ".join(result.stderr.split())
    assert not out.exists()


def test_neuralynx_removed_channel_file_is_a_warning_and_the_others_equal_neo(tmp_path: Path) -> None:
    from neo.rawio import NeuralynxRawIO

    folder = _neuralynx(tmp_path)
    (folder / "LAHC2.ncs").unlink()
    out = tmp_path / "out.nwb"
    result = convert(folder, out)
    assert result.returncode == 0, result.stderr
    assert "no LAHC2.ncs" in " ".join(result.stderr.split())
    notes = [n for n in provenance(out)["notes"] if n["what"] == "missing-channel"]
    assert [n["found"] for n in notes] == ["1 missing"]

    rawio = NeuralynxRawIO(dirname=str(folder))
    rawio.parse_header()
    assert len(rawio.header["signal_channels"]) == 4
    expected = np.concatenate([neo_chunk(rawio, 0, 0, s) for s in range(rawio.segment_count(0))])
    (name,) = provenance(out)["series"]
    np.testing.assert_array_equal(series_arrays(out, name)["data"], expected)


# --- Open Ephys binary -------------------------------------------------------------------------------------

PROBE_B = "Record Node 101/experiment1/recording1/continuous/Neuropix-PXI-100.ProbeB"


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


# --- Open Ephys legacy -------------------------------------------------------------------------------------

LEGACY = "openephys_legacy/v0.6.7_OpenEphys/Record Node 101"
CH3 = "100_example-data_CH3.continuous"
CH5 = "100_example-data_CH5.continuous"


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


# --- BrainVision -------------------------------------------------------------------------------------------

EEG_BYTES = 7900 * 32 * 2  # 7 900 samples of 32 int16 channels


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


def test_blackrock_set_without_its_nev_is_a_warning_and_the_samples_equal_neo(tmp_path: Path) -> None:
    from neo.rawio import BlackrockRawIO

    folder = _blackrock(tmp_path)
    (folder / "testData.nev").unlink()
    out = tmp_path / "out.nwb"
    result = convert(folder, out)
    assert result.returncode == 0, result.stderr
    assert "has no testData.nev beside it" in " ".join(result.stderr.split())
    assert [(n["what"], n["found"]) for n in provenance(out)["notes"]] == [("missing-file", "testData.ns2")]
    rawio = BlackrockRawIO(filename=str(folder / "testData"))
    rawio.parse_header()
    np.testing.assert_array_equal(series_arrays(out, "ElectricalSeriesNsx2")["data"], neo_chunk(rawio, 0))


# --- batch -------------------------------------------------------------------------------------------------

STUDY_YAML = """\
source: raw/{subject_id}/{session_id}
metadata: [lab.yaml]
subjects: subjects/{subject_id}.yaml
timezone: UTC
"""


def test_batch_counts_an_incomplete_session_failed_unless_allowed(tmp_path: Path) -> None:
    """The SpikeGLX session whose .ap.meta is missing: failed (it was counted converted without its AP band);
    with --allow-incomplete converted, the shortfall in its file."""
    import json

    from nwbconvert.synthetic.study import write_study

    root = tmp_path / "study"
    sessions = write_study(root, subjects=1, sessions=2, seconds=0.2)
    (root / "study.yaml").write_text(STUDY_YAML)
    metas = sorted(p for s in sessions for p in s.path.rglob("*.ap.meta"))
    assert len(metas) == 1
    metas[0].unlink()

    messages: dict[str, str | None] = {}

    def run(out: Path, *args: str) -> dict[str, str]:
        done = nwbconvert("batch", "study.yaml", "-o", out, "--compression", "none", "--json", *args, cwd=root)
        sessions = json.loads(done.stdout)["result"]["sessions"]
        messages.update({s["key"]: s["message"] for s in sessions})
        return {s["key"]: s["status"] for s in sessions}

    failed = run(tmp_path / "refused")
    assert sorted(failed.values()) == ["converted", "failed"], failed
    allowed = run(tmp_path / "allowed", "--allow-incomplete")
    assert sorted(allowed.values()) == ["converted", "converted"], allowed
    (key,) = [k for k, status in failed.items() if status == "failed"]
    subject = key.split("_")[0]
    notes = provenance(tmp_path / "allowed" / subject / f"{key}_ecephys.nwb")["notes"]
    assert [(n["path"], n["found"]) for n in notes] == [(str(metas[0]), "no such file")]
    # the batch summary says it too: the converted session's message is its warning, the other has none
    assert messages[key] == f"Warning: {notes[0]['message']}"
    assert [m for k, m in messages.items() if k != key] == [None]
    log = (tmp_path / "allowed" / ".nwbconvert" / "logs" / f"{key}.log").read_text()
    assert f"warning: {notes[0]['message']}" in log


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


def test_neuralynx_events_file_cut_inside_its_header_is_refused_then_left_out(tmp_path: Path) -> None:
    folder = _neuralynx(tmp_path)
    nev = folder / "Events.nev"
    os.truncate(nev, 8560)  # half of it: neo leaves a file shorter than its header out without a word
    out = tmp_path / "out.nwb"
    refused(convert(folder, out), str(nev), "the header of Events.nev: expected a 16 384-byte header", "8 560 bytes")
    kept(convert(folder, out, "--allow-incomplete"), out, "16 384-byte header", "8 560 bytes")
    assert provenance(out)["event_channels"] == {}


def test_neuralynx_folder_without_events_file_is_a_warning(tmp_path: Path) -> None:
    folder = _neuralynx(tmp_path)
    (folder / "Events.nev").unlink()
    out = tmp_path / "out.nwb"
    result = convert(folder, out)
    assert result.returncode == 0, result.stderr
    assert "has no Events.nev" in " ".join(result.stderr.split())
    notes = [n for n in provenance(out)["notes"] if n["what"] == "missing-file"]
    assert [n["expected"] for n in notes] == ["Events.nev"]


def test_blackrock_event_packets_neo_drops_are_counted(tmp_path: Path) -> None:
    """A damaged insertion-reason byte: neo files the packet under no event channel and drops it; the .nev's
    packet count says an event is missing."""
    folder = _blackrock(tmp_path)
    nev = folder / "testData.nev"
    data = bytearray(nev.read_bytes())
    packets = np.frombuffer(bytes(data[3440:]), dtype=np.uint8).reshape(-1, 112)
    first_event = int(np.flatnonzero((packets[:, 4] == 0) & (packets[:, 5] == 0))[0])  # packet id 0
    data[3440 + first_event * 112 + 6] = 0  # its insertion reason
    nev.write_bytes(bytes(data))
    out = tmp_path / "out.nwb"
    refused(convert(folder, out, "--dry-run"), "the events of testData.nev: expected 10 042 events", "found 10 041")


def test_a_check_that_cannot_parse_a_file_leaves_it_to_the_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    """A check meeting a layout it does not know (here: one that fails) never fails a readable recording."""
    import struct

    import nwbconvert.readers.complete.neuralynx as neuralynx
    from nwbconvert.pipeline import ConvertOptions, read_session

    def broken(*args: object) -> list[object]:
        raise struct.error("unpack requires a buffer of 8 bytes")

    monkeypatch.setattr(neuralynx, "before", broken)
    monkeypatch.setattr(neuralynx, "after", broken)
    session = read_session(realdata("neuralynx/mne_testing_2kHz"), ConvertOptions())
    assert [len(r.channels) for r in session.recordings] == [5]
    assert not [n for n in session.notes if n.what in ("incomplete", "missing-channel", "missing-file")]


def test_openephys_binary_timestamps_shorter_than_sample_numbers_is_refused(tmp_path: Path) -> None:
    folder = _openephys_binary(tmp_path)
    timestamps = folder / PROBE_B / "timestamps.npy"
    np.save(timestamps, np.load(timestamps)[:60])
    result = convert(folder, tmp_path / "out.nwb", "--dry-run")
    refused(result, str(timestamps), "expected 100 rows (as many as sample_numbers.npy), found 60 rows")
