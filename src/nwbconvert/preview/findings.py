"""The validation findings of the file: what `nwbconvert validate FILE` reports, as a table."""

from __future__ import annotations

import os
from pathlib import Path

from nwbconvert.preview.model import Section, Table

TIMEOUT_S = 120.0


def validation_section(path: Path) -> Section:
    from nwbconvert.validate.runner import ValidateOptions, validate_files

    options = ValidateOptions(jobs=min(2, os.cpu_count() or 1), timeout_s=TIMEOUT_S)
    report = validate_files([path], options)[0]
    order = {"error": 0, "warning": 1, "info": 2}
    findings = sorted(report.findings, key=lambda f: (order.get(f.severity.value, 3), f.check_id))
    counts = {s: sum(f.severity.value == s for f in findings) for s in order}
    summary = ", ".join(f"{n} {s}{'s' if n != 1 else ''}" for s, n in counts.items())
    if not findings:
        return Section("validation", "Validation", notes=("No findings: `nwbconvert validate` finds nothing.",))
    rows = tuple((f.severity.value, f.check_id, f.location, f.message, f.fix) for f in findings)
    table = Table(("severity", "check", "location", "message", "fix"), rows)
    return Section("validation", f"Validation ({summary})", (table,))


def skipped_section() -> Section:
    return Section("validation", "Validation", notes=("Not run (--no-validate); `nwbconvert validate FILE` runs it.",))
