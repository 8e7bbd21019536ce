"""Rendering of results: rich tables on stdout, or JSON; progress on stderr."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from nwbconvert import interrupts
from nwbconvert.validate.findings import FileReport, Severity

if TYPE_CHECKING:  # type-only: `validate` must not pay for importing the conversion pipeline
    from nwbconvert.model import SourceNote
    from nwbconvert.pipeline import ConversionResult
    from nwbconvert.plan import Plan
    from nwbconvert.readers.registry import ReaderInfo
    from nwbconvert.summary import FileSummary
    from nwbconvert.validate.report import Summary


class _Console(Console):
    """A console whose reader may leave (`| head`): the rest of its output goes nowhere and the command goes on
    to its own exit code (rich's default exits 1)."""

    def on_broken_pipe(self) -> None:
        from nwbconvert.cli.guard import discard

        self.quiet = True
        discard(self.file)


# Markup off: names, descriptions, paths and messages from files and sources print as they are ("lick [left]" keeps
# its brackets, "[/]" does not break the output); styles are given as Text spans or style=.
stdout = _Console(highlight=False, markup=False, soft_wrap=True, width=None if Console().is_terminal else 160)
stderr = _Console(stderr=True, highlight=False, markup=False)
JSON_SCHEMA_VERSION = 1


def _print(text: str) -> None:
    """Text (JSON) on stdout, flushed; if its reader left, the rest goes nowhere, quietly, as for `stdout`."""
    import sys

    from nwbconvert.cli.guard import discard

    try:
        print(text, flush=True)
    except BrokenPipeError:
        discard(sys.stdout)


def _json(kind: str, payload: Any) -> None:
    body = asdict(payload) if is_dataclass(payload) and not isinstance(payload, type) else payload
    doc = {"nwbconvert": JSON_SCHEMA_VERSION, "kind": kind, "result": body}
    _print(_dumps(doc, indent=2))


def _dumps(doc: Any, indent: int | None = None) -> str:
    """Strict JSON: a NaN or infinite number (a file's rate or start time may be one) is null, as JSON has no such
    numbers and jq, JavaScript and JSON Schema validators refuse Python's `NaN`."""
    return json.dumps(_finite(doc), indent=indent, default=str, allow_nan=False)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"


class _Progress:
    """Progress sink: draws the bar (when given one) and stops the write at a pending interrupt."""

    def __init__(self, progress: Any | None) -> None:
        self.progress = progress
        self.task: Any = None

    def start(self, total_bytes: int) -> None:
        if self.progress is not None and total_bytes > 0:  # no sampled data (a table, a sorting): no "0/0 bytes" bar
            self.task = self.progress.add_task("Writing", total=total_bytes)

    def advance(self, n_bytes: int) -> None:
        interrupts.check()
        if self.progress is not None and self.task is not None:
            self.progress.update(self.task, advance=n_bytes)


@contextmanager
def progress_bar(enabled: bool) -> Iterator[_Progress]:
    """A bytes/rate/time-left bar on stderr while the body runs (a silent sink when disabled)."""
    if not enabled:
        yield _Progress(None)
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=stderr, transient=False) as progress:
        yield _Progress(progress)


def conversion(result: ConversionResult, as_json: bool) -> None:
    plan = result.plan
    notes(plan.session.notes)  # on stderr, with --json too
    if as_json:
        output = str(result.output) if result.output else None
        doc = {
            "output": output,
            "seconds": result.seconds,
            "written_bytes": result.written_bytes,
            "plan": plan.to_json(),
            "findings": [asdict(f) for f in result.findings],
            "warnings": [asdict(n) for n in plan.session.notes],
        }
        if result.folder is not None:
            doc["session_folder"] = result.folder.to_json()
        _json("conversion", doc)
        return
    if result.folder is not None and result.output is None:  # a dry run of a session folder: what was found
        from nwbconvert.cli.render_session import session_folder

        session_folder(result.folder)
    if plan.series:
        stdout.print(_series_table(plan))
    if plan.imaging.planes:
        from nwbconvert.cli.render_imaging import imaging_tables

        imaging_tables(plan.imaging)
    if plan.behavior:
        from nwbconvert.cli.render_behavior import behavior_tables

        behavior_tables(plan.behavior)
    if not plan.series and not plan.imaging.planes and not plan.behavior:
        stdout.print(f"{plan.source} ({plan.reader}): no sampled series, only what the source holds below")
    if plan.event_tables:
        stdout.print("events   " + ", ".join(f"{name} ({n})" for name, n in plan.event_tables.items()))
    if plan.sortings:
        stdout.print("units    " + ", ".join(f"{name}: {n}" for name, n in plan.sortings.items()))
    _conversion_footer(result)


