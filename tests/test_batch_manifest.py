"""Resuming a study: decide() after record() follows the real inputs, options and output of a converted session;
session locks keep concurrent runs apart and are taken over from dead processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from helpers import assert_valid
from nwbconvert.batch.discover import StudyRequest, discover, state_dir
from nwbconvert.batch.layout import lock_path, manifest_path
from nwbconvert.batch.manifest import decide, read_entry, record, session_lock
from nwbconvert.batch.model import SessionJob, SessionOutcome, Status
from nwbconvert.metadata.layers import Layer
from nwbconvert.metadata.model import MetadataLayer
from nwbconvert.pipeline import ConvertOptions, convert_sources
from nwbconvert.synthetic.study import write_study

METADATA = ("subject.age=P90D",)


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> SessionJob:
    """One real session of a generated study, converted as a batch would, with its manifest entry."""
    root = tmp_path_factory.mktemp("study")
    write_study(root, subjects=1, sessions=1)
    (root / "study.yaml").write_text(
        "source: raw/{subject_id}/{session_id}\nmetadata: lab.yaml\nsubjects: subjects/{subject_id}.yaml\n"
    )
    options = ConvertOptions(set_values=METADATA, timezone="UTC", overwrite=True)
    (job,) = discover(StudyRequest(root / "out", options, root / "study.yaml"))
    assert decide(job, force=False) == (True, "new")
    job.output.parent.mkdir(parents=True)
    convert_sources(job.sources, job.output, job.options, None, job.layers)
    record(job, SessionOutcome(job.key, Status.CONVERTED, job.output))
    return job


def _convert_again(job: SessionJob) -> None:
    convert_sources(job.sources, job.output, job.options, None, job.layers)
    record(job, SessionOutcome(job.key, Status.CONVERTED, job.output))


def test_recorded_session_is_up_to_date_until_an_input_changes(converted: SessionJob) -> None:
    job = converted
    assert_valid(job.output)
    assert decide(job, force=False) == (False, "up to date")
    assert decide(job, force=True) == (True, "forced")
    entry = read_entry(job)
    assert entry is not None and entry.status is Status.CONVERTED
    assert manifest_path(job.output, job.key) == state_dir(job.output.parent.parent) / "manifest" / f"{job.key}.json"
    source = job.sources[0].path
    files = sorted(p for p in source.rglob("*") if p.is_file())
    assert [Path(f.path) for f in entry.inputs] == files  # every file of the session folder, by name
    assert [(f.size, f.mtime_ns) for f in entry.inputs] == [(p.stat().st_size, p.stat().st_mtime_ns) for p in files]
    assert (entry.output_size, entry.output_mtime_ns) == (job.output.stat().st_size, job.output.stat().st_mtime_ns)

    touched = files[0]
    stat = touched.stat()
    os.utime(touched, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))  # touched: same bytes, newer
    assert decide(job, force=False) == (True, "inputs changed")
    _convert_again(job)
    assert decide(job, force=False) == (False, "up to date")

    notes = source / "notes.txt"  # a new file in the session folder
    notes.write_text("electrode drifted\n")
    assert decide(job, force=False) == (True, "inputs changed")
    _convert_again(job)
    assert decide(job, force=False) == (False, "up to date")
    with notes.open("a") as handle:  # grown, same modification time
        handle.write("and was moved\n")
    os.utime(notes, ns=(notes.stat().st_atime_ns, read_entry(job).inputs[-1].mtime_ns))  # type: ignore[union-attr]
    assert decide(job, force=False) == (True, "inputs changed")
    notes.unlink()
    _convert_again(job)
    assert decide(job, force=False) == (False, "up to date")


def test_options_and_metadata_that_shape_the_file_are_part_of_the_fingerprint(converted: SessionJob) -> None:
    job = converted
    assert decide(job, force=False) == (False, "up to date")
    same_file = replace(job, options=replace(job.options, jobs=1, overwrite=False, dry_run=True))
    assert decide(same_file, force=False) == (False, "up to date")  # cores and overwrite do not change the file
    for changed in (
        replace(job.options, compression="lzf"),
        replace(job.options, compression_level=9),
        replace(job.options, chunk_mb=1.0),
        replace(job.options, stub_seconds=0.5),
        replace(job.options, validate=False),
        replace(job.options, set_values=("subject.age=P91D",)),
        replace(job.options, timezone="Europe/Berlin"),
    ):
        assert decide(replace(job, options=changed), force=False) == (True, "options changed"), changed
    relabelled = replace(job, layers=(*job.layers, Layer("study", MetadataLayer(lab="Other Lab"))))
    assert decide(relabelled, force=False) == (True, "options changed")
    streams = replace(job, sources=(replace(job.sources[0], streams=("imec0.ap",)),))
    assert decide(streams, force=False) == (True, "options changed")


def test_failed_missing_changed_output_and_new_version_are_redone(converted: SessionJob) -> None:
    job = converted
    path = manifest_path(job.output, job.key)
    saved = path.read_text()
    try:
        record(
            job,
            SessionOutcome(job.key, Status.FAILED, job.output, exit_code=3, error_family="SourceError", message="x"),
        )
        entry = read_entry(job)
        assert entry is not None and (entry.status, entry.exit_code, entry.error_family) == (
            Status.FAILED,
            3,
            "SourceError",
        )
        assert decide(job, force=False) == (True, "failed before")
        record(job, SessionOutcome(job.key, Status.SKIPPED, job.output))  # skipped/locked keep the entry
        record(job, SessionOutcome(job.key, Status.LOCKED, job.output))
        assert decide(job, force=False) == (True, "failed before")
        path.write_text(saved)
        assert decide(job, force=False) == (False, "up to date")

        data = json.loads(saved)
        path.write_text(json.dumps({**data, "version": "0.0.1"}))
        assert decide(job, force=False) == (True, "nwbconvert version changed")
        path.write_text("{not json")
        assert decide(job, force=False) == (True, "new")
        path.write_text(saved)

        moved = job.output.with_name("elsewhere.nwb")
        job.output.rename(moved)
        assert decide(job, force=False) == (True, "output missing")
        moved.rename(job.output)
        assert decide(job, force=False) == (False, "up to date")
        stat = job.output.stat()
        os.utime(job.output, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        assert decide(job, force=False) == (True, "output changed")
        os.utime(job.output, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        assert decide(job, force=False) == (False, "up to date")
    finally:
        path.write_text(saved)
    assert not list(path.parent.glob(".*.tmp"))  # written atomically: no temporary files left


# --- locks ---------------------------------------------------------------------------------------------------


def _job(tmp_path: Path) -> SessionJob:
    out = tmp_path / "out"
    return SessionJob("sub-m1_ses-1", "m1", "1", (), (), out / "sub-m1" / "sub-m1_ses-1_ecephys.nwb", ConvertOptions())


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


HOLDER = """
import sys, time
from pathlib import Path
from nwbconvert.batch.manifest import session_lock
from nwbconvert.batch.model import SessionJob
from nwbconvert.pipeline import ConvertOptions
out = Path(sys.argv[1])
job = SessionJob("sub-m1_ses-1", "m1", "1", (), (), out / "sub-m1" / "sub-m1_ses-1_ecephys.nwb", ConvertOptions())
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))  # all contenders start together
with session_lock(job) as held:
    print("held" if held else "refused", flush=True)
    time.sleep(float(sys.argv[3]))
