"""Typed validation results: one `Finding` per problem, one `FileReport` per file."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Severity(str, Enum):
    ERROR = "error"  # DANDI would refuse the file, or it cannot be read at all
    WARNING = "warning"  # a best-practice violation
    INFO = "info"  # a suggestion

    @property
    def rank(self) -> int:
        return {"error": 2, "warning": 1, "info": 0}[self.value]


@dataclass(frozen=True)
class Finding:
    file: str
    severity: Severity
    check_id: str  # "file.truncated", "schema.DtypeError", "check_subject_sex", "dandi.species_uninterpretable"
    layer: str  # file, schema, best_practice, dandi
    location: str  # path inside the NWB file ("/" for the file as a whole)
    message: str
    fix: str

    @classmethod
    def error(cls, file: str, check_id: str, layer: str, message: str, fix: str, location: str = "/") -> Finding:
        return cls(file, Severity.ERROR, check_id, layer, location, message, fix)


@dataclass(frozen=True)
class FileReport:
    file: str
    findings: tuple[Finding, ...] = ()
    identifier: str | None = None
    seconds: float = 0.0
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def has_errors(self) -> bool:
        return any(f.severity is Severity.ERROR for f in self.findings)
