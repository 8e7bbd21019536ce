"""`convert`'s check of its own output, made ready while the conversion runs.

A fresh `nwbconvert convert` of a small file spends about as long importing and priming the validators (pynwb's
validator, NWB Inspector, dandi-cli, DANDI's JSON Schema) and checking the file as it does reading and writing
it. `warming()` forks a process at the start that does that priming on another core while this one converts;
`check_output` then hands it the finished file (it runs `check_file` exactly as this process would) and waits
for its report. Without a warmed process (`batch`'s workers, which are warm after their first session; a machine
with one core; a process that died) the file is checked here. Nothing else changes: the same checks, the same
report, the same rejection of a file with errors.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from nwbconvert import interrupts
from nwbconvert.orphans import fork_helper
from nwbconvert.validate.findings import FileReport

_POLL_S = 0.2  # how often a wait for the report looks for a requested stop


class _Ahead:
    """The warmed process and its pipe (None when no process was started or it is gone)."""

    proc: Any = None
    conn: Connection | None = None


def start_early() -> None:
    """Fork the primed process before `convert`'s command line is parsed (typer and rich take 0.6 s to import, and
    the primed process, the longer of the two, needs neither). `warming` decides whether the file is checked: it
    keeps this process then, and stops it otherwise (--no-validate, --dry-run); an exit before that (--help, a
    usage error) ends it with this process (it is a daemon)."""
    _start()


@contextmanager
def warming(enabled: bool) -> Iterator[None]:
    """Inside the block a forked process primes the validators (when `enabled` and the machine has another core);
    it is stopped when the block ends, whatever happens."""
    if not enabled:
        _stop()  # started early for a conversion that is not checked
    elif _Ahead.proc is None:
        _start()
    try:
        yield
    finally:
        _stop()


def _start() -> None:
    from nwbconvert.batch.engines import cores

    if cores() < 2 or _Ahead.proc is not None:
        return
    with suppress(OSError):  # no process to spare (memory, process limit): the file is checked here
        _Ahead.proc, _Ahead.conn = fork_helper(_serve)


def check_output(tmp: Path, report_as: Path) -> FileReport:
    """`check_file(tmp, report_as=report_as)`, in the warmed process when there is one, else here."""
    conn = _Ahead.conn
    if conn is not None:
        try:
            conn.send((tmp, report_as))
            while not conn.poll(_POLL_S):
                interrupts.check()  # Ctrl-C while the file is checked: the caller removes the temporary file
            report: FileReport = conn.recv()
            return report
        except (EOFError, OSError):  # the process died (out of memory?): check the file here instead
            _stop()
    from nwbconvert.validate.checker import check_file
    from nwbconvert.validate.runner import warm_up

    warm_up()  # once per process (a batch worker's first session): its libraries loaded with the collector paused
    return check_file(tmp, report_as=report_as)


def _stop() -> None:
    proc, conn = _Ahead.proc, _Ahead.conn
    _Ahead.proc, _Ahead.conn = None, None
    if conn is not None:
        conn.close()
    if proc is not None:
        if proc.is_alive():
            proc.kill()
        proc.join()


def _serve(conn: Connection) -> None:
    """The warmed process: prime the validators, then check the one file it is sent (signals are the parent's). It
    ends with the converting process, killed or not (`orphans.fork_helper`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    from nwbconvert.validate.checker import check_file
    from nwbconvert.validate.runner import warm_up

    try:
        warm_up()
        tmp, report_as = conn.recv()
        report = check_file(tmp, report_as=report_as)
    except Exception:  # no file (EOFError) or a failure: the converting process checks it and says what went wrong
        return
    conn.send(report)
