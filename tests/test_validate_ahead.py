"""`convert` checks its output in a process primed while it converted (validate/ahead.py): the same findings as a
check in the converting process, and a check there when that process is gone."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from cli_runner import ENV, nwbconvert
from conftest import realdata
from helpers import group_members

ABF = realdata("abf/05210017_vc_abf1.abf")
SET = [
    "--set=session_start_time=2026-01-15T10:00:00+00:00",
    "--set=subject.subject_id=m1",
    "--set=subject.species=Mus musculus",
    "--set=subject.sex=M",
    "--set=subject.age=P90D",
]
TOO_LONG = "--set=session_id=" + "s" * 151  # dandi upload cannot extract it: the archive's check rejects the file


# Runs the CLI with the primed process killed (as the kernel's OOM killer would) just before it gets the file.
KILLED_FIRST = """
import os, signal, sys
from nwbconvert.validate import ahead
real = ahead.check_output
def killed_first(tmp, report_as):
    os.kill(ahead._Ahead.proc.pid, signal.SIGKILL)
    ahead._Ahead.proc.join()
    print("KILLED", file=sys.stderr, flush=True)
    return real(tmp, report_as)
ahead.check_output = killed_first
from nwbconvert.cli.app import app
sys.argv = ["nwbconvert", *sys.argv[1:]]
app()
"""


def _convert(folder: Path, *extra: str, killed: bool) -> subprocess.CompletedProcess[str]:
    folder.mkdir()
    args = ["convert", str(ABF), "-o", str(folder / "out.nwb"), *SET, *extra]
    if not killed:
        return nwbconvert(*args)
    run = [sys.executable, "-c", KILLED_FIRST, *args]
    done = subprocess.run(run, capture_output=True, text=True, env=ENV, timeout=300)
    assert "KILLED" in done.stderr
    return done


def _checks(stdout: str) -> list[tuple[str, str, str]]:
    doc = json.loads(stdout)
    return sorted((f["severity"], f["check_id"], f["location"]) for f in doc["result"]["findings"])


def test_a_killed_primed_process_leaves_the_same_check_to_the_converting_one(tmp_path: Path) -> None:
    primed = _convert(tmp_path / "a", "--json", killed=False)
    alone = _convert(tmp_path / "b", "--json", killed=True)
    assert primed.returncode == alone.returncode == 0, (primed.stderr, alone.stderr)
    assert ("warning", "check_intracellular_electrode_cell_id_exists", "/ElectrodeVoltage0") in _checks(primed.stdout)
    assert _checks(primed.stdout) == _checks(alone.stdout)


def test_a_rejected_file_is_rejected_either_way(tmp_path: Path) -> None:
    for folder, killed in ((tmp_path / "a", False), (tmp_path / "b", True)):
        done = _convert(folder, TOO_LONG, killed=killed)
        assert done.returncode == 1, done.stderr
        assert "dandi.asset_metadata_invalid at /general/session_id" in done.stderr
        assert sorted(p.name for p in folder.iterdir()) == ["out.rejected.nwb"]


# Runs the CLI on a machine that cannot fork another process (memory or process limit reached).
NO_FORK = """
import multiprocessing.process, sys
def refused(self):
    raise BlockingIOError(11, "Resource temporarily unavailable")
multiprocessing.process.BaseProcess.start = refused
from nwbconvert.cli.app import app
sys.argv = ["nwbconvert", *sys.argv[1:]]
app()
"""


def test_no_process_to_spare_checks_the_file_in_the_converting_one(tmp_path: Path) -> None:
    primed = _convert(tmp_path / "a", "--json", killed=False)
    (tmp_path / "b").mkdir()
    args = ["convert", str(ABF), "-o", str(tmp_path / "b" / "out.nwb"), *SET, "--json"]
    alone = subprocess.run([sys.executable, "-c", NO_FORK, *args], capture_output=True, text=True, env=ENV, timeout=300)
    assert alone.returncode == 0, alone.stderr
    assert (tmp_path / "b" / "out.nwb").exists()
    assert _checks(primed.stdout) == _checks(alone.stdout)


def test_the_process_started_before_parsing_ends_with_unchecked_conversions(tmp_path: Path) -> None:
    """`convert` forks the primed process before its command line is parsed; a conversion that is not checked
    (--no-validate, --dry-run) or an exit before converting (--help, a usage error) leaves no process behind."""
    runs = {
        "no-validate": ["-o", str(tmp_path / "a.nwb"), "--no-validate"],
        "dry-run": ["--dry-run"],
        "help": ["--help"],
        "usage error": ["--stub", "x"],
    }
    for name, extra in runs.items():
        args = [sys.executable, "-m", "nwbconvert", "convert", str(ABF), *SET, *extra]
        proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV, start_new_session=True
        )
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == (2 if name == "usage error" else 0), (name, err)
        assert "Validated" not in out + err, name
        assert group_members(proc.pid) == [], name  # the session's leader was this process: its group is its own
    assert (tmp_path / "a.nwb").exists()
