"""Damaged copies of the real recordings: the bounded fuzz run (scripts/fuzz_sources.py --quick), the harness's
own judgement, and refusals in plain words (readers/plain.py, detection of damaged files)."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from cli_runner import nwbconvert
from conftest import COMPLETE_METADATA, ROOT, realdata

SET = [arg for pair in COMPLETE_METADATA for arg in ("--set", pair)]
EXCEPTION_NAME = re.compile(r"\b[A-Z][a-zA-Z]*(Error|Exception)\b|Traceback")
MCS = "mcs_h5/2014-02-27T08-30-03W8SpikeCutoutsAndTimestampsAndRawData.h5"


def _harness() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fuzz_sources", ROOT / "scripts" / "fuzz_sources.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["fuzz_sources"] = module
    spec.loader.exec_module(module)
    return module


fuzz = _harness()


def test_the_bounded_fuzz_run_finds_no_failure(tmp_path: Path) -> None:
    """A few damaged copies of every format convert, warn or are refused in plain words; nothing crashes or is
    lost silently."""
    realdata(".")
    started = time.monotonic()
    table = tmp_path / "table.md"
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "fuzz_sources.py"), "--quick", "--jobs", "2", "--markdown", str(table)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    text = table.read_text()
    assert "No failures." in text
    rows = {line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| ")}
    assert {s.fmt for s in fuzz.SOURCES} <= set(rows)
    assert int(rows["**all**"].split("|")[2]) == len(fuzz.quick([m for s in fuzz.SOURCES for m in fuzz.mutants(s)]))
    print(f"bounded fuzz run: {time.monotonic() - started:.0f} s")


def test_mutants_are_the_same_every_run_and_damage_what_they_say(tmp_path: Path) -> None:
    realdata(".")
    source = next(s for s in fuzz.SOURCES if s.fmt == "brainvision")
    found = fuzz.mutants(source)
    assert [m.label for m in found] == [m.label for m in fuzz.mutants(source)]
    kinds = {m.kind for m in found}
    assert kinds == {"truncate-1", "truncate-50", "truncate-99", "flip", "zero-4k", "remove"}
    original = (realdata("brainvision/mne") / "test.eeg").read_bytes()
    damaged = []
    for attempt in range(2):
        for m in found:
            copy = fuzz.prepare(m.source, tmp_path / f"{attempt}-{found.index(m)}")
            fuzz.damage(m, copy)
            if m.file == "test.eeg" and m.kind != "remove":
                damaged.append((copy / "test.eeg").read_bytes())
            if m.kind == "remove":
                assert not (copy / m.file).exists() and (copy / "test.vhdr").exists()
    assert damaged[: len(damaged) // 2] == damaged[len(damaged) // 2 :]  # seeded: the same bytes twice
    one, half, most, zeroed = damaged[:4]
    assert (len(one), len(half), len(most)) == (5056, 252800, 500544)  # of 505 600 bytes
    assert len(zeroed) == len(original) and zeroed != original
    changed = [i for i in range(len(original)) if zeroed[i] != original[i]]
    assert changed[-1] - changed[0] < 4096 and all(zeroed[i] == 0 for i in changed)


def _run(code: int | None, out: str = "", counts: dict[str, int] | None = None, left: list[str] | None = None) -> Any:
    return fuzz.Run(code, out, counts, left or [], "cmd")


def test_the_harness_names_every_failure_class() -> None:
    m = fuzz.mutants(fuzz.SOURCES[0])[0]
    base = _run(0, "Wrote x.nwb", {"series": 1, "samples": 100, "channels": 2, "events": 3, "units": 0, "spikes": 0})
    cases = {
        "exit-70": _run(70, "Error: Unexpected error: something. This is a bug"),
        "hang": _run(None),
        "other-exit": _run(1, "Error: validation"),
        "traceback": _run(3, "Error: x\nTraceback (most recent call last):"),
        "exception-name": _run(3, "Error: x.rhd: could not be read (ValueError: mmap length)"),
        "leftover": _run(3, "Error: x", left=["x.nwb.tmp"]),
        "silent-loss": _run(0, "Wrote", {**base.counts, "samples": 50}),
        "refused-clean": _run(3, "Error: x.rhd: the copy looks incomplete: expected 4 samples, found 2."),
        "converted-complete": _run(0, "Wrote", dict(base.counts)),
        "converted-with-warning": _run(0, "Warning: x.rhd: expected 4, found 2\nWrote", {**base.counts, "samples": 1}),
    }
    for expected, run in cases.items():
        assert fuzz.classify(m, run, base).outcome == expected, expected
    refused_silently = fuzz.classify(m, _run(3, "nothing said"), None)
    assert refused_silently.outcome == "unexplained" and refused_silently.outcome in fuzz.FAILURES
    assert fuzz.classify(m, _run(3, "Error: one.\n\nAnother paragraph."), None).outcome == "unexplained"
    # a warning the undamaged copy gives too (gaps found) does not excuse a loss
    gaps = _run(0, "Warning: gaps found", base.counts)
    lost = _run(0, "Warning: gaps found", {**base.counts, "events": 0})
    assert fuzz.classify(m, lost, gaps).outcome == "silent-loss"
    # and the same warning naming each copy's own folder is the same warning
    moved = fuzz.Run(0, "Warning: /tmp/b/src/x.ncs: 2 gaps", {**base.counts, "events": 0}, [], "cmd", "/tmp/b")
    assert (
        fuzz.classify(
            m, moved, fuzz.Run(0, "Warning: /tmp/a/src/x.ncs: 2 gaps", base.counts, [], "cmd", "/tmp/a")
        ).outcome
        == "silent-loss"
    )


def test_a_cut_no_header_can_reveal_is_its_own_outcome_not_a_pass() -> None:
    """A BrainVision .eeg cut at a whole sample (its .vhdr declares no length): 'undeclared-shorter', shown apart;
    the same loss from another damage, or with events lost too, stays a silent loss."""
    source = next(s for s in fuzz.SOURCES if s.fmt == "brainvision")
    base = _run(0, "Wrote", {"series": 1, "samples": 47400, "channels": 32, "events": 5, "units": 0, "spikes": 0})
    shorter = _run(0, "Wrote", {**base.counts, "samples": 46926})
    assert fuzz.classify(fuzz.Mutant(source, "truncate-99", "test.eeg"), shorter, base).outcome == "undeclared-shorter"
    assert "undeclared-shorter" not in fuzz.FAILURES
    assert fuzz.classify(fuzz.Mutant(source, "zero-4k", "test.eeg"), shorter, base).outcome == "silent-loss"
    fewer_events = _run(0, "Wrote", {**base.counts, "samples": 46926, "events": 0})
    assert fuzz.classify(fuzz.Mutant(source, "truncate-99", "test.eeg"), fewer_events, base).outcome == "silent-loss"
    assert fuzz.classify(fuzz.Mutant(source, "truncate-99", "test.vmrk"), shorter, base).outcome == "silent-loss"


def test_contents_counts_what_the_nwb_file_holds(tmp_path: Path) -> None:
    """The harness's counts of a real conversion, against figures written out here (EDF: 139 ch at 512 Hz)."""
    edf = realdata("edf/mne/test.edf")
    counts = {}
    for stub in ("1", "0.5"):
        out = tmp_path / f"{stub}.nwb"
        result = nwbconvert("convert", edf, "-o", out, "--stub", stub, "--no-validate", *SET)
        assert result.returncode == 0, result.stderr
        counts[stub] = fuzz.contents(out)
    assert counts["1"] == {"series": 1, "samples": 512, "channels": 139, "events": 4, "units": 0, "spikes": 0}
    assert counts["0.5"]["samples"] == 256
    less = fuzz.classify(
        fuzz.Mutant(fuzz.SOURCES[0], "flip", "x"), _run(0, "", counts["0.5"]), _run(0, "", counts["1"])
    )
    assert less.outcome == "silent-loss" and "samples 512 -> 256" in less.reasons


