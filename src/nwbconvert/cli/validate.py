"""`nwbconvert validate FILES_OR_DIRS...`: schema, best practices and DANDI readiness in one report."""

from __future__ import annotations

import os
from enum import Enum
from pathlib import Path

import typer

from nwbconvert.cli.options import DEBUG, JSON


class OutputFormat(str, Enum):
    text = "text"
    json = "json"
    jsonl = "jsonl"


class MinSeverity(str, Enum):
    info = "info"
    warning = "warning"
    error = "error"


def command(
    paths: list[Path] = typer.Argument(..., help="NWB files, or folders searched recursively for *.nwb."),
    jobs: int | None = typer.Option(None, "--jobs", "-j", min=1, help="Worker processes (default: all cores)."),
    timeout: float = typer.Option(120.0, "--timeout", min=1.0, help="Seconds allowed per file."),
    min_severity: MinSeverity = typer.Option(MinSeverity.info, "--min-severity", help="Hide findings below this."),
    ignore: list[str] = typer.Option([], "--ignore", help="Check id to ignore (repeatable)."),
    dandi_layout: bool = typer.Option(False, "--dandi-layout", help="Also check sub-<label>/ names."),
    output_format: OutputFormat = typer.Option(OutputFormat.text, "--format", help="text, json or jsonl."),
    detailed: bool = typer.Option(
        False,
        "--detailed",
        help="Text: every file's table whole (by default a finding several files share is printed once).",
    ),
    json_output: bool = JSON,
    debug: bool = DEBUG,
) -> None:
    """Check NWB files before DANDI upload; exit 1 when any error-level finding remains."""
    from nwbconvert.cli import render
    from nwbconvert.cli.guard import INTERRUPTED_READING, guarded

    with guarded(debug, INTERRUPTED_READING):
        from nwbconvert.validate.findings import Severity
        from nwbconvert.validate.report import filtered, summarise
        from nwbconvert.validate.runner import ValidateOptions, collect, validate_files

        files = collect(paths)
        workers = jobs or os.cpu_count() or 1
        options = ValidateOptions(jobs=workers, timeout_s=timeout, dandi_layout=dandi_layout)
        with render.file_progress(len(files)) as done:
            reports = validate_files(files, options, done)
        shown = filtered(reports, set(ignore), Severity(min_severity.value))
        counted = filtered(reports, set(ignore), Severity.INFO)
        fmt = OutputFormat.json if json_output else output_format
        render.validation(shown, summarise(counted), fmt.value, detailed)
        if any(r.has_errors for r in counted):
            raise typer.Exit(1)
