"""Resuming a study: one manifest entry per session (what it was converted from and how), one lock per session.

`<out>/.nwbconvert/manifest/<key>.json` records how a session ended, with the fingerprint of its inputs (file
names, sizes and modification times: never a checksum of tens of GB), of the options and metadata that shape its
file, and the nwbconvert version. A re-run converts a session again only when that fingerprint changed, its output
is gone or changed, or it failed before. `<out>/.nwbconvert/locks/<key>.lock` (created with O_CREAT|O_EXCL, holding
host, pid and process start) keeps two runs from writing one session; a lock whose process is dead on this host,
or one from another host not refreshed for STALE_AFTER_S, is stale and taken over.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from nwbconvert.batch.layout import lock_path, manifest_path
from nwbconvert.batch.model import SessionJob, SessionOutcome, Status
from nwbconvert.durable import fsync_dir, fsync_file
from nwbconvert.output import zombie

HEARTBEAT_S = 60.0  # a held lock's modification time is refreshed this often
STALE_AFTER_S = 600.0  # a lock of another host not refreshed for this long belongs to a dead run
EMPTY_GRACE_S = 30.0  # an empty lock (its writer died between creating and filling it) is stale after this


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
        stat = job.output.stat()
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


def record(job: SessionJob, outcome: SessionOutcome) -> None:
    """Write the session's manifest entry after it converted or failed (skipped/locked sessions keep theirs)."""
    if outcome.status not in (Status.CONVERTED, Status.FAILED):
        return
    size = mtime = 0
    if outcome.status is Status.CONVERTED:
        stat = job.output.stat()
        size, mtime = stat.st_size, stat.st_mtime_ns
    entry = Entry(
        key=job.key,
        status=outcome.status,
        version=_version(),
        inputs=input_files(job),
        options=output_options(job),
        output=str(job.output),
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
    normal: dict[str, Any] = json.loads(
        json.dumps({"options": options, "sources": sources, "metadata": metadata}, sort_keys=True, default=str)
    )
    return normal


@contextmanager
def session_lock(job: SessionJob) -> Iterator[bool]:
    """Hold the session's lock while converting it: yields True when held, False when a live run holds it.
    Stale locks (dead process on this host, or another host's lock not refreshed for STALE_AFTER_S) are taken
    over; while held, the lock is refreshed every HEARTBEAT_S so other hosts can tell it is alive."""
    path = lock_path(job.output, job.key)
    path.parent.mkdir(parents=True, exist_ok=True)
    mine = _acquire(path)
    if mine is None:
        yield False
        return
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(path, stop), name=f"lock {job.key}", daemon=True)
    beat.start()
    try:
        yield True
    finally:
        stop.set()
        beat.join()
        with suppress(OSError):
            if path.read_bytes() == mine:  # still ours (not taken over as stale)
                path.unlink()


def _acquire(path: Path) -> bytes | None:
    """Create the lock (O_CREAT|O_EXCL) holding this process's identity; the bytes written, or None when held."""
    mine = json.dumps(_identity()).encode()
    for _ in range(3):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                held = path.read_bytes()
            except FileNotFoundError:
                continue  # released meanwhile: try again
            if not _is_stale(path, held) or not _break(path, held):
                return None
            continue
        try:
            os.write(fd, mine)
        finally:
            os.close(fd)
        return mine
    return None


def _break(path: Path, held: bytes) -> bool:
    """Remove a stale lock, unless another run has taken it over meanwhile: one breaker at a time (its own
    O_EXCL file), and only if the lock still holds what was judged stale."""
    breaker = path.with_name(path.name + ".break")
    try:
        fd = os.open(breaker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        with suppress(OSError):
            if time.time() - breaker.stat().st_mtime > EMPTY_GRACE_S:  # its breaker died mid-way
                breaker.unlink()
        return False
    os.close(fd)
    try:
        if path.read_bytes() != held:
            return False
        path.unlink()
        return True
    except FileNotFoundError:
        return True
    finally:
        breaker.unlink(missing_ok=True)


def _is_stale(path: Path, held: bytes) -> bool:
    try:
        age = time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return True
    try:
        holder = json.loads(held)
        host, pid, start = str(holder["host"]), int(holder["pid"]), holder.get("start")
    except (ValueError, KeyError, TypeError):
        return age > EMPTY_GRACE_S  # being written, or its writer died before filling it
    if host != socket.gethostname():
        return age > STALE_AFTER_S
    return not _alive(pid, start)


def _alive(pid: int, start: int | None) -> bool:
    """Whether process `pid` of this host runs, and is the one that took the lock (not a reused pid)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    if zombie(pid):  # killed, not yet reaped
        return False
    now = _process_start(pid)
    return start is None or now is None or now == start


def _identity() -> dict[str, Any]:
    return {
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "start": _process_start(os.getpid()),
        "token": uuid.uuid4().hex,
        "since": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }


def _process_start(pid: int) -> int | None:
    """When the process started, in clock ticks since boot (Linux); None elsewhere."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return int(stat.rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def _heartbeat(path: Path, stop: threading.Event) -> None:
    while not stop.wait(HEARTBEAT_S):
        with suppress(OSError):
            os.utime(path)


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
