"""EEG files in the variants real recorders write, which neo or pyedflib refuse and MNE reads: each converts
through the CLI and its samples equal MNE's (the oracle)."""

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
BV = "brainvision/mne/test.vhdr"
# the channels of the real header whose unit is empty (Ch2 'FP2,,0.5,') or absent (Ch3 'F3,,0.5'): µV by definition
UNITLESS = ("FP2", "F3")
VOLTAGE_CHANNELS = 26  # Ch1-26 are µV; BS, µS, ARU, uS, S and C follow


def _brainvision(folder: Path, edit: Any, encoding: str) -> Path:
    """A copy of the real BrainVision set in `folder`, header and marker texts edited and written in `encoding`."""
    source = realdata(BV)
    shutil.copyfile(source.with_suffix(".eeg"), folder / "test.eeg")
    for suffix in (".vhdr", ".vmrk"):
        text = source.with_suffix(suffix).read_text(encoding="utf-8")
        (folder / f"test{suffix}").write_bytes(edit(text, suffix).encode(encoding))
    return folder / "test.vhdr"


def _mne(vhdr: Path) -> Any:
    import mne

    return mne.io.read_raw_brainvision(vhdr, preload=True, verbose="error")


def _assert_equals_mne(out: Path, vhdr: Path) -> None:
    """The ElectricalSeries holds the 26 µV channels (the unitless two among them) in volts, equal to MNE's."""
    raw = _mne(vhdr)
    series = series_arrays(out, "ElectricalSeriesSignals")
    assert series["neurodata_type"] == "ElectricalSeries"
    assert series["unit"] == "volts"
    assert len(series["channel_names"]) == VOLTAGE_CHANNELS
    assert set(UNITLESS) <= set(series["channel_names"])
    expected = raw.get_data(picks=series["channel_names"]).T
    np.testing.assert_allclose(scaled(series), expected, rtol=1e-12, atol=0)
    assert series["rate"] == raw.info["sfreq"] == 1000.0


def _stimulus_labels(out: Path) -> list[str]:
    with h5py.File(out, "r") as f:
        return [v.decode() if isinstance(v, bytes) else v for v in f["events/EventsStimulus/label"][()]]


def _no_codepage(text: str, suffix: str) -> str:
    return text.replace("Codepage=UTF-8\n", "")


def test_brainvision_latin1_header_without_codepage(tmp_path: Path) -> None:
    """An older Recorder's header and marker file: Latin-1, no Codepage line, µ as the byte 0xB5."""
    vhdr = _brainvision(tmp_path, _no_codepage, "latin-1")
    assert b"\xb5V" in vhdr.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        vhdr.read_bytes().decode("utf-8")  # what neo's reader does with it
    out = tmp_path / "latin1.nwb"
    result = nwbconvert("convert", vhdr, "-o", out, *SET)
    assert result.returncode == 0, result.stderr
    assert "Validated: no errors" in result.stdout + result.stderr
    _assert_equals_mne(out, vhdr)
    mne_labels = [d.split("/", 1)[1] for d in _mne(vhdr).annotations.description if d.startswith("Stimulus/")]
    assert _stimulus_labels(out) == mne_labels
    with h5py.File(out, "r") as f:
        assert f["acquisition/TimeSeriesSignalsUS/data"].attrs["unit"] == "uS"  # Ch28 'µS' (0xB5 'S'), Ch30 'uS'
    assert provenance(out)["reader"] == "brainvision"


def test_brainvision_latin1_marker_label(tmp_path: Path) -> None:
    """A non-ASCII marker description in a Latin-1 .vmrk (MNE itself reads such a marker file as UTF-8 and fails:
    the expectation is the real file's labels with the one edited)."""

    def edit(text: str, suffix: str) -> str:
        return _no_codepage(text, suffix).replace("Mk2=Stimulus,S253,", "Mk2=Stimulus,S253 µ,")

    vhdr = _brainvision(tmp_path, edit, "latin-1")
    assert b"S253 \xb5," in vhdr.with_suffix(".vmrk").read_bytes()
    out = tmp_path / "marker.nwb"
    result = nwbconvert("convert", vhdr, "-o", out, *SET)
    assert result.returncode == 0, result.stderr
    original = [d.split("/", 1)[1] for d in _mne(realdata(BV)).annotations.description if d.startswith("Stimulus/")]
    assert original[0] == "S253"
    assert _stimulus_labels(out) == ["S253 µ", *original[1:]]


def test_brainvision_ansi_codepage_and_lowercase_common_infos(tmp_path: Path) -> None:
    """Codepage=ANSI (Windows-1252) and the `[Common infos]` spelling of NeurOne exports, without `[Common Infos]`."""

    def edit(text: str, suffix: str) -> str:
        return text.replace("Codepage=UTF-8", "Codepage=ANSI").replace("[Common Infos]", "[Common infos]")

    vhdr = _brainvision(tmp_path, edit, "cp1252")
    assert b"[Common Infos]" not in vhdr.read_bytes()
    out = tmp_path / "ansi.nwb"
    result = nwbconvert("convert", vhdr, "-o", out, *SET)
    assert result.returncode == 0, result.stderr
    _assert_equals_mne(out, vhdr)
    assert len(_stimulus_labels(out)) == sum(d.startswith("Stimulus/") for d in _mne(vhdr).annotations.description)


def test_brainvision_channels_without_unit_are_microvolts(tmp_path: Path) -> None:
    """The real UTF-8 file as it is: FP2 (empty unit) and F3 (no unit field) join the µV ElectricalSeries."""
    vhdr = realdata(BV)
    out = tmp_path / "real.nwb"
    result = nwbconvert("convert", vhdr, "-o", out, *SET)
    assert result.returncode == 0, result.stderr
    _assert_equals_mne(out, vhdr)
    with h5py.File(out, "r") as f:
        assert "acquisition/TimeSeriesSignalsNoUnit" not in f
        assert "acquisition/TimeSeriesSignalsU" not in f


def test_brainvision_header_without_common_infos_is_refused_in_plain_words(tmp_path: Path) -> None:
    def edit(text: str, suffix: str) -> str:
        return text.replace("[Common Infos]", "[Other]") if suffix == ".vhdr" else text

    vhdr = _brainvision(tmp_path, edit, "utf-8")
    out = tmp_path / "none.nwb"
    result = nwbconvert("convert", vhdr, "-o", out, *SET)
    assert result.returncode == 3, result.stderr
    assert "no [Common Infos] section" in result.stderr
    assert "KeyError" not in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()
