"""Filtering and summarising findings for display and exit codes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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


_FINDING: dict[str, Any] = {
    "type": "object",
    "required": ["file", "severity", "check_id", "layer", "location", "message", "fix"],
    "properties": {
        "file": {"type": "string"},
        "severity": {"enum": ["error", "warning", "info"]},
        "check_id": {"type": "string", "minLength": 1},
        "layer": {"enum": ["file", "schema", "best_practice", "dandi"]},
        "location": {"type": "string"},
        "message": {"type": "string", "minLength": 1},
        "fix": {"type": "string", "minLength": 1},
    },
}

JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "nwbconvert validate --json, version 1",
    "type": "object",
    "required": ["nwbconvert", "kind", "result"],
    "properties": {
        "nwbconvert": {"const": 1},
        "kind": {"const": "validation"},
        "result": {
            "type": "object",
            "required": ["files", "summary"],
            "properties": {
                "files": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["file", "findings", "identifier", "seconds"],
                        "properties": {
                            "file": {"type": "string"},
                            "findings": {"type": "array", "items": {"$ref": "#/$defs/finding"}},
                            "identifier": {"type": ["string", "null"]},
                            "seconds": {"type": "number", "minimum": 0},
                        },
                    },
                },
                "summary": {
                    "type": "object",
                    "required": ["files", "files_with_errors", "errors", "warnings", "infos"],
                    "additionalProperties": {"type": "integer", "minimum": 0},
                },
            },
        },
    },
    "$defs": {
        "finding": _FINDING,
        "finding_line": {
            **_FINDING,
            "required": ["nwbconvert", *_FINDING["required"]],
            "properties": {**_FINDING["properties"], "nwbconvert": {"const": 1}},
        },
    },
}
