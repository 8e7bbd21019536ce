"""DANDI metadata is checked before anything is written; every problem is named with its key."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_runner import nwbconvert
from conftest import COMPLETE_METADATA, ROOT, SAMPLE_DATA

OE = SAMPLE_DATA / "openephys"  # its header start time carries a zone (UTC)
SPIKEGLX = SAMPLE_DATA / "spikeglx" / "Sample_g0"  # its header start time is naive local time


def _without(key: str) -> list[str]:
    return [f"--set={kv}" for kv in COMPLETE_METADATA if not kv.startswith(key + "=")]


@pytest.mark.parametrize(
    ("key", "args"),
    [
        ("subject.subject_id", _without("subject.subject_id")),
        ("subject.species", _without("subject.species")),
        ("subject.sex", _without("subject.sex")),
        ("subject.age", _without("subject.age")),
        ("subject.species", [*_without("subject.species"), "--set=subject.species=mouse"]),
        ("subject.species", [*_without("subject.species"), "--set=subject.species=Felis catus"]),
        ("subject.sex", [*_without("subject.sex"), "--set=subject.sex=male"]),
        ("subject.age", [*_without("subject.age"), "--set=subject.age=90 days"]),
        ("subject.subject_id", [*_without("subject.subject_id"), "--set=subject.subject_id=a/b"]),
    ],
)
def test_missing_or_malformed_field_exits_4_naming_it(key: str, args: list[str], tmp_path: Path) -> None:
    out = tmp_path / "out.nwb"
    result = nwbconvert("convert", OE, "-o", out, *args)
    assert result.returncode == 4, result.stderr
    assert key in result.stderr
    assert "e.g." in result.stderr  # an example value to copy
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written, not even a temporary file


def test_all_problems_reported_together(tmp_path: Path) -> None:
    result = nwbconvert("convert", OE, "-o", tmp_path / "out.nwb")
    assert result.returncode == 4
    for key in ("subject.subject_id", "subject.species", "subject.sex", "subject.age"):
        assert key in result.stderr
    assert "4 problems" in result.stderr
    assert "did you mean" not in result.stderr
    assert "subject.sex: is missing (one of M, F, U, O)" in result.stderr


def test_a_sex_that_is_no_dandi_code_gets_the_codes_and_a_guess(tmp_path: Path) -> None:
    args = [*_without("subject.sex"), "--set=subject.sex=female"]
    result = nwbconvert("convert", OE, "-o", tmp_path / "o.nwb", *args)
    assert result.returncode == 4
    assert "subject.sex: 'female' must be one of M, F, U, O; e.g. --set subject.sex=F" in result.stderr


def test_common_species_name_gets_a_suggestion(tmp_path: Path) -> None:
    result = nwbconvert(
        "convert", OE, "-o", tmp_path / "o.nwb", *_without("subject.species"), "--set=subject.species=mouse"
    )
    assert "did you mean 'Mus musculus'" in result.stderr


def test_naive_header_time_needs_a_timezone(tmp_path: Path) -> None:
    args = _without("session_start_time")
    result = nwbconvert("convert", SPIKEGLX, "-o", tmp_path / "o.nwb", *args)
    assert result.returncode == 4
    assert "session_start_time" in result.stderr and "--timezone" in result.stderr
    assert "2026-01-15T10:00:00" in result.stderr  # the header value it found
    ok = nwbconvert("convert", SPIKEGLX, "-o", tmp_path / "o.nwb", *args, "--timezone", "America/New_York", "-q")
    assert ok.returncode == 0, ok.stderr
    info = nwbconvert("info", tmp_path / "o.nwb", "--json")
    assert '"session_start_time": "2026-01-15T10:00:00-05:00"' in info.stdout


def test_unknown_timezone_is_a_usage_error(tmp_path: Path) -> None:
    result = nwbconvert(
        "convert", SPIKEGLX, "-o", tmp_path / "o.nwb", *COMPLETE_METADATA_ARGS, "--timezone", "Mars/Base"
    )
    assert result.returncode == 2
    assert "Mars/Base" in result.stderr


COMPLETE_METADATA_ARGS = [f"--set={kv}" for kv in COMPLETE_METADATA]


def test_layers_later_wins(tmp_path: Path) -> None:
    lab = tmp_path / "lab.yaml"
    lab.write_text("lab: Lab A\ninstitution: Uni A\nsubject:\n  species: Rattus norvegicus\n  sex: M\n")
    session = tmp_path / "session.yaml"
    session.write_text("lab: Lab B\nsubject:\n  subject_id: '007'\n  sex: F\n  age: P30D\n")
    out = tmp_path / "o.nwb"
    result = nwbconvert("convert", OE, "-o", out, "-m", lab, "-m", session, "--set", "subject.age=P31D", "-q", "--json")
    assert result.returncode == 0, result.stderr
    from pynwb import NWBHDF5IO

    with NWBHDF5IO(str(out), "r") as io:
        nwb = io.read()
        assert nwb.lab == "Lab B"  # session file over lab file
        assert nwb.institution == "Uni A"  # kept from the lab file
        assert nwb.subject.species == "Rattus norvegicus"
        assert nwb.subject.sex == "F"
        assert nwb.subject.subject_id == "007"  # stays a string
        assert nwb.subject.age == "P31D"  # --set over both files
        assert nwb.session_start_time.isoformat() == "2026-01-15T10:00:00+00:00"  # from the header (UTC)


def test_metadata_file_errors_name_file_line_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("lab: A\nsubject:\n  subject_id: m1\n  speceis: Mus musculus\n")
    result = nwbconvert("convert", OE, "-o", tmp_path / "o.nwb", "-m", bad)
    assert result.returncode == 4
    assert str(bad) in result.stderr and "line 4" in result.stderr and "speceis" in result.stderr


def test_unknown_set_key_is_a_usage_error(tmp_path: Path) -> None:
    result = nwbconvert("convert", OE, "-o", tmp_path / "o.nwb", "--set", "subject.name=Bob")
    assert result.returncode == 2
    assert "subject.name" in result.stderr and "subject.subject_id" in result.stderr


def test_example_configs_are_complete(tmp_path: Path) -> None:
    out = tmp_path / "o.nwb"
    result = nwbconvert("convert", OE, "-o", out, "-m", ROOT / "configs" / "session.yaml", "-q")
    assert result.returncode == 0, result.stderr
    assert out.exists()


def test_species_accepted_without_dandi_are_in_dandis_table() -> None:
    """The fast path (no dandi import) must accept only names that DANDI upload itself interprets."""
    from dandi.metadata.util import extract_species

    from nwbconvert.metadata.dandi import COMMON_SPECIES

    for name in COMMON_SPECIES:
        found = extract_species({"species": name})
        assert found is not None and found.name.split(" - ")[0] == name
