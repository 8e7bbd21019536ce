"""`validate`'s text report prints a finding several files share once, with the files that have it, and each
file's own findings in its table; `--detailed` prints every file's table whole. The oracle is the same run's JSON
document, which holds every finding of every file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_runner import nwbconvert
from nwb_catalogue import GOOD_SUBJECT, write_nwb
from nwbconvert.cli.render_validation import shared_findings
from nwbconvert.validate.findings import FileReport, Finding, Severity, ValidationLayer

GOOD = ("a.nwb", "b.nwb", "d.nwb")
MALE = ("c1.nwb", "c2.nwb")  # sex "male": NWB Inspector's check_subject_sex, in these two files only


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("shared")
    for name in GOOD:
        write_nwb(root / name, n_samples=600)
    for name in MALE:
        write_nwb(root / name, subject=GOOD_SUBJECT | {"sex": "male"}, n_samples=600)
    return root


def _files_with(doc: dict, check_id: str) -> set[str]:
    return {Path(r["file"]).name for r in doc["result"]["files"] for f in r["findings"] if f["check_id"] == check_id}


def test_a_shared_finding_is_printed_once_and_detailed_prints_every_table(folder: Path) -> None:
    doc = json.loads(nwbconvert("validate", folder, "--json").stdout)
    assert _files_with(doc, "check_subject_sex") == set(MALE)  # the oracle: which files have which finding
    assert _files_with(doc, "dandi.modality") == set(GOOD + MALE)
    text = nwbconvert("validate", folder)
    assert text.returncode == 1  # check_subject_sex is an error, in text as in JSON
    assert text.stdout.count("dandi.modality") == 1 and text.stdout.count("check_subject_sex") == 1
    assert "5 of 5 files" in text.stdout  # dandi.modality: more files than are named
    shared_row = text.stdout[text.stdout.index("Findings shared by several files") :]
    assert f"files named from {folder}" in shared_row
    assert all(f"│ {name}" in shared_row for name in MALE)  # check_subject_sex: two files, named from the folder
    for name in GOOD + MALE:  # every file has a line: all its findings are in the shared table
        assert f"{folder / name}: {len(_findings_of(doc, name))} finding(s), all shared (below)" in text.stdout
    detailed = nwbconvert("validate", folder, "--detailed")
    assert detailed.returncode == 1
    assert detailed.stdout.count("dandi.modality") == 5 and detailed.stdout.count("check_subject_sex") == 2
    assert "Findings shared by several files" not in detailed.stdout


def _findings_of(doc: dict, name: str) -> list[dict]:
    (report,) = [r for r in doc["result"]["files"] if Path(r["file"]).name == name]
    return list(report["findings"])


def test_a_file_keeps_its_own_findings_in_its_table(folder: Path, tmp_path: Path) -> None:
    one = tmp_path / "one"
    one.mkdir()
    for name in ("a.nwb", "c1.nwb"):
        (one / name).symlink_to(folder / name)
    text = nwbconvert("validate", one).stdout
    own = text[text.index(f"{one / 'c1.nwb'} (and 1 finding(s) shared with other files, below)") :]
    assert own.index("check_subject_sex") < own.index("Findings shared by several files")


def _finding(file: str, message: str) -> Finding:
    return Finding(file, Severity.INFO, "check_x", ValidationLayer.BEST_PRACTICE, "/", message, "fix it")


def test_occurrences_count_a_finding_repeated_within_a_file() -> None:
    reports = [
        FileReport("f1", (_finding("f1", "same"), _finding("f1", "same"), _finding("f1", "own"))),
        FileReport("f2", (_finding("f2", "same"),)),
        FileReport("f3", (_finding("f3", "alone"), _finding("f3", "alone"))),
    ]
    (shared,) = shared_findings(reports).values()  # "alone" twice in one file is not shared
    assert (shared.finding.message, shared.files, shared.occurrences) == ("same", ("f1", "f2"), 3)
