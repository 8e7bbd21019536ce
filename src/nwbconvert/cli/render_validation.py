"""`validate`'s text report: for each file a table of the findings it alone has, then one table of the findings
several files share (the same severity, check, location, message and fix), each printed once with the files that
have it. A folder of files from one pipeline repeats the same findings in every file: they are read once, not once
per file, and laid out once (rich lays out every cell of every table, about 1 ms a finding). NWB Inspector's own
report aggregates identical messages the same way. `--detailed` prints every file's table whole, as JSON holds it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table
from rich.text import Text

from nwbconvert.validate.findings import FileReport, Finding, Severity

SEVERITY_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "dim"}
NAMED = 3  # a shared finding names its files when there are at most this many, else counts them
COLUMNS = ("severity", "check", "location", "message", "fix")
Key = tuple[Severity, str, str, str, str]


def key(finding: Finding) -> Key:
    """What makes two findings of two files the same finding."""
    return (finding.severity, finding.check_id, finding.location, finding.message, finding.fix)


@dataclass(frozen=True)
class Shared:
    """A finding several files have: the files (in report order) and how often it occurs in all of them."""

    finding: Finding
    files: tuple[str, ...]
    occurrences: int


def shared_findings(reports: list[FileReport]) -> dict[Key, Shared]:
    """The findings that occur in more than one of `reports`."""
    found: dict[Key, tuple[Finding, list[str]]] = {}  # each finding, first as found, and the file of each occurrence
    for report in reports:
        for finding in report.findings:
            found.setdefault(key(finding), (finding, []))[1].append(report.file)
    every = (Shared(f, tuple(dict.fromkeys(files)), len(files)) for f, files in found.values())
    return {key(s.finding): s for s in every if len(s.files) > 1}  # in one file only, even repeated: that file's own


def print_report(console: Console, reports: list[FileReport], detailed: bool) -> None:
    """Every file's line or table, then the table of shared findings (none when `detailed`)."""
    shared = {} if detailed else shared_findings(reports)
    for report in reports:
        own = [f for f in report.findings if key(f) not in shared]
        if not report.findings:
            console.print(Text.assemble(("✔", "green"), " ", report.file))
        elif not own:
            worst = max(report.findings, key=lambda f: f.severity.rank).severity
            count = f"{len(report.findings)} finding(s)"
            console.print(Text.assemble(("●", SEVERITY_STYLE[worst]), f" {report.file}: {count}, all shared (below)"))
        else:
            console.print(_file_table(report.file, own, len(report.findings) - len(own)))
    if shared:
        console.print(_shared_table(list(shared.values()), len(reports), _folder([r.file for r in reports])))


def _file_table(name: str, findings: list[Finding], in_shared: int) -> Table:
    title = name + (f" (and {in_shared} finding(s) shared with other files, below)" if in_shared else "")
    table = _table(title, COLUMNS)
    for f in sorted(findings, key=lambda f: (-f.severity.rank, f.check_id)):
        table.add_row(*_cells(f))
    return table


def _shared_table(shared: list[Shared], n_files: int, folder: str) -> Table:
    title = "Findings shared by several files, each printed once (--detailed prints every file's table whole)"
    table = _table(title + (f"; files named from {folder}" if folder else ""), (*COLUMNS, "files"))
    for s in sorted(shared, key=lambda s: (-s.finding.severity.rank, s.finding.check_id, s.finding.location)):
        table.add_row(*_cells(s.finding), _files(s, n_files, folder))
    return table


def _cells(f: Finding) -> tuple[Text | str, ...]:
    """A finding's cells under COLUMNS."""
    return (Text(f.severity.value, style=SEVERITY_STYLE[f.severity]), f.check_id, f.location, f.message, f.fix)


def _folder(files: list[str]) -> str:
    """The folder all `files` are in, which the files column names them from ("" when there is none)."""
    try:
        common = os.path.commonpath(files)
    except ValueError:  # absolute and relative names mixed, or no files
        return ""
    return "" if common in files else common  # in files: one name given twice, or a store and a path inside it


def _files(shared: Shared, n_files: int, folder: str) -> str:
    names = [os.path.relpath(name, folder) if folder else name for name in shared.files]
    named = "\n".join(names) if len(names) <= NAMED else f"{len(names)} of {n_files} files"
    extra = shared.occurrences - len(shared.files)
    return named + (f"\n({shared.occurrences} times: more than once in some)" if extra else "")


def _table(title: str, columns: tuple[str, ...]) -> Table:
    table = Table(title=title, title_justify="left", show_lines=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    return table