def _damaged_copy(tmp_path: Path, keep: float) -> Path:
    data = realdata(MCS).read_bytes()
    copy = tmp_path / "w8.h5"
    copy.write_bytes(data[: int(len(data) * keep)])
    return copy


@pytest.mark.parametrize("keep", [0.01, 0.5])
def test_a_truncated_hdf5_file_is_refused_as_damaged_in_plain_words(tmp_path: Path, keep: float) -> None:
    copy = _damaged_copy(tmp_path, keep)
    result = nwbconvert("convert", copy, "-o", tmp_path / "x.nwb", *SET)
    assert result.returncode == 3, result.stderr
    assert "looks damaged" in result.stderr and "shorter than its header says" in result.stderr
    assert str(copy) in result.stderr.replace("\n", "")
    assert not EXCEPTION_NAME.search(result.stdout + result.stderr), result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w8.h5"]


def test_the_library_text_stays_in_the_debug_traceback(tmp_path: Path) -> None:
    copy = _damaged_copy(tmp_path, 0.5)
    result = nwbconvert("convert", copy, "-o", tmp_path / "x.nwb", "-f", "mcs-h5", "--debug", *SET)
    assert result.returncode == 3
    assert "Traceback" in result.stderr and "truncated file" in result.stderr  # h5py's own words, under --debug
    message = result.stderr[result.stderr.rindex("Error:") :]
    assert "shorter than its header says" in message and not EXCEPTION_NAME.search(message), message


