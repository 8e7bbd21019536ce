"""The validating processes of `validate DIR`: forked workers that stay alive from clean file to clean file,
each task under a time limit.

A worker that validated a file cleanly takes the next one, with the libraries, the namespaces and the object
mappers it has loaded still warm (files written by the same tool share their specs: validate/opened.py). A worker
is replaced after any file a reader could not read (its library's state is not trusted for the next file), after
a file that timed out or killed it, and after `FILES_PER_WORKER` files (what libraries cache stays bounded).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import suppress
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import cast

from nwbconvert.orphans import fork_helper
from nwbconvert.validate.checker import check_file
from nwbconvert.validate.findings import FileReport, Finding, Severity, ValidationLayer

FILES_PER_WORKER = 100
Task = tuple[int, Path, tuple[str, ...]]  # index in the file list, path, layer groups
Finish = Callable[[int, tuple[str, ...], FileReport, bool], None]  # index, groups, report, timed out


def start_early() -> None:
    """Fork the first worker as `validate` starts, before its command line is parsed: it loads the libraries of
    the DANDI checks (the longest load) meanwhile, and the rest when its first file needs them (a file split
    across two workers gives it just the DANDI checks). `run_tasks` takes it; an exit before that ends it with
    this process (it is a daemon)."""
    with suppress(OSError):  # no process to spare (memory, process limit): run_tasks forks its workers as usual
        _EARLY.append(_Worker(preload=("dandi",)))


_EARLY: list[_Worker] = []


def run_tasks(tasks: list[Task], jobs: int, timeout_s: float, dandi_layout: bool, finish: Finish) -> None:
    """Run `tasks` on at most `jobs` workers (the one `start_early` forked among them), calling `finish` as each
    ends; a task past `timeout_s` is killed with its worker and reported as timed out."""
    pending = sorted(tasks, key=lambda task: "dandi" not in task[2])  # the early worker's part first
    idle: list[_Worker] = [worker for worker in _EARLY if worker.proc.is_alive()]
    _EARLY.clear()
    running: dict[Connection, tuple[_Worker, Task, float]] = {}
    try:
        while pending or running:
            while pending and len(running) < jobs:
                task = pending.pop(0)
                worker = idle.pop(0) if idle else _Worker()
                worker.send(task[1], task[2], dandi_layout)
                running[worker.conn] = (worker, task, time.monotonic() + timeout_s)
            next_deadline = min(deadline for _, _, deadline in running.values())
            for ready in wait(list(running), timeout=max(0.0, next_deadline - time.monotonic())):
                worker, (index, path, groups), _ = running.pop(cast(Connection, ready))
                report = worker.receive(path)
                finish(index, groups, report, False)
                if worker.alive and clean(report) and worker.served < FILES_PER_WORKER:
                    idle.append(worker)
                else:
                    worker.stop()
            now = time.monotonic()
            for conn, (worker, (index, path, groups), deadline) in list(running.items()):
                if now >= deadline:
                    worker.stop()
                    del running[conn]
                    finish(index, groups, timed_out(path, timeout_s), True)
    finally:
        for worker in idle + [entry[0] for entry in running.values()]:
            worker.stop()


def clean(report: FileReport) -> bool:
    """Whether the worker that made `report` may validate another file: every reader read the file (no
    file-level error, no layer that failed to run)."""
    return not any(
        f.severity is Severity.ERROR and (f.layer is ValidationLayer.FILE or f.check_id.endswith(".failed"))
        for f in report.findings
    )


def timed_out(path: Path, timeout_s: float) -> FileReport:
    message = f"Validation timed out after {timeout_s:g} s (a damaged HDF5 file can make readers loop forever)."
    return failed(path, "file.timeout", message, "The file is probably damaged.")


def failed(path: Path, check: str, message: str, fix: str) -> FileReport:
    return FileReport(str(path), (Finding.error(str(path), check, ValidationLayer.FILE, message, fix),))


class _Worker:
    """One forked validating process and its pipe: a (path, groups) task in, a FileReport out."""

    def __init__(self, preload: tuple[str, ...] = ()) -> None:
        self.proc, self.conn = fork_helper(_serve, (preload,))
        self.alive = True
        self.served = 0

    def send(self, path: Path, groups: tuple[str, ...], dandi_layout: bool) -> None:
        self.conn.send((path, groups, dandi_layout))
        self.served += 1

    def receive(self, path: Path) -> FileReport:
        try:
            report: FileReport = self.conn.recv()
            return report
        except (EOFError, OSError):
            self.stop()
            return failed(
                path,
                "validator.crashed",
                f"The validating process died (exit code {self.proc.exitcode}).",
                "The file is probably damaged; copy or convert it again.",
            )

    def stop(self) -> None:
        if self.alive:
            self.alive = False
            if self.proc.is_alive():
                self.proc.kill()
            self.proc.join()
            self.conn.close()


def _serve(conn: Connection, preload: tuple[str, ...]) -> None:
    """A worker's loop: load what the layer groups `preload` need, then validate each file it is sent until its
    pipe closes (what a file's layer groups need loaded first, unless the parent had loaded it before forking).
    It ends with `validate`, killed or not (`orphans.fork_helper`), even inside a file HDF5 loops on."""
    from nwbconvert.validate.runner import warm_up

    warm_up(preload)
    while True:
        try:
            path, groups, dandi_layout = conn.recv()
        except (EOFError, OSError):
            return
        warm_up(groups)
        conn.send(_checked(path, dandi_layout, groups))


def _checked(path: Path, dandi_layout: bool, groups: tuple[str, ...]) -> FileReport:
    try:
        return check_file(path, dandi_layout, groups=groups)
    except BaseException as exc:  # a crash must still produce a report
        return failed(
            path,
            "validator.crashed",
            f"The validator failed: {type(exc).__name__}: {exc}.",
            "Report this with the file if you can share it.",
        )
