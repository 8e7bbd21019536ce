"""Incomplete copies of real recordings: a data file shorter than its header declares, or a missing header, data,
channel or event file, is refused (exit 3) with what was expected and found; with --allow-incomplete what is
there is converted, a warning printed and the shortfall recorded in the provenance. The samples that are there
equal what neo reads from the damaged copy. (Open Ephys and BrainVision: test_incomplete_openephys_brainvision.py.)"""

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


def test_spikeglx_partial_last_sample_is_refused_then_its_whole_samples_kept(
    spikeglx_run: Path, tmp_path: Path
) -> None:
    """A copy cut at an odd byte (neo alone refuses its size): refused with the sizes, then with --allow-incomplete
    its 1 000 whole samples written, equal to the complete run's first 1 000."""
    from neo.rawio import SpikeGLXRawIO

    complete = SpikeGLXRawIO(dirname=str(spikeglx_run))
    complete.parse_header()
    expected = neo_chunk(complete, stream_index(complete, "imec0.ap"))[:1000]
    run = _copy(spikeglx_run, tmp_path)
    ap = next(run.rglob("*.imec0.ap.bin"))
    os.truncate(ap, 385 * 2 * 1000 + 7)
    out = tmp_path / "out.nwb"
    refused(convert(run, out), "expected 2 310 000 bytes", "found 770 007 bytes (1 000 whole samples)")
    assert not out.exists()
    kept(convert(run, out, "--allow-incomplete"), out, "2 310 000 bytes", "770 007 bytes")
    np.testing.assert_array_equal(series_arrays(out, "ElectricalSeriesImec0AP")["data"], expected)


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
def test_neuralynx_cut_file_is_refused_naming_it_then_left_out(
    tmp_path: Path, name: str, size: int, expected: list[str]
) -> None:
    """Refused with the sizes; with --allow-incomplete the file neo cannot read beside the others is left out,
    saying so, and the other channels equal neo's reading of the copy without it."""
    folder = _neuralynx(tmp_path)
    assert (folder / name).stat().st_size == (16384 + 23 * 1044 if name.endswith(".ncs") else 16384 + 4 * 184)
    os.truncate(folder / name, size)
    out = tmp_path / "out.nwb"
    refused(convert(folder, out), str(folder / name), *expected)
    result = convert(folder, out, "--allow-incomplete")
    assert result.returncode == 0, result.stderr
    assert f"{folder / name}: left out" in " ".join(result.stderr.split())
    notes = provenance(out)["notes"]
    assert [n["path"] for n in notes if n["what"] == "left-out"] == [str(folder / name)]
    assert [n["path"] for n in notes if n["what"] == "incomplete"] == [str(folder / name)]
    assert_neuralynx_equal_neo(out, folder, 4 if name.endswith(".ncs") else 5, exclude=[name])
    events = sum(e["events"] for e in provenance(out)["event_channels"].values())
    if name == "Events.nev":
        assert events == 0  # the cut events file was left out with the warning above
    else:
        assert events > 0


def assert_neuralynx_equal_neo(out: Path, folder: Path, channels: int, exclude: list[str] | None = None) -> None:
    """The file's one series holds what neo reads from `folder` (less `exclude`): `channels` channels, every
    segment."""
    from neo.rawio import NeuralynxRawIO

    rawio = NeuralynxRawIO(dirname=str(folder), exclude_filenames=exclude)
    rawio.parse_header()
    assert len(rawio.header["signal_channels"]) == channels
    expected = np.concatenate([neo_chunk(rawio, 0, 0, s) for s in range(rawio.segment_count(0))])
    (series,) = provenance(out)["series"]
    np.testing.assert_array_equal(series_arrays(out, series)["data"], expected)


def test_neuralynx_removed_channel_file_is_a_warning_and_the_others_equal_neo(tmp_path: Path) -> None:
    folder = _neuralynx(tmp_path)
    (folder / "LAHC2.ncs").unlink()
    out = tmp_path / "out.nwb"
    result = convert(folder, out)
    assert result.returncode == 0, result.stderr
    assert "no LAHC2.ncs" in " ".join(result.stderr.split())
    notes = [n for n in provenance(out)["notes"] if n["what"] == "missing-channel"]
    assert [n["found"] for n in notes] == ["1 missing"]

    assert_neuralynx_equal_neo(out, folder, 4)


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
