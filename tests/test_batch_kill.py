"""A SIGKILLed `batch` takes its pool workers along, and a session lock taken over fences its old writer out.

Real `nwbconvert batch` runs (subprocesses) on a generated study whose sessions take seconds to write (gzip 9),
real lock holders in other processes (the project's lock API), psutil to see which processes are left."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from cli_runner import ENV
from helpers import assert_valid
from nwbconvert.output import PARTIAL_TAG
from nwbconvert.synthetic.study import write_study

STUDY_YAML = """\
source: raw/{subject_id}/{session_id}
metadata: [lab.yaml]
subjects: subjects/{subject_id}.yaml
timezone: UTC
"""
KEYS = ("sub-m1_ses-day1", "sub-m1_ses-day2")
SLOW = ("--compression", "gzip", "--compression-level", "9")  # seconds per session: time to act during one
HOLDER = """
import sys
from pathlib import Path
from nwbconvert.batch.lock import session_lock
with session_lock(Path(sys.argv[1]), sys.argv[2]) as lock:
    print("held" if lock is not None else "refused", flush=True)
    sys.stdin.read()  # until the test closes our stdin
"""


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One subject, two sessions of 60 s of 8 channels (several seconds each to write at gzip level 9)."""
    root = tmp_path_factory.mktemp("kill_study")
    write_study(root, subjects=1, sessions=2, seconds=60.0)
    (root / "study.yaml").write_text(STUDY_YAML)
    return root


def output_of(out: Path, key: str) -> Path:
    return out / key.split("_")[0] / f"{key}_ecephys.nwb"


def partials(out: Path) -> list[Path]:
    return list(out.rglob(f"*{PARTIAL_TAG}*"))


def start_batch(study: Path, out: Path, *args: str, capture: bool = True) -> subprocess.Popen[str]:
    """Start `nwbconvert batch` (one session at once) as the leader of a new process group."""
    cmd = [sys.executable, "-m", "nwbconvert", "batch", "study.yaml", "-o", str(out), "-j", "1", *args]
    pipe = subprocess.PIPE if capture else subprocess.DEVNULL  # a worker left behind would hold pipes open
    return subprocess.Popen(cmd, cwd=study, env=ENV, start_new_session=True, stdout=pipe, stderr=pipe, text=True)


def writing(proc: subprocess.Popen[str], out: Path) -> Path:
    """Wait until a session's temporary file exists (`.NAME.PID.nwbconvert-partial.nwb`); it."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        found = partials(out)
        if found:
            return found[0]
        time.sleep(0.01)
    raise AssertionError(f"no session was caught being written: {proc.communicate()}")


def key_of(partial: Path) -> str:
    return next(k for k in KEYS if partial.name.startswith(f".{k}_ecephys.nwb."))


def running(procs: list[psutil.Process]) -> list[psutil.Process]:
    """Those still running (a zombie waiting for its reaper runs no more)."""
    alive = []
    for proc in procs:
        try:
            if proc.status() != psutil.STATUS_ZOMBIE:
                alive.append(proc)
        except psutil.NoSuchProcess:
            continue
    return alive


def rerun(study: Path, out: Path) -> dict[str, str]:
    """Run the batch again to completion, with the same options: the status of each session."""
    cmd = [sys.executable, "-m", "nwbconvert", "batch", "study.yaml", "-o", str(out), *SLOW, "--json"]
    done = subprocess.run(cmd, cwd=study, env=ENV, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return {s["key"]: s["status"] for s in json.loads(done.stdout)["result"]["sessions"]}


def test_sigkilled_batch_takes_its_pool_workers_along(study: Path, tmp_path: Path) -> None:
    """SIGKILL the batch process alone (not its group), in the middle of a session: within seconds none of its
    processes is left (before: the worker finished the session minutes later, beside a rerun); the session has
    no file under its final name; a rerun converts both sessions once, and no temporary file is left."""
    out = tmp_path / "dandiset"
    proc = start_batch(study, out, *SLOW, capture=False)
    children: list[psutil.Process] = []
    try:
        partial = writing(proc, out)
        children = psutil.Process(proc.pid).children(recursive=True)
        writer = int(partial.name.split(".")[-3])
        assert writer in {c.pid for c in children}  # the pool worker writing the session
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 5
        while running(children) and time.monotonic() < deadline:
            time.sleep(0.05)
        left = running(children)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for child in running(children):  # not to outlive the test should the batch have left them
            child.kill()
    assert left == [], f"processes of the killed batch still running: {left}"
    killed = key_of(partial)
    assert not output_of(out, killed).exists()  # killed mid-way: only the temporary name was written
    assert partial.name.startswith(".") and PARTIAL_TAG in partial.name

    recorded = {p.stem for p in (out / ".nwbconvert" / "manifest").glob("*.json")}  # sessions finished before
    assert killed not in recorded
    assert rerun(study, out) == {k: "skipped" if k in recorded else "converted" for k in KEYS}
    files = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file() and ".nwbconvert" not in p.parts)
    assert files == sorted(output_of(out, k).relative_to(out) for k in KEYS)  # no duplicate, no temporary file
    assert list((out / ".nwbconvert" / "locks").iterdir()) == []
    for key in KEYS:
        assert_valid(output_of(out, key))


def hold(out: Path, key: str) -> subprocess.Popen[str]:
    """Another process taking session `key`'s lock through the project's lock API (held until its stdin closes);
    returns once it says whether it got it."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(output_of(out, key)), key],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=ENV,
        text=True,
    )
    return holder


