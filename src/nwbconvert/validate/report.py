"""Filtering and summarising findings for display and exit codes; the JSON output's records and schema."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

from annotated_types import Ge

from nwbconvert.validate.findings import FileReport, Finding, Severity

if TYPE_CHECKING:
    from pydantic_core import core_schema

Count = Annotated[int, Ge(0)]


@dataclass(frozen=True)
class Summary:
    files: Count
    files_with_errors: Count
    errors: Count
    warnings: Count
    infos: Count


@dataclass(frozen=True)
class ValidationResult:
    """The `result` of `nwbconvert validate --json`."""

    files: tuple[FileReport, ...]
    summary: Summary


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


@dataclass(frozen=True)
class _Document:
    """`nwbconvert validate --json`: the envelope `cli.render` writes around a `ValidationResult`."""

    nwbconvert: Literal[1]  # cli.render.JSON_SCHEMA_VERSION
    kind: Literal["validation"]
    result: ValidationResult


@dataclass(frozen=True)
class _FindingLine(Finding):
    """One line of `nwbconvert validate --format jsonl`: a finding and the output's version."""

    nwbconvert: Literal[1] = 1  # cli.render.JSON_SCHEMA_VERSION


def json_schema(jsonl: bool = False) -> dict[str, Any]:
    """The JSON Schema of `validate --json` output (of one `--format jsonl` line), derived from the records."""
    from pydantic import TypeAdapter
    from pydantic.json_schema import GenerateJsonSchema

    class Written(GenerateJsonSchema):
        """The output is `dataclasses.asdict`, which writes every field: each one is required."""

        def field_is_required(
            self,
            field: core_schema.ModelField | core_schema.DataclassField | core_schema.TypedDictField,
            total: bool,
        ) -> bool:
            return True

    record = _FindingLine if jsonl else _Document
    schema = TypeAdapter(record).json_schema(mode="serialization", schema_generator=Written)
    output = "--format jsonl line" if jsonl else "--json"
    return schema | {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"nwbconvert validate {output}, version 1",
    }
