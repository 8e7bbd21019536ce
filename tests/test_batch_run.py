"""`nwbconvert batch` end to end: a generated study (SpikeGLX and Open Ephys sessions) converted through the real
command on the process pool, a Dask LocalCluster and a real `dask scheduler` with two `dask worker` processes;
a broken session, a SIGKILLed run resumed, re-runs that skip, --force, --dry-run and the --json document."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cli_runner import ENV, nwbconvert
from helpers import assert_valid, series_arrays
from nwbconvert.output import PARTIAL_TAG
from nwbconvert.synthetic.study import session_start, write_study

STUDY_YAML = """\
source: raw/{subject_id}/{session_id}
metadata: [lab.yaml]
subjects: subjects/{subject_id}.yaml
timezone: UTC
"""
KEYS = [f"sub-m{i}_ses-day{j}" for i in (1, 2, 3) for j in (1, 2)]
FAST = ("--compression", "none")


def make_study(root: Path, subjects: int, sessions: int, seconds: float) -> Path:
    """The recordings, lab.yaml, subjects/<id>.yaml and study.yaml (which layers them) under `root`."""
    write_study(root, subjects=subjects, sessions=sessions, seconds=seconds)
    (root / "study.yaml").write_text(STUDY_YAML)
    return root


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 subjects x 2 sessions, the formats alternating."""
    return make_study(tmp_path_factory.mktemp("study"), subjects=3, sessions=2, seconds=1.0)


def batch_json(*args: str | Path, cwd: Path) -> tuple[int, dict[str, Any]]:
    """Run `nwbconvert batch ... --json`; the exit code and the result document."""
    done = nwbconvert("batch", *args, "--json", cwd=cwd)
    assert done.stdout.strip(), done.stderr
    doc = json.loads(done.stdout)
    assert doc["nwbconvert"] == 1 and doc["kind"] in ("batch", "batch-dry-run")
    return done.returncode, doc["result"]


def statuses(result: dict[str, Any]) -> dict[str, str]:
    return {s["key"]: s["status"] for s in result["sessions"]}


def output_of(out: Path, key: str) -> Path:
    subject = key.split("_")[0]
    return out / subject / f"{key}_ecephys.nwb"


def mtimes(out: Path) -> dict[str, int]:
    return {k: output_of(out, k).stat().st_mtime_ns for k in KEYS if output_of(out, k).exists()}


def partials(out: Path) -> list[Path]:
    return [p for p in out.rglob(f"*{PARTIAL_TAG}*")]


def assert_converted_study(study: Path, out: Path) -> None:
    """Every session's file exists, carries its subject/session/start metadata and the source's samples."""
    from pynwb import NWBHDF5IO

    for i, subject in enumerate(("m1", "m2", "m3")):
        for j, session in enumerate(("day1", "day2")):
            path = output_of(out, f"sub-{subject}_ses-{session}")
            with NWBHDF5IO(str(path), "r") as io:
                nwb = io.read()
                assert nwb.subject.subject_id == subject
                assert nwb.session_id == session
                assert nwb.subject.sex == ("F", "M")[i % 2]  # from subjects/<id>.yaml
                assert nwb.subject.species == "Mus musculus"  # from lab.yaml
                assert nwb.session_start_time == session_start(i, j).replace(tzinfo=dt.timezone.utc)
            ap = sorted((study / "raw" / subject / session).rglob("*.ap.bin"))
            if ap:  # SpikeGLX: the written AP samples are the .bin's (8 channels + sync, interleaved int16)
                raw = np.fromfile(ap[0], dtype="<i2").reshape(-1, 9)[:, :8]
                np.testing.assert_array_equal(series_arrays(path, "ElectricalSeriesImec0AP")["data"], raw)


