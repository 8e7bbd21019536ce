"""Validate many files: on worker processes (validate/workers.py), each file with a time limit; results in a stable
order."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from nwbconvert.backends import store_suffix
from nwbconvert.errors import UsageError
from nwbconvert.output import PARTIAL_TAG
from nwbconvert.validate.checker import GROUPS, split_groups
from nwbconvert.validate.dandi_ready import duplicate_identifiers
from nwbconvert.validate.findings import FileReport
from nwbconvert.validate.workers import failed, run_tasks
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
    validators already imported (they start in milliseconds) and kept for the next clean file. With fewer files
    than workers, each file's layer groups are shared out among the workers (`checker.split_groups`), which run (and
    load their libraries) in parallel.
    """
    jobs = max(1, options.jobs)
    split = len(files) < jobs
    if not split:
        warm_up()
    groups = split_groups(jobs) if split else [GROUPS]
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

    run_tasks(tasks, jobs, options.timeout_s, options.dandi_layout, finish)
    reports = [results[i] for i in range(len(files))]
    extra = duplicate_identifiers(reports)
    return [
        FileReport(r.file, r.findings + tuple(f for f in extra if f.file == r.file), r.identifier, r.seconds)
        for r in reports
    ]


def _merge(path: Path, parts: list[FileReport]) -> FileReport:
    findings = tuple(f for p in parts for f in p.findings)
    identifier = next((p.identifier for p in parts if p.identifier), None)
    return FileReport(str(path), findings, identifier, max(p.seconds for p in parts))


def entry_problem(path: Path) -> FileReport | None:
    """An error report for an entry that is not a regular file or a folder (checked without opening it):
    a dangling link (an unfetched DataLad / git-annex file) or a pipe, socket or device."""
    if path.is_symlink() and not path.exists():
        return failed(
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
    return failed(
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


def warm_up(groups: tuple[str, ...] = GROUPS) -> None:
    """Load what checking the layer `groups` needs (once per process, and inherited by forked workers), the
    collector paused and what was loaded frozen (loading.py): workers forked after it start in milliseconds."""
    todo = set(groups) - _WARMED
    if not todo:
        return
    from nwbconvert.loading import collector_paused

    with collector_paused():
        import h5py  # noqa: F401
        import hdmf_zarr.nwb  # noqa: F401
        import pynwb  # noqa: F401

        if "best_practice" in todo:
            from nwbconvert.validate.best_practice import dandi_checks

            dandi_checks()
        if "dandi" in todo:
            _warm_dandi()
        if set(GROUPS[:2]) <= set(groups) and todo & set(GROUPS[:2]):  # both on one read of the file (opened.py)
            from nwbconvert.validate.opened import prime

            prime()  # this installation's own specs, validators built: files nwbconvert wrote need no spec loading
    _WARMED.update(groups)


_WARMED: set[str] = set()  # the layer groups warm_up has loaded for in this process


def _warm_dandi() -> None:
    import dandi.metadata.util  # noqa: F401

    from nwbconvert.dandi_naming import modality_table
    from nwbconvert.validate.dandi_asset import warm_up

    warm_up()  # dandi-cli's extraction imported, the published-asset JSON Schema built once for every worker
    modality_table()
