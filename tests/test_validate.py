"""`nwbconvert validate` on a catalogue of good and broken NWB files: exact check ids, severities, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cli_runner import nwbconvert
from conftest import COMPLETE_METADATA, SAMPLE_DATA, realdata
from nwb_catalogue import GOOD_SUBJECT, build_fresh, write_nwb


def _findings(result_stdout: str) -> dict[str, list[dict]]:
    doc = json.loads(result_stdout)
    assert doc["nwbconvert"] == 1 and doc["kind"] == "validation"
    return {Path(f["file"]).name: f["findings"] for f in doc["result"]["files"]}


def _errors(findings: list[dict]) -> set[str]:
    return {f["check_id"] for f in findings if f["severity"] == "error"}


CASES = {  # file (written by nwb_catalogue.RECIPES) -> the error it must get
    "no_subject.nwb": "check_subject_exists",
    "no_species.nwb": "check_subject_species_exists",
    "species_mouse.nwb": "check_subject_species_form",
    "species_felis.nwb": "dandi.species_uninterpretable",
    "sex_male.nwb": "check_subject_sex",
    "age_90_days.nwb": "check_subject_age",
    "slash_id.nwb": "check_subject_id_no_slashes",
    "naive_start.nwb": "dandi.session_start_time_no_timezone",
    "truncated.nwb": "file.truncated",
    "zeroed.nwb": "schema.failed",
    "broken_structure.nwb": "file.damaged",
    "text.nwb": "file.not_hdf5",
    "empty.nwb": "file.empty",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The catalogue folder and, outside it, a file whose damage makes HDF5 loop forever."""
    root = tmp_path_factory.mktemp("catalogue")
    (root / "files").mkdir()
    build_fresh(root / "files", root / "looping.nwb")
    return root / "files", root / "looping.nwb"


@pytest.fixture(scope="module")
def catalogue(built: tuple[Path, Path]) -> Path:
    return built[0]


@pytest.fixture(scope="module")
def serial_run(catalogue: Path) -> tuple[int, dict[str, list[dict]], float]:
    started = time.monotonic()
    result = nwbconvert("validate", catalogue, "--json", "--timeout", "60", "-j", "1")
    return result.returncode, _findings(result.stdout), time.monotonic() - started


def test_valid_file_has_no_error_and_exits_0(catalogue: Path) -> None:
    result = nwbconvert("validate", catalogue / "valid.nwb", "--json")
    assert result.returncode == 0, result.stdout
    assert _errors(_findings(result.stdout)["valid.nwb"]) == set()


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_broken_file_gets_its_check_as_an_error(name: str, catalogue: Path) -> None:
    result = nwbconvert("validate", catalogue / name, "--json")
    assert result.returncode == 1
    findings = _findings(result.stdout)[name]
    expected = CASES[name]
    assert expected in _errors(findings), findings
    finding = next(f for f in findings if f["check_id"] == expected)
    assert finding["fix"] and finding["message"] and finding["location"]


def test_truncated_file_says_expected_and_actual_size(catalogue: Path) -> None:
    result = nwbconvert("validate", catalogue / "truncated.nwb", "--format", "jsonl")
    (finding,) = [json.loads(line) for line in result.stdout.splitlines()]
    size = (catalogue / "truncated.nwb").stat().st_size
    assert finding["check_id"] == "file.truncated" and f"the file has {size}" in finding["message"]
    assert "expects" in finding["message"]


def test_shared_identifier_is_an_error_in_both_files(serial_run: tuple[int, dict, float]) -> None:
    _, findings, _ = serial_run
    for twin in ("twin_a.nwb", "twin_b.nwb"):
        assert "dandi.identifier_not_unique" in _errors(findings[twin])
    assert "dandi.identifier_not_unique" not in _errors(findings["valid.nwb"])


def test_whole_folder_reports_every_file_and_exits_1(serial_run: tuple[int, dict, float]) -> None:
    code, findings, _ = serial_run
    assert code == 1
    assert set(findings) == {"valid.nwb", "twin_a.nwb", "twin_b.nwb", *CASES}
    for name, check in CASES.items():
        assert check in _errors(findings[name]), name


def test_parallel_equals_serial(catalogue: Path, serial_run: tuple[int, dict, float]) -> None:
    result = nwbconvert("validate", catalogue, "--json", "-j", "2", "--timeout", "60")
    assert result.returncode == serial_run[0]
    assert _findings(result.stdout) == serial_run[1]
    assert list(_findings(result.stdout)) == list(serial_run[1])  # same stable order