def test_pool_converts_study_then_skips_then_force(study: Path, tmp_path: Path) -> None:
    out = tmp_path / "dandiset"
    code, result = batch_json("study.yaml", "-o", out, "-j", "2", *FAST, cwd=study)
    assert code == 0, result
    assert statuses(result) == dict.fromkeys(KEYS, "converted")
    assert result["ok"] is True and result["counts"]["converted"] == 6 and result["counts"]["total"] == 6
    first = result["sessions"][0]
    assert set(first) == {
        "key", "subject_id", "session_id", "status", "seconds", "exit_code", "error_family", "message", "output", "log"
    }  # fmt: skip
    assert (first["subject_id"], first["session_id"], first["exit_code"]) == ("m1", "day1", 0)
    assert Path(first["output"]) == output_of(out, "sub-m1_ses-day1")
    assert "converted:" in Path(first["log"]).read_text()
    assert_converted_study(study, out)
    assert_valid(output_of(out, "sub-m1_ses-day1"))  # SpikeGLX
    assert_valid(output_of(out, "sub-m1_ses-day2"))  # Open Ephys
    before = mtimes(out)

    code, again = batch_json("study.yaml", "-o", out, "-j", "2", *FAST, cwd=study)
    assert code == 0
    assert statuses(again) == dict.fromkeys(KEYS, "skipped")
    assert {s["message"] for s in again["sessions"]} == {"up to date"}
    assert mtimes(out) == before

    code, dry = batch_json("study.yaml", "-o", out, "--dry-run", *FAST, cwd=study)
    assert code == 0 and dry["counts"] == {"convert": 0, "skip": 6}
    code, dry = batch_json("study.yaml", "-o", out, "--dry-run", "--compression", "gzip", cwd=study)
    assert {s["reason"] for s in dry["sessions"]} == {"options changed"} and dry["counts"]["convert"] == 6
    assert mtimes(out) == before  # a dry run writes nothing

    code, forced = batch_json("study.yaml", "-o", out, "-j", "2", "--force", *FAST, cwd=study)
    assert code == 0
    assert statuses(forced) == dict.fromkeys(KEYS, "converted")
    after = mtimes(out)
    assert all(after[k] > before[k] for k in KEYS)
    assert partials(out) == []


def test_dry_run_lists_sessions_fields_and_targets(study: Path, tmp_path: Path) -> None:
    out = tmp_path / "dandiset"
    code, dry = batch_json("study.yaml", "-o", out, "--dry-run", cwd=study)
    assert code == 0
    assert [s["key"] for s in dry["sessions"]] == KEYS
    m2 = dry["sessions"][2]
    assert m2["fields"] == {"subject_id": "m2", "session_id": "day1"}
    assert m2["sources"] == [str(study / "raw" / "m2" / "day1")]
    assert m2["output"] == str(output_of(out.resolve(), "sub-m2_ses-day1"))
    assert (m2["action"], m2["reason"]) == ("convert", "new")
    assert any(layer["values"].get("subject", {}).get("sex") == "M" for layer in m2["metadata"])
    assert not out.exists()
    table = nwbconvert("batch", "study.yaml", "-o", out, "--dry-run", cwd=study)
    assert table.returncode == 0
    assert "sub-m3_ses-day2" in table.stdout and "6 session(s) would be converted, 0 skipped" in table.stdout


def test_dask_local_cluster(study: Path, tmp_path: Path) -> None:
    out = tmp_path / "dandiset"
    code, result = batch_json("study.yaml", "-o", out, "--dask-workers", "2", *FAST, cwd=study)
    assert code == 0, result
    assert statuses(result) == dict.fromkeys(KEYS, "converted")
    assert "LocalCluster" in result["engine"]
    assert_converted_study(study, out)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _dask(*args: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_" + args[0], *args[1:]],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=ENV,
            start_new_session=True,
        )


