"""`nwbconvert batch ... --preview`: the report of every session converted (or up to date), beside its file, and
an index page at the top of the output folder."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from nwbconvert.batch.model import BatchResult, Status
from nwbconvert.errors import NwbConvertError
from nwbconvert.preview.report import PreviewOptions, build, default_destination, write

INDEX = "index.preview.html"


@dataclass(frozen=True)
class SessionPreview:
    key: str
    nwb: Path
    report: Path | None  # None: no report (the session failed, or its report could not be made)
    status: str  # the session's outcome
    summary: str  # the validation line, or why there is no report


def study_previews(result: BatchResult, root: Path, validate: bool) -> Path:
    """Write each session's report and the index page; the index's path."""
    from nwbconvert.preview.html import render_index

    entries = [_one(o.key, o.output, o.status, validate) for o in result.outcomes]
    index = root / INDEX
    _write_text(index, render_index(entries, root))
    return index


def _one(key: str, nwb: Path, status: Status, validate: bool) -> SessionPreview:
    if status not in (Status.CONVERTED, Status.SKIPPED) or not os.path.lexists(nwb):
        return SessionPreview(key, nwb, None, status.value, "not converted: no report")
    try:
        report = build(nwb, PreviewOptions(validate=validate))
        dest = default_destination(nwb)
        write(report, dest)
    except NwbConvertError as exc:
        return SessionPreview(key, nwb, None, status.value, exc.message)
    validation = report.section("validation")
    return SessionPreview(key, nwb, dest, status.value, validation.title if validation else "")


def _write_text(dest: Path, text: str) -> None:
    from nwbconvert.output import atomic_output

    with atomic_output(dest, overwrite=True) as tmp:
        tmp.write_text(text, encoding="utf-8")