_SERIES_COLUMNS = (
    "series",
    "type",
    "in",
    "channels",
    "rate (Hz)",
    "duration (s)",
    "start (s)",
    "timing",
    "unit",
    "size",
)
_NUMERIC = ("channels", "rate (Hz)", "duration (s)", "start (s)", "size")


def _series_table(plan: Plan) -> Table:
    """One row per series the plan writes."""
    table = Table(title=f"{plan.source} ({plan.reader})", title_justify="left")
    for col in _SERIES_COLUMNS:
        table.add_column(col, justify="right" if col in _NUMERIC else "left")
    for s in plan.series:
        table.add_row(
            s.name,
            s.neurodata_type.value,
            s.group,
            str(s.n_channels),
            f"{s.sampling_rate_hz:g}",
            f"{s.duration_s:.3f}",
            f"{s.t_start_s:.6g}",
            s.timing.value,
            s.unit or "-",
            _size(s.raw_bytes),
        )
    return table


def notes(found: Sequence[SourceNote]) -> None:
    """Each warning about the sources, on stderr: what was found that the user must hear."""
    for note in found:
        stderr.print(Text.assemble(("Warning:", "yellow"), " ", note.message))


def _conversion_footer(result: ConversionResult) -> None:
    """The metadata line, then what was written (or would be) and what validating it found."""
    plan = result.plan
    md = plan.metadata
    stdout.print(
        f"session start {md.session_start_time.isoformat()} · subject {md.subject.subject_id} "
        f"({md.subject.species}, {md.subject.sex}, {md.subject.age or md.subject.date_of_birth}) · "
        f"identifier {md.identifier}"
    )
    if result.output is None:
        stdout.print(
            f"Dry run: nothing written. Raw data {_size(plan.raw_bytes)}; "
            f"estimated file size {_size(plan.estimated_bytes)} (gzip)."
        )
    else:
        rate = f", {plan.raw_bytes / result.seconds / 1e6:.0f} MB/s" if result.seconds and plan.raw_bytes else ""
        stdout.print(f"Wrote {result.output} ({_size(result.written_bytes)}) in {result.seconds:.1f} s{rate}.")
        if result.findings:
            counts = {sev: sum(f.severity is sev for f in result.findings) for sev in Severity}
            stdout.print(
                f"Validated: no errors, {counts[Severity.WARNING]} warning(s), {counts[Severity.INFO]} info "
                f"(details: nwbconvert validate {result.output})."
            )


def formats(infos: list[ReaderInfo], as_json: bool) -> None:
    if as_json:
        _json("formats", [asdict(i) | {"available": i.available, "extras": list(i.extras)} for i in infos])
        return
    table = Table(title="Formats nwbconvert reads", title_justify="left")
    for col in ("name", "description", "suffixes", "input", "verified on", "status"):
        table.add_column(col)
    for i in infos:
        if i.broken:
            status = f"broken, skipped: {i.broken}"
        elif i.available:
            status = "ready" + (f"; needs {i.note}" if i.note else "")
        else:
            packages = ", ".join(pkg for pkg, _ in i.missing)
            extras = ",".join(dict.fromkeys(e for _, e in i.missing))
            status = f"missing {packages}: pip install 'nwbconvert[{extras}]'"
        verified = "-" if i.broken else i.verified_text
        table.add_row(i.name, i.description, " ".join(i.suffixes), i.input, verified, status)
    stdout.print(table)
    ready = sum(i.available for i in infos)
    broken = sum(bool(i.broken) for i in infos)
    stderr.print(
        f"{len(infos)} formats, {ready} ready here"
        + (f", {broken} broken plugin(s) skipped" if broken else "")
        + "; detection is by content, --format NAME chooses one."
    )


