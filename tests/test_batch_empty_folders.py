"""A failed `batch` session leaves no empty `sub-<subject>/` folder behind: the folders the batch created and
that stayed empty are removed once every session has ended; folders that were there before stay."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from cli_runner import nwbconvert
from nwbconvert.synthetic.study import write_study

STUDY_YAML = """\
source: raw/{subject_id}/{session_id}
metadata: [lab.yaml]
subjects: subjects/{subject_id}.yaml
timezone: UTC
"""


def _broken_study(root: Path) -> None:
    """Two subjects, one session each; m1's recording replaced by a note, so that session fails (exit 3)."""
    sessions = write_study(root, subjects=2, sessions=1, seconds=1.0)
    (root / "study.yaml").write_text(STUDY_YAML)
    shutil.rmtree(sessions[0].path)
    sessions[0].path.mkdir()
    (sessions[0].path / "notes.txt").write_text("no recording\n")


def _statuses(out: Path, root: Path) -> dict[str, str]:
    done = nwbconvert("batch", "study.yaml", "-o", out, "--compression", "none", "--json", cwd=root)
    assert done.returncode == 1, done.stderr
    return {s["key"]: s["status"] for s in json.loads(done.stdout)["result"]["sessions"]}


def test_a_failed_session_leaves_no_empty_subject_folder(tmp_path: Path) -> None:
    root = tmp_path / "study"
    _broken_study(root)
    out = tmp_path / "dandiset"
    assert _statuses(out, root) == {"sub-m1_ses-day1": "failed", "sub-m2_ses-day1": "converted"}
    assert sorted(p.name for p in out.iterdir()) == [".nwbconvert", "sub-m2"]
    assert [p.name for p in (out / "sub-m2").iterdir()] == ["sub-m2_ses-day1_ecephys.nwb"]

    kept = tmp_path / "kept"
    (kept / "sub-m1").mkdir(parents=True)  # the user's own (empty) folder: not the batch's to remove
    assert _statuses(kept, root)["sub-m1_ses-day1"] == "failed"
    assert (kept / "sub-m1").is_dir() and list((kept / "sub-m1").iterdir()) == []
