"""Hostile metadata and config input: each refused in plain words with the documented exit code, nothing written."""

from __future__ import annotations

import os
from pathlib import Path

import h5py
import numpy as np
import pytest

from cli_runner import nwbconvert
from conftest import COMPLETE_METADATA, SAMPLE_DATA

OE = SAMPLE_DATA / "openephys"
SETS = [f"--set={kv}" for kv in COMPLETE_METADATA]


def _convert(tmp_path: Path, *args: str | Path) -> tuple[int, str]:
    out = tmp_path / "out" / "o.nwb"
    out.parent.mkdir()
    result = nwbconvert("convert", OE, "-o", out, *args)
    assert "Traceback" not in result.stderr
    assert not any(out.parent.iterdir())
    return result.returncode, result.stderr


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b'lab: "a\\0b"\n', ["'lab'", "NUL"]),
        (b"subject:\n  species: a\x00b\n", ["line 2", "'subject.species'", "NUL"]),
        (b"lab: Gr\xfcn\n", ["not UTF-8", "offset 7", "0xfc"]),
        (b"lab: A\ninstitution: B\nlab: C\n", ["'lab'", "twice", "line 1", "line 3"]),
        (("a: " + "[" * 10000 + "]" * 10000 + "\n").encode(), ["more than 100 levels"]),
        (b"lab: x\n" + b"#" * (2 * 1024 * 1024) + b"\n", ["limit of 1 MB"]),
    ],
)
def test_hostile_metadata_file_exits_4(content: bytes, words: list[str], tmp_path: Path) -> None:
    path = tmp_path / "meta.yaml"
    path.write_bytes(content)
    code, err = _convert(tmp_path, "-m", path, *SETS)
    assert code == 4, err
    for word in words:
        assert word in err


@pytest.mark.parametrize("bom", ["utf-8-sig", "utf-16"])
def test_a_byte_order_mark_is_accepted(bom: str, tmp_path: Path) -> None:
    path = tmp_path / "meta.yaml"
    path.write_bytes("lab: Grün Lab\n".encode(bom))
    out = tmp_path / "o.nwb"
    result = nwbconvert("convert", OE, "-o", out, "-m", path, *SETS, "--no-validate")
    assert result.returncode == 0, result.stderr
    with h5py.File(out, "r") as nwb:
        assert nwb["general/lab"][()].decode() == "Grün Lab"


@pytest.mark.parametrize("kind", ["fifo", "device", "folder"])
def test_a_metadata_path_that_is_no_regular_file_is_refused_at_once(kind: str, tmp_path: Path) -> None:
    path = {"device": Path("/dev/zero"), "folder": tmp_path}.get(kind, tmp_path / "fifo.yaml")
    if kind == "fifo":
        os.mkfifo(path)
    code, err = _convert(tmp_path, "-m", path, *SETS)
    assert code == 4, err
    assert "not a regular file" in err


def test_session_config_with_a_duplicate_key_or_nul_exits_4(tmp_path: Path) -> None:
    config = tmp_path / "session.yaml"
    config.write_text(f"sources:\n  - path: {OE}\nsources:\n  - path: {OE}\n")
    result = nwbconvert("convert", "--config", config, "-o", tmp_path / "o.nwb")
    assert result.returncode == 4, result.stderr
    assert "'sources' is given twice, on line 1 and line 3" in result.stderr
    config.write_text(f'sources:\n  - path: "{OE}\\0x"\n')
    result = nwbconvert("convert", "--config", config, "-o", tmp_path / "o.nwb")
    assert result.returncode == 4, result.stderr
    assert "'sources[0].path'" in result.stderr and "NUL" in result.stderr


def test_study_config_with_a_duplicate_key_exits_4(tmp_path: Path) -> None:
    study = tmp_path / "study.yaml"
    study.write_text("source: raw/{subject_id}\nsource: raw/{subject_id}/x\n")
    result = nwbconvert("batch", study, "-o", tmp_path / "dandiset")
    assert result.returncode == 4, result.stderr
    assert "'source' is given twice" in result.stderr


def test_a_nul_in_a_set_value_exits_4_naming_the_key(tmp_path: Path) -> None:
    code, err = _convert(tmp_path, *SETS, '--set=keywords=["a\\0b"]')
    assert code == 4, err
    assert "'keywords.0'" in err and "NUL" in err


def test_many_unknown_keys_are_listed_at_most_ten_times(tmp_path: Path) -> None:
    path = tmp_path / "meta.yaml"
    path.write_text("".join(f"key{i}: v\n" for i in range(500)))
    code, err = _convert(tmp_path, "-m", path, *SETS)
    assert code == 4, err
    assert "500 unknown key(s)" in err and "and 490 more" in err and "'key9'" in err and "'key10'" not in err
    assert err.count("session_description") == 1


def _unknown_key_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if "not a known key" in line]


def test_many_unknown_keys_in_a_session_config_are_listed_at_most_ten_times(tmp_path: Path) -> None:
    """Each kind of place (top level, a source, `set:`) names its known keys once, whatever the number of keys."""
    config = tmp_path / "session.yaml"
    top = "".join(f"key{i}: v\n" for i in range(300))
    in_source = "".join(f"    field{i}: v\n" for i in range(5))
    in_set = "".join(f"  zzz{i}: blue\n" for i in range(200))
    config.write_text(f"sources:\n  - path: {OE}\n{in_source}set:\n{in_set}{top}")
    result = nwbconvert("convert", "--config", config, "-o", tmp_path / "o.nwb")
    assert result.returncode == 2, result.stderr  # not only metadata: a usage error
    err = result.stderr
    assert "505 problem(s) in the session config" in err and "and 495 more unknown key(s)" in err
    listed = _unknown_key_lines(err)
    assert len(listed) == 10  # in line order: the source's five, then five of `set:`
    assert listed[0] == (
        "  - line 3, sources[0].field0: not a known key (known keys: path, format, streams, sortings, probe, settings, "
        "name, start_time)"
    )
    assert listed[1] == "  - line 4, sources[0].field1: not a known key"
    assert listed[5].startswith("  - line 9, set.zzz0: not a known key (known keys: session_start_time, session_desc")
    assert listed[6] == "  - line 10, set.zzz1: not a known key"
    assert err.count("session_description") == 1 and err.count("(known keys:") == 2  # once per kind of place
    assert len(err) < 2000
    assert not (tmp_path / "o.nwb").exists()


