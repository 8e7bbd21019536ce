"""Validate many files: each in its own worker process with a time limit; results in a stable order."""

from __future__ import annotations

import gc
import multiprocessing
import os
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any, cast

from nwbconvert.backends import store_suffix
from nwbconvert.errors import UsageError
from nwbconvert.output import PARTIAL_TAG
from nwbconvert.validate.checker import GROUPS, check_file
from nwbconvert.validate.dandi_ready import duplicate_identifiers
from nwbconvert.validate.findings import FileReport, Finding, ValidationLayer
from nwbconvert.validate.zarr_store import is_store


@dataclass(frozen=True)
class ValidateOptions:
    jobs: int = 1  # worker processes
    timeout_s: float = 120.0
    dandi_layout: bool = False


def collect(paths: list[Path]) -> list[Path]:
    """Files to validate: files (and Zarr stores) as given; other folders searched recursively for *.nwb files
    and *.nwb.zarr stores, each store one file (never searched inside); missing paths are an error."""
    missing = [str(p) for p in paths if not os.path.lexists(p)]  # a dangling link is reported, not missing
    if missing:
        raise UsageError(f"No such file or folder: {', '.join(missing)}. Nothing was validated.")
    files: list[Path] = []
    for p in paths:
        if p.is_dir() and not is_store(p):
            files += sorted(_walk(p))
        else:
            files.append(p)
    return list(dict.fromkeys(files))


def _walk(folder: Path) -> Iterator[Path]:
    """*.nwb files and *.nwb.zarr stores under `folder` (and entries so named that are neither: dangling links,
    pipes), skipping hidden names and partial outputs."""
    for parent, dirs, names in os.walk(folder):
        here = Path(parent)
        stores = [
            d for d in dirs if store_suffix(Path(d)) is not None and not d.startswith(".") and PARTIAL_TAG not in d
        ]
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in stores]
        yield from (here / d for d in stores)
        for name in names:  # every non-folder entry: dangling links and pipes too, reported by entry_problem
            hidden = name.startswith(".") or PARTIAL_TAG in name
            if (name.endswith(".nwb") or store_suffix(Path(name)) is not None) and not hidden:
                yield here / name


def validate_files(
    files: list[Path], options: ValidateOptions, on_done: Callable[[FileReport], None] | None = None
) -> list[FileReport]:
    """Reports in the order of `files`, plus batch-level findings (shared identifiers).

    With at least as many files as workers, each file is one task and the workers are forked with the
    validators already imported (they start in milliseconds). With fewer files than workers, each file
    is split into its layer groups, which run (and import their libraries) in parallel.
    """
    jobs = max(1, options.jobs)
    split = len(files) < jobs
    if not split:
        _warm_up()
    groups: list[tuple[str, ...]] = [(g,) for g in GROUPS] if split else [GROUPS]
    refused = {i: report for i, path in enumerate(files) if (report := entry_problem(path)) is not None}
    tasks = [(i, path, g) for i, path in enumerate(files) if i not in refused for g in groups]
    parts: dict[int, dict[tuple[str, ...], FileReport]] = {i: {} for i in range(len(files))}
    results: dict[int, FileReport] = {}
    for index, report in refused.items():  # no worker: opening a pipe would wait for a writer
        results[index] = report
        if on_done:
            on_done(report)

    def finish(index: int, group: tuple[str, ...], report: FileReport, timed_out: bool) -> None:
        parts[index][group] = report
        if index in results or not (timed_out or len(parts[index]) == len(groups)):
            return
        # a timed-out part stands for the whole file; otherwise parts join in layer order
        results[index] = report if timed_out else _merge(files[index], [parts[index][g] for g in groups])
        if on_done:
            on_done(results[index])

    _run(tasks, jobs, options, finish)
    reports = [results[i] for i in range(len(files))]
    extra = duplicate_identifiers(reports)
    return [
        FileReport(r.file, r.findings + tuple(f for f in extra if f.file == r.file), r.identifier, r.seconds)
        for r in reports
    ]