@pytest.fixture
def dask_cluster(tmp_path: Path) -> Iterator[tuple[str, list[subprocess.Popen[bytes]], set[int]]]:
    """A real `dask scheduler` and two single-threaded `dask worker` processes on 127.0.0.1 (each under its
    nanny): the address, the processes started, the workers' pids. Always stopped."""
    from distributed import Client

    address = f"tcp://127.0.0.1:{_free_port()}"
    port = address.rsplit(":", 1)[1]
    procs = [_dask("scheduler", "--host", "127.0.0.1", "--port", port, "--no-dashboard", log=tmp_path / "s.log")]
    try:
        for i in range(2):
            worker_args = ("worker", address, "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1")
            procs.append(_dask(*worker_args, "--name", f"w{i}", log=tmp_path / f"w{i}.log"))
        with Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
            pids = set(client.run(os.getpid).values())
        yield address, procs, pids
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def test_dask_scheduler_with_two_workers(
    study: Path, tmp_path: Path, dask_cluster: tuple[str, list[subprocess.Popen[bytes]], set[int]]
) -> None:
    from distributed import Client

    address, procs, worker_pids = dask_cluster
    out = tmp_path / "dandiset"
    code, result = batch_json("study.yaml", "-o", out, "--scheduler", address, *FAST, cwd=study)
    assert code == 0, result
    assert statuses(result) == dict.fromkeys(KEYS, "converted")
    assert address in result["engine"]
    assert_converted_study(study, out)
    pids = {int(Path(s["log"]).read_text().split(" (pid ")[1].split(")")[0]) for s in result["sessions"]}
    assert pids == worker_pids  # both workers converted sessions
    assert all(p.poll() is None for p in procs)  # the batch neither started nor closed the cluster
    with Client(address, timeout="30s") as client:
        assert len(client.scheduler_info()["workers"]) == 2


def test_broken_session_fails_alone(tmp_path: Path) -> None:
    root = tmp_path / "study"
    sessions = write_study(root, subjects=2, sessions=1, seconds=1.0)
    (root / "study.yaml").write_text(STUDY_YAML)
    broken = sessions[0].path  # m1/day1 (SpikeGLX): its recording replaced by a note
    shutil.rmtree(broken)
    broken.mkdir()
    (broken / "notes.txt").write_text("the probe came loose; no recording\n")
    out = tmp_path / "dandiset"
    code, result = batch_json("study.yaml", "-o", out, *FAST, cwd=root)
    assert code == 1
    assert statuses(result) == {"sub-m1_ses-day1": "failed", "sub-m2_ses-day1": "converted"}
    failed = result["sessions"][0]
    assert (failed["error_family"], failed["exit_code"]) == ("SourceError", 3)
    assert str(broken) in failed["message"]
    assert result["ok"] is False and result["counts"]["failed"] == 1 and result["counts"]["converted"] == 1
    log = Path(failed["log"]).read_text()
    assert failed["message"] in log and "Traceback" in log
    assert not output_of(out, "sub-m1_ses-day1").exists()
    assert_valid(output_of(out, "sub-m2_ses-day1"))

    table = nwbconvert("batch", "study.yaml", "-o", out, *FAST, cwd=root)  # the table names the failure
    assert table.returncode == 1
    row = next(line for line in table.stdout.splitlines() if "sub-m1_ses-day1" in line)
    assert "failed" in row and "exit 3:" in row and "Error" not in row
    assert "1 failed" in table.stdout and "1 skipped" in table.stdout