@pytest.mark.parametrize("name", ["sex_male.nwb", "zeroed.nwb", "truncated.nwb", "broken_structure.nwb", "valid.nwb"])
def test_one_file_split_across_workers_equals_one_worker(name: str, catalogue: Path) -> None:
    # fewer files than workers: the layers of one file run in separate processes and are merged
    split = nwbconvert("validate", catalogue / name, "--json", "-j", "2")
    single = nwbconvert("validate", catalogue / name, "--json", "-j", "1")
    assert split.returncode == single.returncode
    assert _findings(split.stdout) == _findings(single.stdout)


def stalled_store(folder: Path) -> Path:
    """A Zarr store whose array metadata file is a pipe: reading it blocks, like a file on a stalled network mount
    (the store's integrity check, run first by every worker, reads it)."""
    store = folder / "stalled.nwb.zarr"
    (store / "data").mkdir(parents=True)
    (store / ".zgroup").write_text('{"zarr_format": 2}')
    os.mkfifo(store / "data" / ".zarray")
    return store


def test_a_hanging_file_times_out_and_the_batch_goes_on(catalogue: Path, tmp_path: Path) -> None:
    stalled = stalled_store(tmp_path)
    started = time.monotonic()
    result = nwbconvert(
        "validate", stalled, catalogue / "valid.nwb", catalogue / "sex_male.nwb", "--json", "--timeout", "3", "-j", "2"
    )
    elapsed = time.monotonic() - started
    findings = _findings(result.stdout)
    assert result.returncode == 1
    (timeout,) = findings["stalled.nwb.zarr"]
    assert timeout["check_id"] == "file.timeout" and "timed out after 3 s" in timeout["message"]
    assert _errors(findings["valid.nwb"]) == set()
    assert "check_subject_sex" in _errors(findings["sex_male.nwb"])
    assert elapsed < 30


def test_a_file_on_which_hdf5_loops_forever_times_out_and_the_others_are_checked(built: tuple[Path, Path]) -> None:
    catalogue, looping = built
    reading = (  # visititems stops at the first callback that returns something: this one returns None
        "import h5py, sys; h5py.File(sys.argv[1], 'r')"
        ".visititems(lambda n, o: [o[()]] and None if hasattr(o, 'dtype') else None)"
    )
    with pytest.raises(subprocess.TimeoutExpired):  # the premise, by h5py alone: reading every dataset never ends
        subprocess.run([sys.executable, "-c", reading, str(looping)], capture_output=True, timeout=15)
    started = time.monotonic()
    result = nwbconvert("validate", looping, catalogue / "valid.nwb", "--json", "--timeout", "5", "-j", "2")
    findings = _findings(result.stdout)
    assert result.returncode == 1
    (timeout,) = findings["looping.nwb"]
    assert timeout["check_id"] == "file.timeout" and "timed out after 5 s" in timeout["message"]
    assert _errors(findings["valid.nwb"]) == set()
    assert time.monotonic() - started < 60


def test_missing_path_is_a_usage_error_before_any_work(catalogue: Path) -> None:
    result = nwbconvert("validate", catalogue / "valid.nwb", "/no/such.nwb")
    assert result.returncode == 2
    assert "/no/such.nwb" in result.stderr and "Nothing was validated" in result.stderr
    assert result.stdout == ""


def test_ignore_and_min_severity(catalogue: Path) -> None:
    ignored = nwbconvert("validate", catalogue / "sex_male.nwb", "--ignore", "check_subject_sex", "--json")
    assert ignored.returncode == 0
    assert "check_subject_sex" not in ignored.stdout
    loud = nwbconvert(
        "validate",
        SAMPLE_DATA.parent / "configs",
        catalogue / "valid.nwb",
        "--format",
        "jsonl",
        "--min-severity",
        "error",
    )
    assert loud.returncode == 0 and loud.stdout == ""


FINDING_KEYS = {"file", "severity", "check_id", "layer", "location", "message", "fix"}


def test_json_output_matches_its_schema(catalogue: Path) -> None:
    import jsonschema

    from nwbconvert.validate.report import json_schema

    doc = json.loads(nwbconvert("validate", catalogue, "--json").stdout)
    jsonschema.validate(doc, json_schema())
    lines = nwbconvert("validate", catalogue, "--format", "jsonl").stdout.splitlines()
    assert len(lines) == sum(len(f["findings"]) for f in doc["result"]["files"]) > len(CASES)
    for line in lines:
        finding = json.loads(line)
        assert set(finding) == {"nwbconvert", *FINDING_KEYS} and finding["nwbconvert"] == 1, finding
        jsonschema.validate(finding, json_schema(jsonl=True))


def test_schema_rejects_an_unknown_severity_or_layer(catalogue: Path) -> None:
    import jsonschema

    from nwbconvert.validate.report import json_schema

    doc = json.loads(nwbconvert("validate", catalogue / "sex_male.nwb", "--json").stdout)
    (report,) = doc["result"]["files"]
    finding = report["findings"][0]
    for key, wrong in [("severity", "fatal"), ("severity", "ERROR"), ("layer", "nwbinspector"), ("layer", "")]:
        bad = {**finding, key: wrong}
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(
                {**doc, "result": {**doc["result"], "files": [{**report, "findings": [bad]}]}}, json_schema()
            )
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({"nwbconvert": 1, **bad}, json_schema(jsonl=True))


