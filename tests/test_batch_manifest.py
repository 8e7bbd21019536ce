"""Resuming a study: decide() after record() follows the real inputs, options and output of a converted session
(the session locks: test_batch_lock.py)."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from helpers import assert_valid
from nwbconvert.batch.discover import StudyRequest, discover, state_dir
from nwbconvert.batch.layout import manifest_path
from nwbconvert.batch.manifest import decide, read_entry, record
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