def test_explain_names_the_short_file_and_the_missing_field(tmp_path: Path) -> None:
    """Exceptions the libraries really raise, in plain words: numpy's memmap of a file shorter than asked, a
    header dict without a field, a Latin-1 byte in a UTF-8 header."""
    import datetime

    import numpy as np

    from nwbconvert.readers.plain import explain

    data = tmp_path / "experiment1" / "continuous.dat"
    data.parent.mkdir()
    data.write_bytes(bytes(100))
    with pytest.raises(ValueError, match="mmap length") as short:
        np.memmap(data, dtype="int16", mode="r", shape=(1000,))
    said = explain(short.value, tmp_path)
    assert said.startswith("experiment1/continuous.dat is shorter than its header says"), said
    with pytest.raises(KeyError) as missing:
        _ = {"nSavedChans": "385"}["imSampRate"]
    assert explain(missing.value, data).startswith("the header has no field 'imSampRate'")
    with pytest.raises(UnicodeDecodeError) as latin:
        b"Unit=\xb5V".decode("utf-8")
    assert "not utf-8 text, at byte 5" in explain(latin.value, data)
    with pytest.raises(ValueError, match="day is out of range") as date:
        datetime.date(2020, 2, 31)
    assert explain(date.value, data) == "the recording's date or time in the header is not a valid date"
    npy = tmp_path / "spike_times.npy"
    np.save(npy, np.arange(241))
    npy.write_bytes(npy.read_bytes()[:500])  # numpy: "Failed to read all data for array ... not fully written?"
    with pytest.raises(ValueError, match="read all data") as half:
        np.load(npy)
    assert explain(half.value, tmp_path) == (
        "a data file is shorter than its header says: the copy looks truncated or incompletely copied"
    )
    for exc in (short.value, missing.value, latin.value, date.value, half.value):
        assert not EXCEPTION_NAME.search(explain(exc, tmp_path))


def test_a_truncated_abf_is_refused_as_shorter_than_its_header_says(tmp_path: Path) -> None:
    """neo's own words ('ABF header implies ... exceeds the file size') become the plain sentence."""
    data = realdata("abf/16d22006_kim_gapfree.abf").read_bytes()
    copy = tmp_path / "cut.abf"
    copy.write_bytes(data[: len(data) // 100])
    result = nwbconvert("convert", copy, "-o", tmp_path / "x.nwb", *SET)
    assert result.returncode == 3, result.stderr
    message = " ".join(result.stderr.split())
    assert f"{copy}: could not be read as Axon Binary File" in message
    assert "the file is shorter than its header says" in message and not EXCEPTION_NAME.search(message), message


def test_a_damaged_channel_file_of_a_folder_is_named(tmp_path: Path) -> None:
    """Open Ephys legacy with a 4 KiB block of CH1 zeroed: neo finds its timestamps broken; the refusal names the
    file and the damage, and nothing else of neo's text."""
    source = next(s for s in fuzz.SOURCES if s.key == "openephys-legacy/v067")
    mutant = next(m for m in fuzz.mutants(source) if m.kind == "zero-4k" and m.file.endswith("_CH1.continuous"))
    copy = fuzz.prepare(source, tmp_path)
    fuzz.damage(mutant, copy)
    result = nwbconvert("convert", copy / source.target, "-o", tmp_path / "x.nwb", *SET)
    assert result.returncode == 3, result.stderr
    message = " ".join(result.stderr.split())
    assert "(the timestamps in 100_example-data_CH1.continuous are damaged: they jump, are zero or go back" in message
    assert not EXCEPTION_NAME.search(message) and not (tmp_path / "x.nwb").exists(), message