def test_each_layer_keeps_its_json_string(serial_run: tuple[int, dict, float]) -> None:
    _, findings, _ = serial_run
    by_prefix = {"file": "file", "validator": "file", "schema": "schema", "dandi": "dandi"}  # else NWB Inspector's
    layers = set()
    for found in findings.values():
        for f in found:
            assert f["layer"] == by_prefix.get(f["check_id"].split(".")[0], "best_practice"), f
            layers.add(f["layer"])
    assert layers == {"file", "schema", "best_practice", "dandi"}


def test_dandi_header_is_read_from_the_file(catalogue: Path) -> None:
    import h5py

    from nwbconvert.validate.dandi_ready import DandiHeader, DandiSubject, read_header

    with h5py.File(catalogue / "twin_a.nwb", "r") as h5:
        header = read_header(h5)
    subject = DandiSubject(subject_id="m1", species="Mus musculus", sex="F", age="P90D", date_of_birth=None)
    assert header == DandiHeader("shared-identifier", "2024-05-01T09:30:00+00:00", subject)
    with h5py.File(catalogue / "no_subject.nwb", "r") as h5:
        assert read_header(h5).subject is None


def test_text_output_groups_by_file_with_a_summary_on_stderr(catalogue: Path) -> None:
    result = nwbconvert("validate", catalogue / "valid.nwb", catalogue / "sex_male.nwb")
    assert result.returncode == 1
    assert "sex_male.nwb" in result.stdout and "check_subject_sex" in result.stdout
    assert "2 file(s): 1 with errors" in result.stderr


def test_dandi_layout(tmp_path: Path) -> None:
    good = tmp_path / "sub-m1" / "sub-m1_ses-1_ecephys.nwb"
    good.parent.mkdir()
    write_nwb(good)
    bad = tmp_path / "session1.nwb"
    write_nwb(bad)
    result = nwbconvert("validate", tmp_path, "--dandi-layout", "--json")
    findings = _findings(result.stdout)
    assert "dandi.layout_name" in _errors(findings["session1.nwb"])
    assert not {c for c in _errors(findings["sub-m1_ses-1_ecephys.nwb"]) if c.startswith("dandi.layout")}
    assert "dandi.layout_name" not in nwbconvert("validate", bad, "--json").stdout  # only when asked


def test_real_dandi_file() -> None:
    path = realdata("nwb/sub_anm00239123_ses_20170627T093549_ecephys_and_ogen.nwb")
    result = nwbconvert("validate", path, "--json")
    assert result.returncode == 1
    findings = _findings(result.stdout)[path.name]
    assert "check_subject_age" in _errors(findings)  # the file has neither age nor date of birth
    assert any(f["check_id"] == "schema.DtypeError" and "electrodes" in f["location"] for f in findings)
    assert any(f["check_id"] == "check_units_table_duration.crashed" and f["severity"] == "warning" for f in findings)


def test_convert_validates_its_output_and_rejects_errors(tmp_path: Path) -> None:
    sets = [f"--set={kv}" for kv in COMPLETE_METADATA]
    good = tmp_path / "good.nwb"
    result = nwbconvert("convert", SAMPLE_DATA / "openephys", "-o", good, *sets)
    assert result.returncode == 0 and "Validated: no errors" in result.stdout
    out = tmp_path / "range.nwb"
    reversed_range = "--set=subject.age=P90D/P80D"  # well-formed ISO 8601, so only the output check sees it
    rejected = nwbconvert("convert", SAMPLE_DATA / "openephys", "-o", out, *sets, reversed_range)
    assert rejected.returncode == 1, rejected.stderr
    assert "check_subject_proper_age_range" in rejected.stderr and "dandi.age_uninterpretable" in rejected.stderr
    assert not out.exists()
    assert (tmp_path / "range.rejected.nwb").exists()
    assert [p.name for p in tmp_path.iterdir() if "partial" in p.name] == []
    skipped = nwbconvert("convert", SAMPLE_DATA / "openephys", "-o", out, *sets, reversed_range, "--no-validate", "-q")
    assert skipped.returncode == 0 and out.exists()


def test_species_given_as_ncbi_url_is_not_looked_up(tmp_path: Path) -> None:
    path = write_nwb(tmp_path / "url.nwb", {**GOOD_SUBJECT, "species": "http://purl.obolibrary.org/obo/NCBITaxon_9685"})
    result = nwbconvert("validate", path, "--json")
    assert result.returncode == 0, result.stdout