def test_killed_batch_resumes_without_partial_files(study: Path, tmp_path: Path) -> None:
    out = tmp_path / "dandiset"
    cmd = [sys.executable, "-m", "nwbconvert", "batch", "study.yaml", "-o", str(out), "-j", "1", "-q"]
    proc = subprocess.Popen(cmd, cwd=study, env=ENV, start_new_session=True, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline and proc.poll() is None:  # kill while a later session is being written
            if mtimes(out) and partials(out):
                break
            time.sleep(0.01)
        assert proc.poll() is None, "the batch ended before it could be killed"
        os.killpg(proc.pid, signal.SIGKILL)  # the batch and its pool worker, as a crash or `kill -9` would
    finally:
        proc.wait()
    done = mtimes(out)
    stale = partials(out)
    assert 0 < len(done) < len(KEYS) and stale
    manifest = out / ".nwbconvert" / "manifest"
    recorded = {p.stem for p in manifest.glob("*.json")}
    locks = {p.stem for p in (out / ".nwbconvert" / "locks").glob("*.lock")}
    assert locks and not locks & recorded  # the session being written when killed still holds its (stale) lock

    code, result = batch_json("study.yaml", "-o", out, "-j", "2", cwd=study)
    assert code == 0, result
    got = statuses(result)
    assert {k for k, s in got.items() if s == "skipped"} == recorded  # finished ones are not written again
    assert {k for k, s in got.items() if s == "converted"} == set(KEYS) - recorded  # the rest exactly once
    assert locks <= {k for k, s in got.items() if s == "converted"}  # stale locks were taken over
    assert all(mtimes(out)[k] == done[k] for k in recorded)
    assert partials(out) == []  # the killed session's temporary file was removed
    assert list((out / ".nwbconvert" / "locks").glob("*.lock")) == []
    assert_converted_study(study, out)


def test_interrupted_batch_stops_sessions_at_a_safe_point(study: Path, tmp_path: Path) -> None:
    """Ctrl-C (SIGINT to the batch and its pool worker): the session being written leaves nothing, later ones
    do not start, the batch exits 130; the next run converts what is left."""
    out = tmp_path / "dandiset"
    cmd = [sys.executable, "-m", "nwbconvert", "batch", "study.yaml", "-o", str(out), "-j", "1", "-q"]
    proc = subprocess.Popen(
        cmd, cwd=study, env=ENV, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline and proc.poll() is None:  # while a later session is being written
            if mtimes(out) and partials(out):
                break
            time.sleep(0.01)
        assert proc.poll() is None, "the batch ended before it could be interrupted"
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in the terminal sends
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, stderr
    assert "Interrupted" in stderr and "Traceback" not in stderr
    assert partials(out) == []
    done = mtimes(out)
    assert 0 < len(done) < len(KEYS)
    code, result = batch_json("study.yaml", "-o", out, "-j", "2", cwd=study)
    assert code == 0, result
    assert {k for k, s in statuses(result).items() if s == "converted"} == set(KEYS) - set(done)
    assert_converted_study(study, out)


def test_template_metadata_reaches_the_files(study: Path, tmp_path: Path) -> None:
    from pynwb import NWBHDF5IO

    starts = {"m1": "2026-03-01T09:30:00+01:00", "m3": "2026-03-02T14:00:00+01:00"}
    for subject, start in starts.items():  # recordings filed by subject and session/start time
        shutil.copytree(study / "raw" / subject / "day2", tmp_path / "timed" / subject / f"rec7@{start}")
    shutil.copy(study / "lab.yaml", tmp_path / "lab.yaml")
    template = "timed/{subject_id}/{session_id}@{session_start_time}"
    out = tmp_path / "dandiset"
    args = ("--source", template, "-m", "lab.yaml", "--set", "subject.sex=U", "--set", "subject.age=P90D")
    code, result = batch_json(*args, "-o", out, *FAST, cwd=tmp_path)
    assert code == 0, result
    assert statuses(result) == {"sub-m1_ses-rec7": "converted", "sub-m3_ses-rec7": "converted"}
    for subject, start in starts.items():
        path = out / f"sub-{subject}" / f"sub-{subject}_ses-rec7_ecephys.nwb"
        with NWBHDF5IO(str(path), "r") as io:
            nwb = io.read()
            assert nwb.subject.subject_id == subject
            assert nwb.session_id == "rec7"
            assert nwb.session_start_time == dt.datetime.fromisoformat(start)
            assert nwb.subject.sex == "U" and nwb.lab == "Synthetic Lab"
        assert_valid(path)


def test_engine_options_are_checked_before_any_session(study: Path, tmp_path: Path) -> None:
    out = tmp_path / "dandiset"
    both = nwbconvert("batch", "study.yaml", "-o", out, "--scheduler", "tcp://127.0.0.1:1", "--dask-workers", "2")
    assert both.returncode == 2 and "not both" in both.stderr
    pool_and_dask = nwbconvert("batch", "study.yaml", "-o", out, "-j", "2", "--dask-workers", "2", cwd=study)
    assert pool_and_dask.returncode == 2 and "-j/--jobs" in pool_and_dask.stderr
    nothing = nwbconvert("batch", "-o", out, cwd=study)
    assert nothing.returncode == 2 and "--source" in nothing.stderr
    unreachable = nwbconvert(
        "batch", "study.yaml", "-o", out, "--scheduler", f"tcp://127.0.0.1:{_free_port()}", cwd=study
    )
    assert unreachable.returncode == 2 and "cannot connect" in unreachable.stderr
    assert not (out / "sub-m1").exists()


def test_a_killed_pool_worker_fails_only_its_session(tmp_path: Path) -> None:
    """SIGKILL the worker converting a session (found by the pid in its partial file's name): that session
    fails as WorkerDied, the others are converted on a new pool, and the next run converts it."""
    root = tmp_path / "study"
    write_study(root, subjects=3, sessions=1, seconds=1.0)
    (root / "study.yaml").write_text(STUDY_YAML)
    out = tmp_path / "dandiset"
    cmd = [sys.executable, "-m", "nwbconvert", "batch", "study.yaml", "-o", str(out), "-j", "1", "--json"]
    proc = subprocess.Popen(cmd, cwd=root, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    victim = None
    deadline = time.monotonic() + 300
    while victim is None and time.monotonic() < deadline and proc.poll() is None:
        found = partials(out)  # .NAME.PID.nwbconvert-partial.nwb: written (then validated) by worker PID
        if found:
            victim = found[0]
            os.kill(int(victim.name.split(".")[-3]), signal.SIGKILL)
        time.sleep(0.005)
    stdout, stderr = proc.communicate(timeout=600)
    assert victim is not None, "no session was caught being written"
    killed = next(k for k in KEYS if victim.name.startswith(f".{k}_ecephys.nwb."))
    assert proc.returncode == 1, stderr
    result = json.loads(stdout)["result"]
    expected = {k: "converted" for k in ("sub-m1_ses-day1", "sub-m2_ses-day1", "sub-m3_ses-day1")}
    assert statuses(result) == expected | {killed: "failed"}
    failed = next(s for s in result["sessions"] if s["key"] == killed)
    assert failed["error_family"] == "WorkerDied" and "died" in failed["message"]
    assert not output_of(out, killed).exists()

    code, again = batch_json("study.yaml", "-o", out, cwd=root)
    assert code == 0, again
    assert statuses(again) == dict.fromkeys(expected, "skipped") | {killed: "converted"}
    assert partials(out) == []  # the dead worker's temporary file was removed
    assert_valid(output_of(out, killed))


def test_a_pool_whose_workers_cannot_start_fails_every_session_once(tmp_path: Path) -> None:
    """Every spawned pool worker dies as it starts (a sitecustomize on its path exits the process before it takes
    a task, as a broken environment on the workers would): no session started, so each fails as WorkerDied
    "before starting" after one pool, not retried forever, and nothing is written."""
    root = tmp_path / "study"
    write_study(root, subjects=2, sessions=1, seconds=1.0)
    (root / "study.yaml").write_text(STUDY_YAML)
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(
        "import os, sys\nif '--multiprocessing-fork' in sys.argv:  # a spawned worker, not the batch itself\n"
        "    os._exit(1)\n"
    )
    env = ENV | {"PYTHONPATH": os.pathsep.join(filter(None, [str(hook), ENV.get("PYTHONPATH")]))}
    out = tmp_path / "dandiset"
    cmd = [sys.executable, "-m", "nwbconvert", "batch", "study.yaml", "-o", str(out), "-j", "2", *FAST, "--json"]
    done = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    result = json.loads(done.stdout)["result"]
    assert statuses(result) == {"sub-m1_ses-day1": "failed", "sub-m2_ses-day1": "failed"}
    for session in result["sessions"]:
        assert session["error_family"] == "WorkerDied", session
        assert "The worker processes died before starting the session" in session["message"], session
    assert list(out.rglob("*.nwb")) == [] and partials(out) == []


# -- Ctrl-C on Dask: the running sessions stop too -------------------------------------------------------------------

SLOW = ("--compression", "gzip", "--compression-level", "9", "-q")  # seconds per session, time to interrupt one


@pytest.fixture(scope="module")
def long_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One subject, three sessions of 20 s (a few seconds each to convert at gzip level 9)."""
    return make_study(tmp_path_factory.mktemp("long_study"), subjects=1, sessions=3, seconds=20.0)


def interrupt_while_writing(
    args: list[str], study: Path, out: Path, whole_group: bool
) -> tuple[subprocess.CompletedProcess[str], list[Path]]:
    """Start `nwbconvert batch study.yaml -o out ARGS`, send SIGINT once a session's temporary file exists (to the
    batch's process group, as a terminal's Ctrl-C does, or to the batch alone); the finished run and the
    temporary files that existed at that moment."""
    cmd = [sys.executable, "-m", "nwbconvert", "batch", "study.yaml", "-o", str(out), *args]
    proc = subprocess.Popen(
        cmd, cwd=study, env=ENV, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline and proc.poll() is None and not partials(out):
            time.sleep(0.01)
        writing = partials(out)
        assert proc.poll() is None and writing, "the batch ended before a session could be interrupted"
        time.sleep(0.3)  # into the samples
        if whole_group:
            os.killpg(proc.pid, signal.SIGINT)
        else:
            os.kill(proc.pid, signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr), writing


def assert_stopped_cleanly(run: subprocess.CompletedProcess[str], out: Path, writing: list[Path]) -> None:
    """Exit 130 with one paragraph and no traceback (the workers' neither); the session being written when
    interrupted left nothing, no temporary file is left, every session's log says it was interrupted."""
    assert run.returncode == 130, run.stderr
    assert "Interrupted" in run.stderr and "Traceback" not in run.stderr, run.stderr
    assert partials(out) == []
    for partial in writing:  # .<name>.<pid>.nwbconvert-partial.nwb -> <name>
        assert not (partial.parent / partial.name[1:].split(".")[0]).with_suffix(".nwb").exists()
    assert list(out.rglob("*.nwb")) == []
    logs = sorted((out / ".nwbconvert" / "logs").glob("*.log"))
    assert len(logs) == 3 and all("failed (Interrupted, exit code 130)" in p.read_text() for p in logs)


def test_ctrl_c_stops_the_running_sessions_of_a_dask_local_cluster(long_study: Path, tmp_path: Path) -> None:
    """Ctrl-C reaches the batch and the LocalCluster's workers (one process group): the workers ignore it, the
    client stops the running session at its next chunk and the queued ones before they begin (before: the
    workers printed tracebacks and the running session was finished)."""
    out = tmp_path / "dandiset"
    run, writing = interrupt_while_writing(["--dask-workers", "1", *SLOW], long_study, out, whole_group=True)
    assert_stopped_cleanly(run, out, writing)


def test_ctrl_c_stops_the_running_sessions_on_a_dask_scheduler(
    long_study: Path, tmp_path: Path, dask_cluster: tuple[str, list[subprocess.Popen[bytes]], set[int]]
) -> None:
    """Only the batch gets the signal (the cluster runs elsewhere): its sessions on the workers stop, the workers
    live on, and the next batch on the same workers converts every session (an old stop does not linger)."""
    address, procs, _ = dask_cluster
    out = tmp_path / "dandiset"
    run, writing = interrupt_while_writing(["--scheduler", address, *SLOW], long_study, out, whole_group=False)
    assert_stopped_cleanly(run, out, writing)
    assert all(p.poll() is None for p in procs)
    code, result = batch_json("study.yaml", "-o", out, "--scheduler", address, *FAST, cwd=long_study)
    assert code == 0, result
    assert set(statuses(result).values()) == {"converted"} and len(result["sessions"]) == 3
