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


EDF = "edf/mne/test.edf"


def _patched(source: Path, target: Path, records: bytes | None = None, cut: int = 0) -> Path:
    """A copy of `source` with the header's data-record count set to `records` and `cut` bytes cut off its end."""
    shutil.copyfile(source, target)
    with target.open("r+b") as f:
        if records is not None:
            f.seek(236)
            f.write(records.ljust(8))
        f.truncate(source.stat().st_size - cut)
    return target


def _refused_by_pyedflib(path: Path) -> str:
    import pyedflib

    with pytest.raises(OSError) as refused:
        pyedflib.EdfReader(str(path))
    return str(refused.value)


def _calibration(source: Path) -> tuple[np.ndarray, np.ndarray]:
    """Per signal, the format's volts per digital step and offset in volts (physical = digital * cal + offset),
    from the header pyedflib reads in the intact file."""
    import pyedflib

    reader = pyedflib.EdfReader(str(source))
    try:
        headers: list[dict[str, Any]] = reader.getSignalHeaders()
    finally:
        reader.close()
    scale = {"uV": 1e-6, "mV": 1e-3, "V": 1.0}
    cal = np.array([(h["physical_max"] - h["physical_min"]) / (h["digital_max"] - h["digital_min"]) for h in headers])
    offset = np.array([h["physical_min"] for h in headers]) - np.array([h["digital_min"] for h in headers]) * cal
    units = np.array([scale[h["dimension"]] for h in headers])
    return cal * units, offset * units


def _assert_edf_equals_mne(out: Path, source: Path, intact: Path, series: str, reader: str = "read_raw_edf") -> Any:
    """The stored samples are MNE's, digit for digit: MNE's values in volts turned back into digital steps with
    the format's calibration. (The scaled values differ from MNE's by up to 1/(digital range + 1): neo's gain
    divides the physical range by the digital range + 1.)"""
    import mne

    raw = getattr(mne.io, reader)(source, preload=True, verbose="error")
    got = series_arrays(out, series)
    assert got["neurodata_type"] == "ElectricalSeries"
    assert got["channel_names"] == raw.ch_names
    assert got["rate"] == raw.info["sfreq"]
    cal, offset = _calibration(intact)
    eeg = [i for i, kind in enumerate(raw.get_channel_types()) if kind == "eeg"]
    assert len(eeg) >= len(raw.ch_names) - 1  # all but a stim (Status) channel
    expected = np.rint((raw.get_data(picks=eeg).T - offset[eeg]) / cal[eeg])
    assert got["data"].shape[0] == expected.shape[0]
    np.testing.assert_array_equal(got["data"][:, eeg], expected)
    np.testing.assert_allclose(scaled(got)[:, eeg], raw.get_data(picks=eeg).T, rtol=0.01, atol=1e-9)
    return raw


