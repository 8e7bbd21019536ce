"""Typed validation results: one `Finding` per problem, one `FileReport` per file.

The JSON output is these records as `dataclasses.asdict` writes them, and its JSON Schema is derived from them
(`report.json_schema`), so the `Annotated` constraints below are what the schema promises.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Annotated

from annotated_types import Ge, MinLen

NonEmpty = Annotated[str, MinLen(1)]
Seconds = Annotated[float, Ge(0)]


class Severity(str, Enum):
    ERROR = "error"  # DANDI would refuse the file, or it cannot be read at all
    WARNING = "warning"  # a best-practice violation
    INFO = "info"  # a suggestion

    @property
    def rank(self) -> int:
        return {"error": 2, "warning": 1, "info": 0}[self.value]


class ValidationLayer(str, Enum):
    """Which check found it (the values are the `layer` strings of the JSON output)."""

    FILE = "file"  # integrity: opens, complete (HDF5 superblock, Zarr chunks), decodable, within the time limit
    SCHEMA = "schema"  # pynwb against the namespaces cached in the file
    BEST_PRACTICE = "best_practice"  # NWB Inspector with DANDI's configuration
    DANDI = "dandi"  # dandi-cli's upload-time interpretation, identifiers, layout


@dataclass(frozen=True)
class Finding:
    file: str
    severity: Severity
    check_id: NonEmpty  # "file.truncated", "schema.DtypeError", "check_subject_sex", "dandi.species_uninterpretable"
    layer: ValidationLayer
    location: str  # path inside the NWB file ("/" for the file as a whole)
    message: NonEmpty
    fix: NonEmpty

    @classmethod
    def error(
        cls, file: str, check_id: str, layer: ValidationLayer, message: str, fix: str, location: str = "/"
    ) -> Finding:
        return cls(file, Severity.ERROR, check_id, layer, location, message, fix)


@dataclass(frozen=True)
class FileReport:
    file: str
    findings: tuple[Finding, ...] = ()
    identifier: str | None = None
    seconds: Seconds = 0.0
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def has_errors(self) -> bool:
        return any(f.severity is Severity.ERROR for f in self.findings)
