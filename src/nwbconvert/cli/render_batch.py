"""Rendering of `nwbconvert batch`: progress on stderr, the summary table (or JSON) and the dry run on stdout."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.table import Table
from rich.text import Text

from nwbconvert.batch.model import BatchResult, SessionJob, SessionOutcome, Status
from nwbconvert.cli.render import _json, _size, stderr, stdout

if TYPE_CHECKING:
    from nwbconvert.batch.runner import Running

STATUS_STYLE = {
    Status.CONVERTED: "green",
    Status.SKIPPED: "dim",
    Status.FAILED: "bold red",
    Status.LOCKED: "yellow",
}


def _one_line(message: str, limit: int = 160) -> str:
    line = " ".join(message.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _shown(path: Path | None, root: Path) -> str:
    if path is None:
        return "-"
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


# -- progress ----------------------------------------------------------------------------------------------------


class _LiveProgress:
    """One overall bar (sessions ended of all) plus one line per running session (bytes written)."""

    def __init__(self, progress: Any) -> None:
        self.progress = progress
        self.overall: Any = None
        self.sessions: dict[str, Any] = {}
        self.lock = threading.Lock()
        self.counts = {s: 0 for s in Status}

    def begin(self, jobs: Sequence[SessionJob]) -> None:
        self.overall = self.progress.add_task("[bold]sessions", total=len(jobs), detail="")

    def running(self, sessions: Sequence[Running]) -> None:
        with self.lock:
            for s in sessions:
                detail = f"{_size(s.done_bytes)} of {_size(s.total_bytes)}" if s.total_bytes else "reading headers"
                if s.key not in self.sessions:
                    self.sessions[s.key] = self.progress.add_task(f"  {s.key}", total=None, detail="")
                self.progress.update(
                    self.sessions[s.key], total=s.total_bytes or None, completed=s.done_bytes, detail=detail
                )
            now = {s.key for s in sessions}
            for key in [k for k in self.sessions if k not in now]:
                self.progress.remove_task(self.sessions.pop(key))

    def ended(self, outcome: SessionOutcome) -> None:
        with self.lock:
            task = self.sessions.pop(outcome.key, None)
            if task is not None:
                self.progress.remove_task(task)
            self.counts[outcome.status] += 1
            detail = ", ".join(f"{n} {s.value}" for s, n in self.counts.items() if n)
            self.progress.update(self.overall, advance=1, detail=detail)


class _LineProgress:
    """Not a terminal (a cluster job's log, a pipe): one line per session that ends."""

    def __init__(self) -> None:
        self.total = 0
        self.done = 0

    def begin(self, jobs: Sequence[SessionJob]) -> None:
        self.total = len(jobs)

    def running(self, sessions: Sequence[Running]) -> None:
        pass

    def ended(self, outcome: SessionOutcome) -> None:
        self.done += 1
        what = _one_line(outcome.message, 100)  # why it failed or was skipped, or its warnings
        what = f"exit {outcome.exit_code}: {what}" if outcome.error_family else what
        stderr.print(
            f"[{self.done}/{self.total}] {outcome.key} {outcome.status.value} ({outcome.seconds:.1f} s) {what}"
        )


@contextmanager
def batch_progress(enabled: bool) -> Iterator[_LiveProgress | _LineProgress | None]:
    """Live bars on a terminal, plain lines otherwise, nothing when disabled (--quiet)."""
    if not enabled:
        yield None
        return
    if not stderr.is_terminal:
        yield _LineProgress()
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[detail]}"), TimeElapsedColumn())
    with Progress(*columns, console=stderr, transient=False) as progress:
        yield _LiveProgress(progress)


# -- results -------------------------------------------------------------------------------------------------------


def summary(result: BatchResult, jobs: Sequence[SessionJob], root: Path, engine: str, as_json: bool) -> None:
    by_key = {j.key: j for j in jobs}
    counts = {s.value: sum(o.status is s for o in result.outcomes) for s in Status}
    if as_json:
        sessions = [
            {
                "key": o.key,
                "subject_id": by_key[o.key].subject_id if o.key in by_key else None,
                "session_id": by_key[o.key].session_id if o.key in by_key else None,
                "status": o.status.value,
                "seconds": round(o.seconds, 3),
                "exit_code": o.exit_code,
                "error_family": o.error_family or None,
                "message": o.message or None,
                "output": str(o.output),
                "log": str(o.log) if o.log else None,
            }
            for o in result.outcomes
        ]
        doc = {
            "output_dir": str(root),
            "engine": engine,
            "ok": result.ok,
            "seconds": round(result.seconds, 3),
            "counts": counts | {"total": len(result.outcomes)},
            "sessions": sessions,
        }
        _json("batch", doc)
        return
    table = Table(title=f"{root} ({engine})", title_justify="left")
    for col in ("session", "status", "seconds", "output", "message", "log"):
        table.add_column(col, justify="right" if col == "seconds" else "left", overflow="fold")
    for o in result.outcomes:
        style = STATUS_STYLE[o.status]
        error = f"exit {o.exit_code}: {_one_line(o.message)}" if o.status is Status.FAILED else _one_line(o.message)
        table.add_row(
            o.key,
            Text(o.status.value, style=style),
            f"{o.seconds:.1f}",
            _shown(o.output, root),
            error,
            _shown(o.log, root),
        )
    stdout.print(table)
    shown = ", ".join(f"{n} {name}" for name, n in counts.items() if n) or "no sessions"
    stdout.print(f"{len(result.outcomes)} session(s) in {result.seconds:.1f} s: {shown}.")
    if not result.ok:
        stdout.print("Run the same command again to redo the failed sessions; converted ones are skipped.")


def dry_run(jobs: Sequence[SessionJob], decisions: Sequence[tuple[bool, str]], root: Path, as_json: bool) -> None:
    """The sessions found: their template fields, metadata layers, target and whether they would be converted."""
    if as_json:
        sessions = [
            {
                "key": j.key,
                "subject_id": j.subject_id,
                "session_id": j.session_id,
                "fields": j.fields,
                "sources": [str(s.path) for s in j.sources],
                "metadata": [
                    {"origin": layer.origin, "values": layer.values.model_dump(mode="json", exclude_none=True)}
                    for layer in j.layers
                ],
                "output": str(j.output),
                "action": "convert" if convert else "skip",
                "reason": reason,
            }
            for j, (convert, reason) in zip(jobs, decisions)
        ]
        n = sum(c for c, _ in decisions)
        doc = {"output_dir": str(root), "sessions": sessions, "counts": {"convert": n, "skip": len(jobs) - n}}
        _json("batch-dry-run", doc)
        return
    table = Table(title=f"Sessions found ({len(jobs)}), writing to {root}", title_justify="left")
    for col in ("session", "subject", "session id", "fields", "source", "output", "action"):
        table.add_column(col, overflow="fold")
    for j, (convert, reason) in zip(jobs, decisions):
        fields = " ".join(f"{k}={v}" for k, v in j.fields.items()) or "-"
        sources = "\n".join(str(s.path) for s in j.sources)
        action = Text.assemble(("convert", "green") if convert else ("skip", "dim"), f" ({reason})")
        table.add_row(j.key, j.subject_id, j.session_id, fields, sources, _shown(j.output, root), action)
    stdout.print(table)
    n = sum(c for c, _ in decisions)
    stdout.print(f"Dry run: nothing written. {n} session(s) would be converted, {len(jobs) - n} skipped.")
    if n:
        stdout.print(
            "A session never converted shows _ecephys: its conversion names the file by the modality of what it "
            "holds, as dandi organize does (e.g. _icephys for an ABF recording)."
        )