def test_edf_record_count_minus_one_is_read_from_the_file_size(tmp_path: Path) -> None:
    """A recording never stopped: the header says -1 records and the last record is cut short. pyedflib refuses
    the file; MNE reads the complete records, and so does nwbconvert, saying that the last one is left out."""
    intact = realdata(EDF)
    record = (intact.stat().st_size - 36096) // 6  # 36 096 header bytes, 6 records of 143 360 bytes
    edf = _patched(intact, tmp_path / "running.edf", b"-1", cut=record // 2)
    assert "Number of Datarecords" in _refused_by_pyedflib(edf)
    out = tmp_path / "running.nwb"
    result = nwbconvert("convert", edf, "-o", out, *SET)
    assert result.returncode == 0, result.stderr
    assert "incomplete last one" in result.stderr
    raw = _assert_edf_equals_mne(out, edf, intact, "ElectricalSeries512Hz")
    assert raw.n_times == 5 * 512
    notes = provenance(out)["notes"]
    assert [n["what"] for n in notes] == ["partial-record"]
    with h5py.File(out, "r") as f:
        labels = [v.decode() for v in f["events/EventsEpoch/label"][()]]
        onsets = f["events/EventsEpoch/timestamp"][()]
    in_mne = {(round(o, 6), d) for o, d in zip(raw.annotations.onset, raw.annotations.description, strict=True)}
    assert labels == ["type A", "type A", "type B", "type A"]
    assert {(round(o, 6), label) for o, label in zip(onsets, labels, strict=True)} <= in_mne


def test_edf_shorter_than_its_header_says_is_a_truncated_copy(tmp_path: Path) -> None:
    intact = realdata(EDF)
    record = (intact.stat().st_size - 36096) // 6
    edf = _patched(intact, tmp_path / "cut.edf", cut=2 * record)
    assert "Filesize" in _refused_by_pyedflib(edf)
    out = tmp_path / "cut.nwb"
    result = nwbconvert("convert", edf, "-o", out, *SET)
    assert result.returncode == 3, result.stderr
    assert "expected 6 data records" in result.stderr and "found 4 complete data records" in result.stderr
    assert "--allow-incomplete" in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()

    result = nwbconvert("convert", edf, "-o", out, "--allow-incomplete", *SET)
    assert result.returncode == 0, result.stderr
    assert "expected 6 data records" in result.stderr
    raw = _assert_edf_equals_mne(out, edf, intact, "ElectricalSeries512Hz")
    assert raw.n_times == 4 * 512
    (note,) = provenance(out)["notes"]
    assert note["what"] == "incomplete" and note["found"].startswith("4 complete data records")


def test_edf_longer_than_its_header_says_is_converted_as_declared_with_a_warning(tmp_path: Path) -> None:
    """pyedflib (and neo) read the 4 records the header declares of the 6 the file holds; MNE reads all 6. The
    declared ones are converted, and the 2 left out are said."""
    intact = realdata(EDF)
    edf = _patched(intact, tmp_path / "long.edf", b"4")
    out = tmp_path / "long.nwb"
    result = nwbconvert("convert", edf, "-o", out, *SET)
    assert result.returncode == 0, result.stderr
    assert "2 more than its header declares" in result.stderr.replace("\n", " ")
    (note,) = provenance(out)["notes"]
    assert (note["what"], note["expected"], note["found"]) == ("extra-records", "4 data records", "6 data records")
    import mne

    raw = mne.io.read_raw_edf(edf, preload=True, verbose="error")
    assert raw.n_times == 6 * 512
    got = series_arrays(out, "ElectricalSeries512Hz")
    cal, offset = _calibration(intact)
    eeg = [i for i, kind in enumerate(raw.get_channel_types()) if kind == "eeg"]
    expected = np.rint((raw.get_data(picks=eeg, stop=4 * 512).T - offset[eeg]) / cal[eeg])
    np.testing.assert_array_equal(got["data"][:, eeg], expected)


def _bdf(path: Path) -> Path:
    """A BDF+ file written by pyedflib: two 256 Hz channels in µV spanning most of the 24-bit range, 10 s."""
    import pyedflib

    headers: list[dict[str, Any]] = [
        {"label": label, "dimension": "uV", "sample_frequency": 256, "physical_max": 1000.0, "physical_min": -1000.0,
         "digital_max": 8388607, "digital_min": -8388608, "transducer": "", "prefilter": ""}
        for label in ("Fz", "Cz")
    ]  # fmt: skip
    t = np.arange(2560) / 256
    writer = pyedflib.EdfWriter(str(path), 2, file_type=pyedflib.FILETYPE_BDFPLUS)
    writer.setSignalHeaders(headers)
    writer.writeSamples([900 * np.sin(2 * np.pi * 3 * t), -700 * np.cos(2 * np.pi * 5 * t)])
    writer.writeAnnotation(1.5, -1, "go")
    writer.close()
    return path


@pytest.mark.parametrize("records", [None, b"-1"], ids=["as-written", "record-count-minus-one"])
def test_bdf_24_bit_samples_equal_mne(tmp_path: Path, records: bytes | None) -> None:
    """BDF samples keep their 24 bits (neo's EDF reader wraps them to int16), with the header pyedflib reads or,
    where it refuses it (-1 records), the one nwbconvert reads."""
    intact = _bdf(tmp_path / "written.bdf")
    bdf = _patched(intact, tmp_path / "test.bdf", records)
    if records is not None:
        _refused_by_pyedflib(bdf)
    out = tmp_path / "bdf.nwb"
    result = nwbconvert("convert", bdf, "-o", out, *SET)
    assert result.returncode == 0, result.stderr
    _assert_edf_equals_mne(out, bdf, intact, "ElectricalSeries256Hz", "read_raw_bdf")
    got = series_arrays(out, "ElectricalSeries256Hz")
    assert got["data"].dtype == np.int32
    assert np.abs(got["data"]).max() > 7_000_000  # beyond int16: the 24 bits were kept
    with h5py.File(out, "r") as f:
        assert [v.decode() for v in f["events/EventsEpoch/label"][()]] == ["go"]
        assert f["events/EventsEpoch/timestamp"][()].tolist() == [1.5]
