"""Resuming a study: one manifest entry per session (what it was converted from and how).

`<out>/.nwbconvert/manifest/<key>.json` records how a session ended, with the fingerprint of its inputs (file
names, sizes and modification times: never a checksum of tens of GB), of the options and metadata that shape its
file, and the nwbconvert version. A re-run converts a session again only when that fingerprint changed, its output
is gone or changed, or it failed before. Two runs are kept from writing one session by its lock (lock.py).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from contextlib import suppress
from dataclasses import asdict
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from nwbconvert.batch.layout import manifest_path
from nwbconvert.batch.model import SessionJob, SessionOutcome, Status
from nwbconvert.durable import fsync_dir, fsync_file


class InputFile(BaseModel):
    path: str
    size: int
    mtime_ns: int


class Entry(BaseModel):
    """One session's manifest file."""

    key: str
    status: Status
    version: str
    inputs: list[InputFile]
    options: dict[str, Any]  # what shapes the file: write options, sources, metadata layers (JSON values)
    output: str
    output_size: int = 0
    output_mtime_ns: int = 0
    finished: str = ""
    exit_code: int = 0
    error_family: str = ""
    message: str = ""


def decide(job: SessionJob, force: bool) -> tuple[bool, str]:
    """(convert it?, why): "forced", "new", "failed before", "output missing", "output changed", "nwbconvert
    version changed", "inputs changed", "options changed" or "up to date" (the only one that skips)."""
    if force:
        return True, "forced"
    entry = read_entry(job)
    if entry is None:
        return True, "new"
    if entry.status is not Status.CONVERTED:
        return True, "failed before"
    try:
        stat = recorded_output(job, entry).stat()
    except OSError:
        return True, "output missing"
    if (stat.st_size, stat.st_mtime_ns) != (entry.output_size, entry.output_mtime_ns):
        return True, "output changed"
    if entry.version != _version():
        return True, "nwbconvert version changed"
    if entry.inputs != input_files(job):
        return True, "inputs changed"
    if entry.options != output_options(job):
        return True, "options changed"
    return False, "up to date"


def known_output(job: SessionJob) -> Path:
    """The session's file as its last conversion named it, or, before one succeeded, `job.output`."""
    entry = read_entry(job)
    return recorded_output(job, entry if entry is not None and entry.status is Status.CONVERTED else None)


def recorded_output(job: SessionJob, entry: Entry | None) -> Path:
    """The session's file as its last conversion named it (by its DANDI modality) in the job's folder."""
    return job.output if entry is None else job.output.with_name(Path(entry.output).name)


def record(job: SessionJob, outcome: SessionOutcome) -> None:
    """Write the session's manifest entry after it converted or failed (skipped/locked sessions keep theirs)."""
    if outcome.status not in (Status.CONVERTED, Status.FAILED):
        return
    size = mtime = 0
    if outcome.status is Status.CONVERTED:
        stat = outcome.output.stat()
        size, mtime = stat.st_size, stat.st_mtime_ns
    entry = Entry(
        key=job.key,
        status=outcome.status,
        version=_version(),
        inputs=input_files(job),
        options=output_options(job),
        output=str(outcome.output),
        output_size=size,
        output_mtime_ns=mtime,
        finished=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        exit_code=outcome.exit_code,
        error_family=outcome.error_family,
        message=outcome.message,
    )
    _write_atomic(manifest_path(job.output, job.key), entry.model_dump_json(indent=2))


def read_entry(job: SessionJob) -> Entry | None:
    """The session's manifest entry; None when there is none or it is unreadable (then the session is redone)."""
    try:
        return Entry.model_validate_json(manifest_path(job.output, job.key).read_text())
    except (OSError, ValueError):
        return None


def input_files(job: SessionJob) -> list[InputFile]:
    """Every file the session reads, by name, size and modification time: a source folder's files (hidden ones
    left out), a source file and its siblings of the same stem (x.bin + x.meta), sortings, probe files."""
    paths: set[Path] = set()
    for spec in job.sources:
        for target in (spec.path, *(_sorting_path(p) for p in spec.sortings), spec.probe):
            if target is not None:
                paths.update(_files(Path(target)))
    paths.update(p for m in job.options.metadata_files for p in _files(m))
    files = []
    for path in sorted(paths):
        with suppress(OSError):
            stat = path.stat()
            files.append(InputFile(path=str(path), size=stat.st_size, mtime_ns=stat.st_mtime_ns))
    return files


def output_options(job: SessionJob) -> dict[str, Any]:
    """What shapes the session's file besides its inputs: the options that do (`ConvertOptions.fingerprint`: any
    option added later says whether it does), each source's settings, the metadata layers' values."""
    options = job.options.fingerprint()
    sources = [asdict(spec) for spec in job.sources]
    metadata = [layer.values.model_dump(mode="json", exclude_unset=True) for layer in job.layers]
    align = [asdict(a) for a in job.alignments]
    found = {"options": options, "sources": sources, "metadata": metadata} | ({"align": align} if align else {})
    normal: dict[str, Any] = json.loads(json.dumps(found, sort_keys=True, default=str))
    return normal


def _files(path: Path) -> list[Path]:
    path = path.expanduser().absolute()
    if path.is_dir():
        found = []
        for folder, dirs, names in os.walk(path):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            found += [Path(folder) / name for name in names if not name.startswith(".")]
        return found
    if path.is_file():
        return [p for p in path.parent.glob(f"{_glob_escape(path.stem)}.*") if p.is_file()] or [path]
    return []


def _glob_escape(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)


def _sorting_path(spec: Path) -> Path:
    """A `--sorting [SERIES=]PATH` value's path."""
    text = str(spec)
    head, sep, tail = text.partition("=")
    return Path(tail) if sep and "/" not in head else spec


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        tmp.write_text(text)
        fsync_file(tmp)
        os.replace(tmp, path)
        fsync_dir(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


def _version() -> str:
    from nwbconvert import __version__

    return __version__
