"""Session locks keep concurrent runs apart: flock held by live processes (real subprocesses), taken at once from
dead ones; and the no-flock scheme (an O_EXCL file) judges staleness from its holder's pid, start and host."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from nwbconvert.batch.layout import lock_path
from nwbconvert.batch.lock import session_lock, take_exclusive

KEY = "sub-m1_ses-1"

HOLDER = """
import sys, time
from pathlib import Path
from nwbconvert.batch.lock import session_lock
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))  # all contenders start together
with session_lock(Path(sys.argv[1]), "sub-m1_ses-1") as lock:
    print("held" if lock is not None else "refused", flush=True)
    time.sleep(float(sys.argv[3]))
"""


def _output(tmp_path: Path) -> Path:
    return tmp_path / "out" / "sub-m1" / "sub-m1_ses-1_ecephys.nwb"


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


def _holder(output: Path, start: float, hold_s: float) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(output), str(start), str(hold_s)], stdout=subprocess.PIPE, text=True
    )


def test_second_lock_on_a_session_is_refused_until_released(tmp_path: Path) -> None:
    output = _output(tmp_path)
    path = lock_path(output, KEY)
    with session_lock(output, KEY) as first:
        assert first is not None and first.owned()
        holder = json.loads(path.read_text())
        assert (holder["host"], holder["pid"]) == (socket.gethostname(), os.getpid())
        with session_lock(output, KEY) as second:
            assert second is None
        assert path.exists() and first.owned()  # the refused one did not remove the holder's lock
    assert not path.exists()
    with session_lock(output, KEY) as again:
        assert again is not None


def test_a_lock_file_left_by_a_dead_process_is_taken_at_once(tmp_path: Path) -> None:
    output = _output(tmp_path)
    path = lock_path(output, KEY)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"host": socket.gethostname(), "pid": _dead_pid(), "start": None}))
    with session_lock(output, KEY) as lock:
        assert lock is not None
        assert json.loads(path.read_text())["pid"] == os.getpid()


def test_lock_held_by_a_live_process_until_it_is_killed(tmp_path: Path) -> None:
    output = _output(tmp_path)
    holder = _holder(output, 0.0, 600.0)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with session_lock(output, KEY) as lock:
            assert lock is None
        holder.send_signal(signal.SIGKILL)  # killed: its lock file stays behind, but the kernel dropped its flock
        holder.wait(timeout=30)
        assert lock_path(output, KEY).exists()
        with session_lock(output, KEY) as lock:
            assert lock is not None
    finally:
        holder.kill()
        holder.wait(timeout=30)


def test_concurrent_runs_take_a_left_lock_file_over_once(tmp_path: Path) -> None:
    output = _output(tmp_path)
    path = lock_path(output, KEY)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"host": socket.gethostname(), "pid": _dead_pid(), "start": None}))
    start = time.time() + 4.0
    runs = [_holder(output, start, 5.0) for _ in range(4)]
    answers = [run.communicate(timeout=60)[0].strip() for run in runs]
    assert sorted(answers) == ["held", "refused", "refused", "refused"]
    assert not path.exists() and not list(path.parent.iterdir())  # released, nothing left


def test_without_flock_a_lock_of_a_dead_or_reused_pid_is_stale(tmp_path: Path) -> None:
    path = tmp_path / "s.lock"
    path.write_text(json.dumps({"host": socket.gethostname(), "pid": _dead_pid(), "start": None}))
    mine = take_exclusive(path)
    assert mine is not None and json.loads(path.read_bytes())["pid"] == os.getpid()
    assert take_exclusive(path) is None  # held by this live process, which started when its file says
    # a live pid that is not the process that took the lock (its start differs): the pid was reused
    path.write_text(json.dumps({"host": socket.gethostname(), "pid": os.getpid(), "start": -1}))
    assert take_exclusive(path) is not None
    # an empty lock (its writer died between creating and filling it) is stale once old
    path.write_text("")
    assert take_exclusive(path) is None
    os.utime(path, (time.time() - 120, time.time() - 120))
    assert take_exclusive(path) is not None


def test_without_flock_a_lock_of_another_host_is_stale_only_when_not_refreshed(tmp_path: Path) -> None:
    path = tmp_path / "s.lock"
    path.write_text(json.dumps({"host": "node-17.cluster", "pid": 1, "start": 5}))
    assert take_exclusive(path) is None
    old = time.time() - 3600
    os.utime(path, (old, old))
    assert take_exclusive(path) is not None