def summary(s: FileSummary, as_json: bool) -> None:
    if as_json:
        _json("info", s)
        return
    stdout.print(Text.assemble((str(s.path), "bold"), f" ({_size(s.size_bytes)})"))
    stdout.print(f"  session   {s.session_description}")
    stdout.print(f"  start     {s.session_start_time}   id {s.identifier}")
    if s.session_id or s.experimenter or s.lab:
        stdout.print(
            f"  session_id {s.session_id or '-'} · experimenter {', '.join(s.experimenter) or '-'} · lab {s.lab or '-'}"
        )
    subj = s.subject
    stdout.print("  subject   " + (", ".join(f"{k}={v}" for k, v in subj.items() if v) or "none"))
    stdout.print("  devices   " + (", ".join(d["name"] or "" for d in s.devices) or "none"))
    stdout.print(
        f"  electrodes {s.n_electrodes} in {len(s.electrode_groups)} group(s): "
        + ", ".join(f"{g.name} ({g.n_electrodes})" for g in s.electrode_groups)
    )
    table = Table(title_justify="left")
    for col in (
        "series",
        "type",
        "shape",
        "dtype",
        "rate (Hz)",
        "start (s)",
        "duration (s)",
        "unit",
        "compression",
    ):
        table.add_column(col)
    for t in s.series:
        table.add_row(
            t.path,
            t.neurodata_type,
            "×".join(map(str, t.shape)),
            t.dtype,
            f"{t.rate_hz:g}" if t.rate_hz else "timestamps",
            f"{t.starting_time_s:.6g}" if t.starting_time_s is not None else "-",
            f"{t.duration_s:.3f}" if t.duration_s is not None else "-",
            t.unit,
            t.compression,
        )
    stdout.print(table if s.series else "  series    none")
    if s.imaging_planes or s.segmentations:
        from nwbconvert.cli.render_imaging import imaging_summary

        imaging_summary(s)
    if s.behavior:
        from nwbconvert.cli.render_behavior import behavior_summary

        behavior_summary(s.behavior)
    stdout.print(f"  units     {s.n_units if s.n_units is not None else 'none'}")
    stdout.print("  tables    " + (", ".join(f"{t.name} ({t.n_rows} rows)" for t in s.tables) or "none"))
    if s.provenance:
        stdout.print(
            f"  converted by nwbconvert {s.provenance.get('libraries', {}).get('nwbconvert', '?')} "
            f"with reader {s.provenance.get('reader')} from {len(s.provenance.get('files', []))} file(s)"
        )


@contextmanager
def file_progress(total: int) -> Iterator[Any]:
    """A files-done bar on stderr; yields the callback that advances it."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("Validating"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=stderr, transient=True, disable=not stderr.is_terminal) as progress:
        task = progress.add_task("validate", total=total)
        yield lambda report: progress.advance(task)


def validation(reports: list[FileReport], summary: Summary, fmt: str, detailed: bool = False) -> None:
    """The findings as `fmt` (text: render_validation.py, shared findings once unless `detailed`), the summary line
    on stderr."""
    if fmt == "json":
        from nwbconvert.validate.report import ValidationResult  # the record its JSON Schema is derived from

        _json("validation", ValidationResult(tuple(reports), summary))
    elif fmt == "jsonl":
        lines = [_dumps({"nwbconvert": JSON_SCHEMA_VERSION, **asdict(f)}) for r in reports for f in r.findings]
        if lines:
            _print("\n".join(lines))
    else:
        from nwbconvert.cli.render_validation import print_report

        print_report(stdout, reports, detailed)
    stderr.print(
        f"{summary.files} file(s): {summary.files_with_errors} with errors · {summary.errors} error(s), "
        f"{summary.warnings} warning(s), {summary.infos} info"
    )
