"""DANDI's metadata requirements, checked before any sample is written; all problems reported at once."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nwbconvert.errors import MetadataError, UsageError
from nwbconvert.metadata.model import MetadataLayer, NwbMetadata, Subject

LATIN_BINOMIAL = re.compile(r"^[A-Z][a-z]+ [a-z]+(?: [a-z]+)?$")
NCBI_TAXON = re.compile(r"^https?://purl\.obolibrary\.org/obo/NCBITaxon_\d+$")
_DURATION = r"P(?!$)(?:\d+Y)?(?:\d+M)?(?:\d+W)?(?:\d+D)?(?:T(?=\d)(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?"
ISO_DURATION = re.compile(rf"^{_DURATION}(?:/(?:{_DURATION})?)?$")
SEXES = {"M": "male", "F": "female", "U": "unknown", "O": "other"}  # DANDI's subject.sex codes
SEX_CODES = ", ".join(SEXES)
EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.timezone.utc)  # an earlier session start is a wrong clock or value
# Names in dandi-cli's species table (a test checks each), accepted without importing dandi (~0.4 s, 20 MB)
COMMON_SPECIES = frozenset(
    {"Mus musculus", "Rattus norvegicus", "Homo sapiens", "Macaca mulatta", "Callithrix jacchus", "Danio rerio"}
)


@dataclass(frozen=True)
class Problem:
    key: str
    message: str
    example: str


def parse_timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(
            f"--timezone '{name}' is not a known time zone. Use an IANA name such as Europe/Berlin, "
            "America/New_York or UTC."
        ) from None


def resolve(
    merged: MetadataLayer,
    origins: dict[str, str],
    timezone: str | None,
    default_description: str,
) -> NwbMetadata:
    """Complete metadata ready for the writer, or one MetadataError listing every problem."""
    zone = parse_timezone(timezone) if timezone else None
    problems: list[Problem] = []
    start = _localise(merged.session_start_time, zone)
    if start is None:
        problems.append(
            Problem(
                "session_start_time",
                "is missing (the source headers do not give it)",
                "--set session_start_time=2026-01-15T10:00:00+01:00",
            )
        )
    elif start.tzinfo is None:
        origin = origins.get("session_start_time", "the source headers")
        problems.append(
            Problem(
                "session_start_time",
                f"{start.isoformat()} (from {origin}) has no timezone, and the converting machine's "
                "zone is never assumed; give the zone where it was recorded with --timezone",
                "--timezone Europe/London, or --set session_start_time=" + start.isoformat() + "+00:00",
            )
        )
    elif not EARLIEST <= start <= dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1):
        problems.append(
            Problem(
                "session_start_time",
                f"{start.isoformat()} (from {origins.get('session_start_time', 'the source headers')}) is before "
                f"{EARLIEST.year} or in the future; give the time the recording started",
                "--set session_start_time=2026-01-15T10:00:00+01:00",
            )
        )
    sid = merged.session_id
    if sid is not None and ("/" in sid or "\\" in sid or sid != sid.strip()):
        problems.append(
            Problem(
                "session_id",
                f"'{sid}' must not contain '/', '\\' or surrounding spaces (it becomes part of file names)",
                "--set session_id=day1",
            )
        )
    problems += _subject_problems(merged)
    if problems:
        raise MetadataError(_message(problems))
    assert start is not None
    subject = merged.subject.model_dump() | {"date_of_birth": _localise(merged.subject.date_of_birth, zone)}
    top = merged.model_dump(exclude={"subject"}) | {
        "session_start_time": start,
        "session_description": merged.session_description or default_description,
        "identifier": merged.identifier or str(uuid.uuid4()),
    }
    return NwbMetadata.model_validate(top | {"subject": Subject.model_validate(subject)})


def _localise(value: dt.datetime | None, zone: ZoneInfo | None) -> dt.datetime | None:
    if value is None or value.tzinfo is not None or zone is None:
        return value
    return value.replace(tzinfo=zone)


def _subject_problems(merged: MetadataLayer) -> list[Problem]:
    s = merged.subject
    problems: list[Problem] = []
    if not s.subject_id or not s.subject_id.strip():
        problems.append(Problem("subject.subject_id", "is missing", "--set subject.subject_id=m1"))
    elif "/" in s.subject_id or s.subject_id != s.subject_id.strip():
        problems.append(
            Problem(
                "subject.subject_id",
                f"'{s.subject_id}' must not contain '/' or surrounding spaces (it becomes part of file names)",
                "--set subject.subject_id=m1",
            )
        )
    if not s.species:
        problems.append(Problem("subject.species", "is missing", "--set subject.species='Mus musculus'"))
    elif not (LATIN_BINOMIAL.match(s.species) or NCBI_TAXON.match(s.species)):
        latin = _dandi_species(s.species)
        hint = f" (did you mean '{latin}'?)" if latin else ""
        problems.append(
            Problem(
                "subject.species",
                f"'{s.species}' is neither a Latin binomial nor an NCBI taxonomy URL{hint}",
                f"--set subject.species='{latin or 'Mus musculus'}'",
            )
        )
    elif s.species not in COMMON_SPECIES and LATIN_BINOMIAL.match(s.species) and _dandi_species(s.species) is None:
        problems.append(
            Problem(
                "subject.species",
                f"'{s.species}' is a Latin binomial, but DANDI upload cannot interpret it (not in its table)",
                "--set subject.species=http://purl.obolibrary.org/obo/NCBITaxon_<taxon id>",
            )
        )
    if not s.sex:
        problems.append(Problem("subject.sex", f"is missing (one of {SEX_CODES})", "--set subject.sex=F"))
    elif s.sex not in SEXES:
        guess = next((k for k, v in SEXES.items() if v == s.sex.strip().lower()), "U")
        problems.append(Problem("subject.sex", f"'{s.sex}' must be one of {SEX_CODES}", f"--set subject.sex={guess}"))
    if not s.age and not s.date_of_birth:
        problems.append(
            Problem(
                "subject.age",
                "is missing, and so is subject.date_of_birth (one of them is required)",
                "--set subject.age=P90D",
            )
        )
    elif s.age and not ISO_DURATION.match(s.age):
        problems.append(
            Problem(
                "subject.age",
                f"'{s.age}' is not an ISO 8601 duration (P90D = 90 days, P12W = 12 weeks, P2Y = 2 years)",
                "--set subject.age=P90D",
            )
        )
    return problems


def _dandi_species(species: str) -> str | None:
    """The Latin name dandi-cli's upload-time table gives `species` ('mouse' -> 'Mus musculus'), or None."""
    from dandi.metadata.util import extract_species

    try:
        found = extract_species({"species": species})
    except ValueError:
        return None
    return found.name.split(" - ")[0] if found is not None and found.name else species


def _message(problems: list[Problem]) -> str:
    count = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
    lines = [f"  - {p.key}: {p.message}; e.g. {p.example}" for p in problems]
    return (
        f"The session metadata is not ready for DANDI ({count}); nothing was written. Set each key in a "
        "--metadata YAML file (see configs/) or with --set KEY=VALUE:\n" + "\n".join(lines)
    )
