"""Layer 3: DANDI readiness: what upload interprets (species, sex, age), zones, identifiers, layout.

Species, sex and age are put through dandi-cli's own interpretation (`dandi.metadata.util`), so a
value that upload would refuse (e.g. a Latin binomial missing from DANDI's table) is an error here.
Existence and form of the fields are NWB Inspector's checks (layer 2) and are not repeated.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from nwbconvert.validate.findings import FileReport, Finding, ValidationLayer

LAYOUT = re.compile(
    r"^sub-(?P<sub>[A-Za-z0-9-]+)_ses-(?P<ses>[A-Za-z0-9-]+)(?:_[A-Za-z0-9+-]+)*?(?:_(?P<mod>[A-Za-z0-9+]+))?\.nwb(?:\.zarr)?$"
)
NCBI_URL = re.compile(r"^https?://purl\.obolibrary\.org/obo/NCBITaxon_\d+/?$", re.IGNORECASE)
ZONE = re.compile(r"(Z|[+-]\d\d:?\d\d)$")
SUBJECT = "general/subject"  # where an NWB file keeps its DandiSubject


@dataclass(frozen=True)
class DandiSubject:
    """The subject fields DANDI interprets, as stored in the file (None when absent)."""

    subject_id: str | None = None
    species: str | None = None
    sex: str | None = None
    age: str | None = None
    date_of_birth: str | None = None


@dataclass(frozen=True)
class DandiHeader:
    """The few values DANDI interprets at upload; `subject` is None when the file has no subject."""

    identifier: str | None = None
    session_start_time: str | None = None
    subject: DandiSubject | None = None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if hasattr(value, "shape") and value.shape != ():
        value = value[0] if len(value) else None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return None if value is None else str(value)


def read_header(h5: Any) -> DandiHeader:
    """The DANDI header of an HDF5 file or a zarr group, read directly (no pynwb object graph needed)."""

    def get(name: str) -> str | None:
        return _text(h5[name][()]) if name in h5 else None

    subject = None
    if SUBJECT in h5:
        subject = DandiSubject(**{f.name: get(f"{SUBJECT}/{f.name}") for f in fields(DandiSubject)})
    return DandiHeader(get("identifier"), get("session_start_time"), subject)


def dandi_findings(path: Path, header: DandiHeader, layout: bool) -> list[Finding]:
    from dandi.metadata.util import extract_age, extract_sex, extract_species

    def error(check: str, location: str, message: str, fix: str) -> Finding:
        return Finding.error(str(path), f"dandi.{check}", ValidationLayer.DANDI, message, fix, location)

    findings = []
    subject = header.subject or DandiSubject()
    start = header.session_start_time
    if start and not ZONE.search(start.strip()):
        findings.append(
            error(
                "session_start_time_no_timezone",
                "/session_start_time",
                f"session_start_time '{start}' has no timezone; DANDI needs one.",
                "Reconvert with --timezone Area/City or a session_start_time with an offset.",
            )
        )
    interpreters = (
        (
            "species",
            subject.species,
            extract_species,
            "Use a species DANDI knows or its NCBI taxonomy URL, e.g. "
            "http://purl.obolibrary.org/obo/NCBITaxon_9685 for Felis catus.",
        ),
        ("sex", subject.sex, extract_sex, "Set subject.sex to M, F, U or O."),
        ("age", subject.age, extract_age, "Set subject.age as an ISO 8601 duration such as P90D."),
    )
    for key, value, interpret, fix in interpreters:
        if not value:
            continue  # a missing field is NWB Inspector's finding
        if key == "species" and NCBI_URL.match(value):
            continue  # upload takes a taxonomy URL as it is (dandi only looks its label up, online)
        try:
            interpret({key: value})
        except Exception as exc:
            findings.append(
                error(
                    f"{key}_uninterpretable",
                    f"/{SUBJECT}/{key}",
                    f"DANDI upload cannot interpret {key} '{value}': {str(exc).split('. ')[0].rstrip('.')}.",
                    fix,
                )
            )
    if layout:
        findings += _layout_findings(path, subject.subject_id, error)
    return findings


def _layout_findings(path: Path, subject_id: str | None, error: Callable[..., Finding]) -> list[Finding]:
    match = LAYOUT.match(path.name)
    expected = "sub-<label>/sub-<label>_ses-<label>_<modality>.nwb (no _<modality> where organize gives none)"
    if not match:
        return [error("layout_name", "/", f"'{path.name}' does not follow {expected}.", "Rename the file.")]
    found = []
    if path.parent.name != f"sub-{match['sub']}":
        found.append(
            error(
                "layout_folder",
                "/",
                f"'{path.name}' is in folder '{path.parent.name}', not 'sub-{match['sub']}'.",
                f"Move it into a folder named sub-{match['sub']}.",
            )
        )
    if subject_id is not None and re.sub(r"[^A-Za-z0-9-]", "-", subject_id) != match["sub"]:
        found.append(
            error(
                "layout_subject",
                f"/{SUBJECT}/subject_id",
                f"The file name says subject '{match['sub']}' but subject_id is '{subject_id}'.",
                "Name the file after the subject_id stored in it.",
            )
        )
    return found


def duplicate_identifiers(reports: Iterable[FileReport]) -> list[Finding]:
    """One error per file whose identifier is shared with another file in the batch."""
    by_id: dict[str, list[str]] = {}
    for report in reports:
        if report.identifier:
            by_id.setdefault(report.identifier, []).append(report.file)
    findings = []
    for identifier, files in by_id.items():
        if len(files) < 2:
            continue
        for file in files:
            others = ", ".join(f for f in files if f != file)
            findings.append(
                Finding.error(
                    file,
                    "dandi.identifier_not_unique",
                    ValidationLayer.DANDI,
                    f"identifier '{identifier}' is also used by {others}; DANDI needs each file's to be unique.",
                    "Reconvert one of them (nwbconvert gives every file a fresh UUID unless told otherwise).",
                    "/identifier",
                )
            )
    return findings
