"""`validate` forks its first worker before its command line is parsed (workers.start_early), which loads the DANDI
checks' libraries meanwhile: a run that ends before validating leaves no process behind, and the findings are the
same as those of a run without that worker, on one worker and with the file split across two."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from cli_runner import ENV
from conftest import realdata
from helpers import group_members

DANDI_FILE = realdata("nwb/sub_anm00239123_ses_20170627T093549_ecephys_and_ogen.nwb")
WITHOUT_EARLY = """
import sys
from nwbconvert.cli.app import app
sys.argv = ["nwbconvert", *sys.argv[1:]]
app()
"""


def test_a_run_that_ends_before_validating_leaves_no_process(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    runs = {
        "help": (["--help"], 0),
        "usage error": (["--jobs", "0", str(DANDI_FILE)], 2),
        "no such path": ([str(tmp_path / "missing.nwb")], 2),
        "no NWB file": ([str(empty)], 0),
    }
    for name, (extra, code) in runs.items():
        args = [sys.executable, "-m", "nwbconvert", "validate", *extra]
        proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV, start_new_session=True
        )
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == code, (name, err)
        assert group_members(proc.pid) == [], name  # the session's leader was this process: its group is its own


def _findings(stdout: str) -> list[tuple[str, str, str, str]]:
    files = json.loads(stdout)["result"]["files"]
    return sorted((f["severity"], f["check_id"], f["location"], f["message"]) for r in files for f in r["findings"])


def test_the_findings_are_those_of_a_run_without_the_early_worker() -> None:
    for jobs in ("1", "2"):  # with two workers the one file is split between them
        args = ["validate", str(DANDI_FILE), "--json", "-j", jobs]
        early = subprocess.run([sys.executable, "-m", "nwbconvert", *args], capture_output=True, text=True, env=ENV)
        late = subprocess.run([sys.executable, "-c", WITHOUT_EARLY, *args], capture_output=True, text=True, env=ENV)
        assert early.returncode == late.returncode, (early.stderr, late.stderr)
        assert _findings(early.stdout) == _findings(late.stdout), jobs
        assert _findings(early.stdout), jobs  # the real DANDI file has findings to compare