"""


def test_second_lock_on_a_session_is_refused_until_released(tmp_path: Path) -> None:
    job = _job(tmp_path)
    path = lock_path(job.output, job.key)
    with session_lock(job) as first:
        assert first is True
        holder = json.loads(path.read_text())
        assert (holder["host"], holder["pid"]) == (socket.gethostname(), os.getpid())
        with session_lock(job) as second:
            assert second is False
        assert path.exists()  # the refused one did not remove the holder's lock
    assert not path.exists()
    with session_lock(job) as again:
        assert again is True


def test_lock_of_a_dead_process_is_taken_over(tmp_path: Path) -> None:
    job = _job(tmp_path)
    path = lock_path(job.output, job.key)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"host": socket.gethostname(), "pid": _dead_pid(), "start": None}))
    with session_lock(job) as held:
        assert held is True
        assert json.loads(path.read_text())["pid"] == os.getpid()
    # a live pid that is not the process that took the lock (its start differs): the pid was reused
    path.write_text(json.dumps({"host": socket.gethostname(), "pid": os.getpid(), "start": -1}))
    with session_lock(job) as held:
        assert held is True
    # an empty lock (its writer died between creating and filling it) is stale once old
    path.write_text("")
    with session_lock(job) as held:
        assert held is False
    os.utime(path, (time.time() - 120, time.time() - 120))
    with session_lock(job) as held:
        assert held is True


def test_lock_of_another_host_is_stale_only_when_not_refreshed(tmp_path: Path) -> None:
    job = _job(tmp_path)
    path = lock_path(job.output, job.key)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"host": "node-17.cluster", "pid": 1, "start": 5}))
    with session_lock(job) as held:
        assert held is False
    old = time.time() - 3600
    os.utime(path, (old, old))
    with session_lock(job) as held:
        assert held is True


def test_lock_held_by_a_live_process_until_it_is_killed(tmp_path: Path) -> None:
    job = _job(tmp_path)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path / "out"), "0", "600"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with session_lock(job) as held:
            assert held is False
        holder.send_signal(signal.SIGKILL)  # killed: its lock stays behind, naming a dead process
        holder.wait(timeout=30)
        assert lock_path(job.output, job.key).exists()
        with session_lock(job) as held:
            assert held is True
    finally:
        holder.kill()
        holder.wait(timeout=30)


def test_concurrent_runs_take_a_stale_lock_over_once(tmp_path: Path) -> None:
    job = _job(tmp_path)
    path = lock_path(job.output, job.key)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"host": socket.gethostname(), "pid": _dead_pid(), "start": None}))
    start = time.time() + 4.0
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(tmp_path / "out"), str(start), "5"], stdout=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    answers = [run.communicate(timeout=60)[0].strip() for run in runs]
    assert sorted(answers) == ["held", "refused", "refused", "refused"]
    assert not path.exists() and not list(path.parent.iterdir())  # released, no breaker left
