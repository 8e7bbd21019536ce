"""Damaged copies of the real recordings: refusals in plain words (readers/plain.py, detection of damaged files)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cli_runner import nwbconvert
from conftest import COMPLETE_METADATA, realdata

SET = [arg for pair in COMPLETE_METADATA for arg in ("--set", pair)]
EXCEPTION_NAME = re.compile(r"\b[A-Z][a-zA-Z]*(Error|Exception)\b|Traceback")
MCS = "mcs_h5/2014-02-27T08-30-03W8SpikeCutoutsAndTimestampsAndRawData.h5"


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
    for exc in (short.value, missing.value, latin.value):
        assert not EXCEPTION_NAME.search(explain(exc, tmp_path))
