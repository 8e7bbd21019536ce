"""Typed pieces of a study conversion: the sessions found, what became of each, the run's summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nwbconvert.align import Alignment
    from nwbconvert.metadata.layers import Layer
    from nwbconvert.options import ConvertOptions, SourceSpec


@dataclass(frozen=True)
class SessionJob:
    """One session of a study, ready to convert exactly as `nwbconvert convert` would (picklable: it travels
    to pool and Dask workers)."""

    key: str  # "sub-m1_ses-1": unique in the study, names the log, lock and manifest entry
    subject_id: str
    session_id: str
    sources: tuple[SourceSpec, ...]
    layers: tuple[Layer, ...]  # metadata from the study: template fields, per-subject files, study values
    output: Path  # absolute: <out>/sub-<subject>/sub-<subject>_ses-<session>_ecephys.nwb
    options: ConvertOptions  # the run's options (compression, jobs per session, validate, ...)
    fields: dict[str, str] = field(default_factory=dict)  # what the path template matched (for --dry-run)
    alignments: tuple[Alignment, ...] = ()  # a session's `align:` entries (align.py)


class Status(str, Enum):
    CONVERTED = "converted"
    SKIPPED = "skipped"  # output exists, validated, and its inputs/options are unchanged (manifest)
    FAILED = "failed"
    LOCKED = "locked"  # another run holds this session's lock


@dataclass(frozen=True)
class SessionOutcome:
    """What became of one session."""

    key: str
    status: Status
    output: Path
    log: Path | None = None
    seconds: float = 0.0
    exit_code: int = 0  # the ExitCode a failed `convert` would have returned
    error_family: str = ""  # e.g. "SourceError", "MetadataError"
    message: str = ""  # the one-paragraph error, or why it was skipped


@dataclass(frozen=True)
class BatchResult:
    outcomes: tuple[SessionOutcome, ...]
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(o.status in (Status.CONVERTED, Status.SKIPPED) for o in self.outcomes)