def _run(
    tasks: list[tuple[int, Path, tuple[str, ...]]],
    jobs: int,
    options: ValidateOptions,
    finish: Callable[[int, tuple[str, ...], FileReport, bool], None],
) -> None:
    """Run each task in its own forked process, `jobs` at a time, killing any that exceeds the time limit."""
    context = multiprocessing.get_context("fork")
    pending = list(tasks)
    running: dict[Connection, tuple[int, Any, float, Path, tuple[str, ...]]] = {}
    while pending or running:
        while pending and len(running) < jobs:
            index, path, group = pending.pop(0)
            receiver, sender = context.Pipe(duplex=False)
            proc = context.Process(target=_worker, args=(path, options.dandi_layout, group, sender), daemon=True)
            proc.start()
            sender.close()
            running[receiver] = (index, proc, time.monotonic() + options.timeout_s, path, group)
        next_deadline = min(entry[2] for entry in running.values())
        for ready in wait(list(running), timeout=max(0.0, next_deadline - time.monotonic())):
            conn = cast(Connection, ready)
            index, proc, _, path, group = running.pop(conn)
            finish(index, group, _receive(conn, proc, path), False)
        now = time.monotonic()
        for conn, (index, proc, deadline, path, group) in list(running.items()):
            if now >= deadline:
                proc.kill()
                proc.join()
                conn.close()
                del running[conn]
                message = (
                    f"Validation timed out after {options.timeout_s:g} s "
                    "(a damaged HDF5 file can make readers loop forever)."
                )
                finish(index, group, _failed(path, "file.timeout", message, "The file is probably damaged."), True)


def _merge(path: Path, parts: list[FileReport]) -> FileReport:
    findings = tuple(f for p in parts for f in p.findings)
    identifier = next((p.identifier for p in parts if p.identifier), None)
    return FileReport(str(path), findings, identifier, max(p.seconds for p in parts))


def _worker(path: Path, dandi_layout: bool, groups: tuple[str, ...], conn: Connection) -> None:
    try:
        report = check_file(path, dandi_layout, groups=groups)
    except BaseException as exc:  # a crash must still produce a report
        report = _failed(
            path,
            "validator.crashed",
            f"The validator failed: {type(exc).__name__}: {exc}.",
            "Report this with the file if you can share it.",
        )
    conn.send(report)
    conn.close()


def _receive(conn: Connection, proc: Any, path: Path) -> FileReport:
    try:
        report: FileReport = conn.recv()
    except EOFError:
        proc.join()
        return _failed(
            path,
            "validator.crashed",
            f"The validating process died (exit code {proc.exitcode}).",
            "The file is probably damaged; copy or convert it again.",
        )
    finally:
        conn.close()
    proc.join()
    return report


def entry_problem(path: Path) -> FileReport | None:
    """An error report for an entry that is not a regular file or a folder (checked without opening it):
    a dangling link (an unfetched DataLad / git-annex file) or a pipe, socket or device."""
    if path.is_symlink() and not path.exists():
        return _failed(
            path,
            "file.dangling_link",
            f"The file is a symbolic link to {os.readlink(path)}, which does not exist, so there is nothing to "
            "validate. In a DataLad or git-annex dataset this is a file whose content was not fetched.",
            f"Fetch the content (datalad get {path}, or git annex get {path}), or remove the link.",
        )
    if path.is_file() or path.is_dir():
        return None
    mode = path.stat().st_mode
    kind = next((k for test, k in _KINDS if test(mode)), "special file")
    return _failed(
        path,
        "file.not_regular",
        f"This is a {kind}, not a regular file, so it is not read (reading it could wait forever).",
        "Validate the NWB file itself: copy it to a regular file first if it comes through a pipe.",
    )


_KINDS = (
    (stat.S_ISFIFO, "named pipe (FIFO)"),
    (stat.S_ISSOCK, "socket"),
    (stat.S_ISCHR, "character device"),
    (stat.S_ISBLK, "block device"),
)


def _failed(path: Path, check: str, message: str, fix: str) -> FileReport:
    return FileReport(str(path), (Finding.error(str(path), check, ValidationLayer.FILE, message, fix),))


def _warm_up() -> None:
    import dandi.metadata.util  # noqa: F401
    import h5py  # noqa: F401
    import hdmf_zarr.nwb  # noqa: F401
    import nwbinspector  # noqa: F401
    import pynwb  # noqa: F401

    from nwbconvert.dandi_naming import modality_table
    from nwbconvert.validate.dandi_asset import warm_up
    from nwbconvert.validate.opened import prime

    warm_up()  # dandi-cli's extraction imported, the published-asset JSON Schema built once for every worker
    modality_table()
    prime()  # this installation's own specs, validators built: files nwbconvert wrote need no spec loading
    gc.freeze()  # the forked workers' collector leaves what was loaded here alone: its pages stay shared
