"""Filtering and summarising findings for display and exit codes."""

from __future__ import annotations

from dataclasses import dataclass

from nwbconvert.validate.findings import FileReport, Finding, Severity


@dataclass(frozen=True)
class Summary:
    files: int
    files_with_errors: int
    errors: int
    warnings: int
    infos: int


def filtered(reports: list[FileReport], ignore: set[str], min_severity: Severity) -> list[FileReport]:
    """Drop ignored checks and findings below `min_severity` (errors always count for the exit code)."""
    return [
        FileReport(
            r.file,
            tuple(f for f in r.findings if f.check_id not in ignore and f.severity.rank >= min_severity.rank),
            r.identifier,
            r.seconds,
        )
        for r in reports
    ]


def summarise(reports: list[FileReport]) -> Summary:
    findings: list[Finding] = [f for r in reports for f in r.findings]

    def count(severity: Severity) -> int:
        return sum(f.severity is severity for f in findings)

    return Summary(
        files=len(reports),
        files_with_errors=sum(r.has_errors for r in reports),
        errors=count(Severity.ERROR),
        warnings=count(Severity.WARNING),
        infos=count(Severity.INFO),
    )
