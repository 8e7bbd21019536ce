"""Run a study: each session exactly as `nwbconvert convert` (lock, decide, convert, record, log), and the whole
batch on an engine, outcomes streaming back as sessions end.

Running sessions report their progress through small marker files (`<out>/.nwbconvert/running/<key>.json`), so
the progress display works the same for a local process pool and for Dask workers on a shared file system. A
marker also names the run that started the session (`run_id`) and is removed when the session ends, however it
ends, short of its process dying: a pool tells by it which sessions a dead worker was converting.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import threading
import time
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol

from nwbconvert import interrupts
from nwbconvert.batch.model import BatchResult, SessionJob, SessionOutcome, Status
from nwbconvert.errors import ExitCode, NwbConvertError

if TYPE_CHECKING:
    from nwbconvert.batch.engines import Engine
    from nwbconvert.pipeline import ConversionResult

INTERNAL_ERROR = 70  # as the CLI's guard returns for a bug
MARKER_SECONDS = 0.5  # a running session rewrites its progress marker at most this often


def state_of(job: SessionJob) -> Path:
    from nwbconvert.batch.layout import output_root, state_dir

    return state_dir(output_root(job.output))


def log_path(job: SessionJob) -> Path:
    from nwbconvert.batch import layout

    return layout.log_path(job.output, job.key)


def marker_path(job: SessionJob) -> Path:
    return state_of(job) / "running" / f"{job.key}.json"


# -- one session ---------------------------------------------------------------------------------------------------


def run_session(job: SessionJob, force: bool, run_id: str = "") -> SessionOutcome:
    """Convert one session unless another run holds it or it is up to date; never raises for a session's failure
    (every exception becomes a FAILED outcome with the exit code `convert` would have returned). `run_id` goes
    into the session's progress marker (see `started_by`).

    Fencing: should another run take the session's lock over meanwhile (see lock.py), this one stops at its
    next safe point (its temporary output removed; every safe point asks the lock, the last one just before the
    final rename), records nothing and reports the session LOCKED."""
    from nwbconvert.batch.lock import session_lock
    from nwbconvert.batch.manifest import decide, read_entry, record, recorded_output

    log = log_path(job)
    started = time.perf_counter()
    fenced = False
    with session_lock(job.output, job.key) as lock:
        if lock is None:
            return SessionOutcome(job.key, Status.LOCKED, job.output, log, message="another run is converting it")
        convert_it, reason = decide(job, force)
        if not convert_it:
            output = recorded_output(job, read_entry(job))
            _append(log, f"{_now()} skipped: {reason} ({output})")
            return SessionOutcome(job.key, Status.SKIPPED, output, log, message=reason)
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("w") as out, interrupts.fenced(lock.owned):
            outcome = _convert(job, out, started, run_id)
            fenced = lock.lost or not lock.owned()  # checked last thing before recording the session
            if fenced:
                print(f"{_now()} stopped: {TAKEN_OVER}", file=out)
        if not fenced:
            record(job, outcome)
    if fenced:
        return SessionOutcome(job.key, Status.LOCKED, job.output, log, outcome.seconds, message=TAKEN_OVER)
    return outcome


TAKEN_OVER = (
    "another run took this session's lock over while this one was converting it (its lock file was removed or "
    "replaced), so this run stopped and recorded nothing: the session is that run's to convert. If it is not "
    "converted once that run has ended, run the batch again"
)


def _convert(job: SessionJob, log: IO[str], started: float, run_id: str) -> SessionOutcome:
    """The conversion proper, with `log` getting what `convert` prints (and the traceback of a failure)."""
    from functools import partial

    from nwbconvert.batch import layout
    from nwbconvert.pipeline import convert_sources

    path = log_path(job)
    print(f"{_now()} converting {job.key} on {socket.gethostname()} (pid {os.getpid()})", file=log)
    for spec in job.sources:
        print(f"  source {spec.path}" + (f" (format {spec.format})" if spec.format else ""), file=log)
    print(f"  output {job.output}", file=log)
    for name, value in job.fields.items():
        print(f"  {name} = {value}", file=log)
    log.flush()
    sink = MarkerSink(marker_path(job), run_id)
    try:
        interrupts.check()  # a stop was requested before this session began
        options = replace(job.options, overwrite=True, dry_run=False, dandi_layout=True)  # videos placed for DANDI
        job.output.parent.mkdir(parents=True, exist_ok=True)
        naming = partial(layout.named, job.output, job.key)  # the DANDI modality of what the session writes
        result = convert_sources(job.sources, job.output, options, sink, job.layers, job.alignments, name=naming)
    except NwbConvertError as exc:
        return _failed(job, path, log, started, int(exc.exit_code), family(exc), exc.message)
    except KeyboardInterrupt:
        message = "Interrupted; nothing was left at the destination."
        return _failed(job, path, log, started, int(ExitCode.INTERRUPTED), "Interrupted", message)
    except Exception as exc:
        message = (
            f"Unexpected error: {type(exc).__name__}: {str(exc).rstrip('.')}. This is a bug in nwbconvert or a "
            "library it uses; report the traceback in this log."
        )
        return _failed(job, path, log, started, INTERNAL_ERROR, "InternalError", message)
    finally:
        sink.clear()
    _log_result(result, log)
    warned = " ".join(f"Warning: {note.message}" for note in result.plan.session.notes)  # shown in the summary
    output = result.output or job.output
    named = layout.misnamed(output, job.key)
    if named is not None:  # the plan's types and the file's disagree: said, not hidden
        print(f"  warning: {named}", file=log)
        warned = f"{warned} Warning: {named}".strip()
    return SessionOutcome(job.key, Status.CONVERTED, output, path, time.perf_counter() - started, message=warned)


def family(exc: NwbConvertError) -> str:
    """The error family the exit code stands for: UnknownFormat -> SourceError, ValidationFailed -> itself."""
    for cls in type(exc).__mro__:
        if NwbConvertError in cls.__bases__:
            return cls.__name__
    return type(exc).__name__


def _failed(
    job: SessionJob, path: Path, log: IO[str], started: float, code: int, family: str, message: str
) -> SessionOutcome:
    print(f"{_now()} failed ({family}, exit code {code}):\n{message}\n", file=log)
    print(traceback.format_exc(), file=log)
    seconds = time.perf_counter() - started
    return SessionOutcome(job.key, Status.FAILED, job.output, path, seconds, code, family, message)


def _log_result(result: ConversionResult, log: IO[str]) -> None:
    plan = result.plan
    print(f"  reader {plan.reader}; raw data {plan.raw_bytes} bytes", file=log)
    for s in plan.series:
        print(
            f"  series {s.name} ({s.neurodata_type}): {s.n_channels} channels at {s.sampling_rate_hz:g} Hz, "
            f"{s.duration_s:.3f} s from {s.t_start_s:.6g} s, {s.dtype}",
            file=log,
        )
    for name, n in plan.event_tables.items():
        print(f"  events {name} ({n})", file=log)
    for name, n in plan.sortings.items():
        print(f"  units {name} ({n})", file=log)
    md = plan.metadata
    print(f"  session start {md.session_start_time.isoformat()}; subject {md.subject.subject_id}", file=log)
    for note in plan.session.notes:
        print(f"  warning: {note.message}", file=log)
    for f in result.findings:
        print(f"  {f.severity.value} {f.check_id} at {f.location}: {f.message}", file=log)
    print(f"{_now()} converted: {result.output} ({result.written_bytes} bytes) in {result.seconds:.1f} s", file=log)


def _append(path: Path, line: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as out:
        print(line, file=out)


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


# -- stopping a worker at a safe point ---------------------------------------------------------------------------


def worker_signals() -> None:
    """SIGINT/SIGTERM in a pool worker process only request a stop: the session being converted stops at its next
    safe point, later ones do not start; a second signal stops at once (see interrupts.py)."""
    if threading.current_thread() is threading.main_thread():
        interrupts.install(defer=True)


# -- progress markers ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Running:
    """A session being converted, as its marker file tells."""

    key: str
    host: str
    pid: int
    done_bytes: int
    total_bytes: int


class MarkerSink:
    """A ProgressSink that keeps `<state>/running/<key>.json` up to date (throttled) and stops at an interrupt;
    written as the conversion begins, removed as it ends."""

    def __init__(self, path: Path, run_id: str = "") -> None:
        self.path = path
        self.run_id = run_id
        self.total = 0
        self.done = 0
        self.last = 0.0
        self._write()

    def start(self, total_bytes: int) -> None:
        self.total = total_bytes
        self._write()

    def advance(self, n_bytes: int) -> None:
        interrupts.check()
        self.done += n_bytes
        if time.monotonic() - self.last >= MARKER_SECONDS:
            self._write()

    def clear(self) -> None:
        """Remove the marker unless another process (a run that took the session over) has replaced it."""
        try:
            doc = json.loads(self.path.read_text())
            if (doc.get("pid"), doc.get("run")) == (os.getpid(), self.run_id):
                self.path.unlink()
        except (OSError, ValueError, AttributeError):
            pass

    def _write(self) -> None:
        self.last = time.monotonic()
        doc = {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "run": self.run_id,
            "done": self.done,
            "total": self.total,
        }
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(doc))
            os.replace(tmp, self.path)
        except OSError:
            pass  # progress is a nicety; a full or read-only state folder must not fail the conversion


def started_by(job: SessionJob, run_id: str) -> bool:
    """The session's marker names run `run_id`: its conversion began there and has not ended. Once that run's
    processes have all exited, this means the process converting it died (nothing else leaves the marker)."""
    try:
        return bool(run_id) and json.loads(marker_path(job).read_text()).get("run") == run_id
    except (OSError, ValueError, AttributeError):
        return False


def running(states: Sequence[Path], keys: set[str]) -> list[Running]:
    """Sessions of `keys` now being converted (markers of dead processes on this host are ignored)."""
    from nwbconvert.output import _alive

    host = socket.gethostname()
    found = []
    for state in states:
        for path in sorted((state / "running").glob("*.json")):
            if path.stem not in keys:
                continue
            try:
                doc = json.loads(path.read_text())
                item = Running(path.stem, str(doc["host"]), int(doc["pid"]), int(doc["done"]), int(doc["total"]))
            except (OSError, ValueError, KeyError, TypeError):
                continue  # being replaced, or not ours
            if item.host == host and not _alive(item.pid):
                continue
            found.append(item)
    return found


# -- a batch -------------------------------------------------------------------------------------------------------


class BatchProgress(Protocol):
    """What the CLI draws: an overall bar plus a line per running session."""

    def begin(self, jobs: Sequence[SessionJob]) -> None: ...

    def running(self, sessions: Sequence[Running]) -> None: ...

    def ended(self, outcome: SessionOutcome) -> None: ...


def run_batch(
    jobs: Sequence[SessionJob], engine: Engine, force: bool, progress: BatchProgress | None = None
) -> BatchResult:
    """Run every job on `engine`; one failing session never stops the others. Outcomes keep the jobs' order."""
    from nwbconvert.batch.layout import remove_empty

    started = time.perf_counter()
    outcomes: dict[str, SessionOutcome] = {}
    created = sorted({j.output.parent for j in jobs if not j.output.parent.exists()})  # made by the sessions
    if progress is not None:
        progress.begin(jobs)
    try:
        with _polling(jobs, progress):
            for outcome in engine.run(jobs, force):
                outcomes[outcome.key] = outcome
                if progress is not None:
                    progress.ended(outcome)
    finally:
        remove_empty(created)  # only once every session ended: one of them may still be about to write there
    ordered = tuple(outcomes[j.key] for j in jobs if j.key in outcomes)
    return BatchResult(ordered, time.perf_counter() - started)


@contextmanager
def _polling(jobs: Sequence[SessionJob], progress: BatchProgress | None) -> Iterator[None]:
    """While the body runs, tell `progress` twice a second which sessions are running and how far they are."""
    if progress is None or not jobs:
        yield
        return
    states = sorted({state_of(j) for j in jobs})
    keys = {j.key for j in jobs}
    stop = threading.Event()

    def poll() -> None:
        while not stop.wait(MARKER_SECONDS):
            try:
                progress.running(running(states, keys))
            except Exception:  # progress is a nicety: never let drawing it stop a batch
                continue

    thread = threading.Thread(target=poll, name="batch-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