def answer(holder: subprocess.Popen[str]) -> str:
    assert holder.stdout is not None
    return holder.stdout.readline().strip()


def release(holder: subprocess.Popen[str]) -> None:
    assert holder.stdin is not None
    holder.stdin.close()
    holder.wait(timeout=60)


def test_a_live_holder_keeps_its_lock_and_a_killed_one_frees_it_at_once(tmp_path: Path) -> None:
    """The kernel decides: a lock held by a live process is refused to another, whatever its file says; the
    lock of a SIGKILLed holder (its file left behind) is taken at once, with no timeout to wait out."""
    out = tmp_path / "out"
    first = hold(out, KEYS[0])
    try:
        assert answer(first) == "held"
        lock = out / ".nwbconvert" / "locks" / f"{KEYS[0]}.lock"
        assert json.loads(lock.read_text())["pid"] == first.pid
        second = hold(out, KEYS[0])
        assert answer(second) == "refused"
        release(second)
        first.kill()
        first.wait(timeout=30)
        assert lock.exists()  # killed: its file stays, its flock went with it
        third = hold(out, KEYS[0])
        assert answer(third) == "held"
        assert json.loads(lock.read_text())["pid"] == third.pid
        release(third)
        assert not lock.exists()  # released: removed
    finally:
        first.kill()
        first.wait()


def test_a_writer_whose_lock_was_taken_over_publishes_nothing(study: Path, tmp_path: Path) -> None:
    """While the batch writes a session, its lock file is removed (a cleaned state folder, a network lease lost)
    and another process takes the lock: the batch's writer notices, stops, leaves no file (final or
    temporary) and no manifest entry, reports the session locked, and never removes the new holder's lock;
    the other session converts. Once the holder lets go, a rerun converts the session."""
    out = tmp_path / "dandiset"
    proc = start_batch(study, out, *SLOW, "--json")
    holder = None
    try:
        partial = writing(proc, out)
        key = key_of(partial)
        lock = out / ".nwbconvert" / "locks" / f"{key}.lock"
        writer = json.loads(lock.read_text())["pid"]
        assert writer == int(partial.name.split(".")[-3])
        lock.unlink()
        holder = hold(out, key)
        assert answer(holder) == "held"
        stdout, stderr = proc.communicate(timeout=600)
        assert json.loads(lock.read_text())["pid"] == holder.pid  # the fenced writer left the new lock alone
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
        if holder is not None:
            release(holder)
    assert proc.returncode == 1, stderr
    sessions = {s["key"]: s for s in json.loads(stdout)["result"]["sessions"]}
    assert sessions[key]["status"] == "locked"
    assert "another run took this session's lock over" in sessions[key]["message"]
    assert "Traceback" not in stderr
    other = next(k for k in KEYS if k != key)
    assert sessions[other]["status"] == "converted", sessions[other]
    assert not output_of(out, key).exists() and partials(out) == []
    assert not (out / ".nwbconvert" / "manifest" / f"{key}.json").exists()
    assert (
        "stopped: another run took this session's lock over"
        in (out / ".nwbconvert" / "logs" / f"{key}.log").read_text()
    )

    assert rerun(study, out) == {key: "converted", other: "skipped"}
    assert_valid(output_of(out, key))


def test_the_last_safe_point_before_the_final_rename_asks_the_lock(tmp_path: Path) -> None:
    """A lock lost at the very last moment (after every chunk, the validation and the flush) still publishes
    nothing: the check just before the final rename asks the lock itself, not the watch's last poll."""
    from conftest import COMPLETE_METADATA, SAMPLE_DATA
    from nwbconvert import interrupts
    from nwbconvert.pipeline import ConvertOptions, convert

    source = SAMPLE_DATA / "spikeglx" / "Sample_g0"
    options = ConvertOptions(set_values=COMPLETE_METADATA, timezone="UTC", stub_seconds=0.1)
    asked: list[bool] = []

    def always() -> bool:
        asked.append(True)
        return True

    with interrupts.fenced(always):
        convert(source, tmp_path / "first.nwb", options)
    assert (tmp_path / "first.nwb").exists() and len(asked) >= 3
    last = len(asked)  # the same conversion asks as often: lose the lock at its very last question
    calls: list[int] = []

    def lost_at_the_end() -> bool:
        calls.append(1)
        return len(calls) < last

    with pytest.raises(KeyboardInterrupt), interrupts.fenced(lost_at_the_end):
        convert(source, tmp_path / "second.nwb", options)
    assert len(calls) == last
    assert sorted(p.name for p in tmp_path.iterdir()) == ["first.nwb"]  # nothing published, nothing left
