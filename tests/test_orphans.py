"""A command killed with SIGKILL (the OOM killer, a scheduler's time limit, kill -9) runs no cleanup; the helper
processes it forked must end with it all the same: `convert`'s primed checker (which waited on its pipe forever,
the fork having given it the pipe's other end too) and `validate`'s workers (one inside a file HDF5 loops on ran on
forever). The oracle is Linux's process table (/proc), read before and after the kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from cli_runner import ENV

SET = [
    "--set=session_start_time=2020-01-01T10:00:00+00:00",
    "--set=subject.subject_id=m1",
    "--set=subject.species=Mus musculus",
    "--set=subject.sex=F",
    "--set=subject.age=P90D",
]


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of `pid`, or None when there is no such process."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    state, ppid = text.rsplit(")", 1)[1].split()[:2]  # the name, in parentheses, may hold spaces
    return state, int(ppid)


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None and stat[1] == pid:
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")  # a zombie has ended; only its reaping is left


def _wait_for_children(proc: subprocess.Popen[bytes], settle_s: float) -> list[int]:
    deadline = time.monotonic() + 120
    while not (children := _children(proc.pid)):
        assert proc.poll() is None and time.monotonic() < deadline, "the command ended before forking its helper"
        time.sleep(0.05)
    time.sleep(settle_s)  # the helpers at work: priming, or inside the file
    return sorted(set(children) | set(_children(proc.pid)))


def _assert_all_end(children: list[int]) -> None:
    deadline = time.monotonic() + 15
    while any(_alive(c) for c in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [c for c in children if _alive(c)]
    for c in left:  # never leave them to the next test
        os.kill(c, signal.SIGKILL)
    assert left == [], f"helper processes {left} outlived the command killed with SIGKILL"


def _kill(proc: subprocess.Popen[bytes]) -> None:
    proc.kill()
    proc.wait()


def test_a_killed_convert_leaves_no_checker_behind(tmp_path: Path) -> None:
    from nwbconvert.synthetic.spikeglx import write_spikeglx_run

    source = write_spikeglx_run(tmp_path / "src", seconds=20.0, n_channels=96).folder
    command = [sys.executable, "-m", "nwbconvert", "convert", str(source), "-o", str(tmp_path / "out.nwb"), *SET, "-q"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    children = _wait_for_children(proc, settle_s=0.5)
    _kill(proc)
    _assert_all_end(children)


def test_a_killed_validate_leaves_no_worker_behind(tmp_path: Path) -> None:
    here = str(Path(__file__).parent)
    looping = tmp_path / "looping.nwb"
    code = f"import sys; sys.path.insert(0, {here!r}); import nwb_catalogue as c; c.looping(c.Path(sys.argv[1]))"
    subprocess.run([sys.executable, "-c", code, str(looping)], check=True, timeout=600)
    command = [sys.executable, "-m", "nwbconvert", "validate", str(looping), "-j", "2", "--timeout", "600"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    children = _wait_for_children(proc, settle_s=5.0)  # long enough for a worker to be inside the looping read
    _kill(proc)
    _assert_all_end(children)