def test_many_unknown_keys_in_a_study_config_are_listed_at_most_ten_times(tmp_path: Path) -> None:
    study = tmp_path / "study.yaml"
    study.write_text("source: raw/{subject_id}/{session_id}\n" + "".join(f"key{i}: v\n" for i in range(1000)))
    result = nwbconvert("batch", study, "-o", tmp_path / "dandiset")
    assert result.returncode == 2, result.stderr
    err = result.stderr
    assert "1000 problem(s) in the study config" in err and "and 990 more unknown key(s)" in err
    listed = _unknown_key_lines(err)
    assert len(listed) == 10 and listed[0].startswith("  - line 2, key0: not a known key (known keys: ")
    assert listed[9] == "  - line 11, key9: not a known key" and "key10" not in err
    assert err.count("(known keys:") == 1 and "Traceback" not in err
    assert not (tmp_path / "dandiset").exists()


def test_an_unknown_key_close_to_a_known_one_gets_it_suggested(tmp_path: Path) -> None:
    path = tmp_path / "meta.yaml"
    path.write_text("subject:\n  agee: P90D\n" + "".join(f"key{i}: v\n" for i in range(20)))
    code, err = _convert(tmp_path, "-m", path, *SETS)
    assert code == 4, err
    assert (
        "21 unknown key(s): line 2, 'subject.agee' (did you mean 'subject.age'?), line 3, 'key0' (known keys: " in err
    )
    assert "and 11 more" in err and err.count("(known keys:") == 1


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("0", ["'0' is a number", "ISO 8601"]),
        ("1850-01-01T00:00:00+00:00", ["before 1900 or in the future"]),
        ("2999-01-01T00:00:00+00:00", ["before 1900 or in the future"]),
    ],
)
def test_a_session_start_time_out_of_range_exits_4(value: str, words: list[str], tmp_path: Path) -> None:
    code, err = _convert(tmp_path, *SETS, f"--set=session_start_time={value}")
    assert code == 4, err
    for word in ["session_start_time", *words]:
        assert word in err


def test_a_session_id_with_a_slash_is_refused_before_writing(tmp_path: Path) -> None:
    code, err = _convert(tmp_path, *SETS, "--set=session_id=a/b")
    assert code == 4, err
    assert "session_id: 'a/b' must not contain '/'" in err
    assert "nothing was written" in err


@pytest.mark.parametrize("setting", ["source.sampling_rate=inf", "source.gain=nan", "source.offset=-inf"])
def test_raw_binary_settings_must_be_finite(setting: str, tmp_path: Path) -> None:
    source = tmp_path / "r.bin"
    np.zeros((100, 4), dtype="int16").tofile(source)
    layout = ["--set=source.sampling_rate=1000", "--set=source.dtype=int16", "--set=source.channels=4"]
    result = nwbconvert(
        "convert", source, "-o", tmp_path / "o.nwb", "--format", "raw-binary", *layout, f"--set={setting}"
    )
    assert result.returncode == 2, result.stderr
    assert f"{setting} must be a finite number" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "o.nwb").exists()


@pytest.mark.parametrize(
    ("rows", "where"),
    [
        (["path,subject_id,session_id", "{src}\0x,m1,1"], "line 2, column 1 ('path')"),
        (["path,subject_id,session_id", "{src},m\0,1"], "line 2, column 2 ('subject_id')"),
        (["path,subject_id,session_id,lab", "{src},m1,1,a\0b"], "line 2, column 4 ('lab')"),
        (["path,subject_id,sess\0ion_id", "{src},m1,1"], "line 1, column 3:"),
    ],
)
def test_a_nul_in_a_csv_manifest_cell_exits_4_naming_line_and_column(
    rows: list[str], where: str, tmp_path: Path
) -> None:
    manifest = tmp_path / "sessions.csv"
    manifest.write_text("\n".join(rows).format(src=SAMPLE_DATA / "spikeglx" / "Sample_g0") + "\n")
    result = nwbconvert("batch", manifest, "-o", tmp_path / "dandiset", *SETS[2:])
    assert result.returncode == 4, result.stderr
    assert f"Error: {manifest}: {where}" in result.stderr
    assert "holds a NUL character (byte 0)" in result.stderr and "Traceback" not in result.stderr
    assert "Value error" not in result.stderr
    assert not (tmp_path / "dandiset").exists()


def test_a_utf16_csv_manifest_is_refused_with_the_encoding_named(tmp_path: Path) -> None:
    manifest = tmp_path / "sessions.csv"
    manifest.write_bytes(f"path,subject_id\n{SAMPLE_DATA}/spikeglx/Sample_g0,m1\n".encode("utf-16-le"))  # no BOM
    result = nwbconvert("batch", manifest, "-o", tmp_path / "dandiset")
    assert result.returncode == 4, result.stderr
    assert f"{manifest}: line 1, column 1: the cell holds a NUL character" in result.stderr
    assert "saved as UTF-16: save it as UTF-8 CSV" in result.stderr
    assert not (tmp_path / "dandiset").exists()
