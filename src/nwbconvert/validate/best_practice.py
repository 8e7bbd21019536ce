"""Layer 2: NWB Inspector with DANDI's configuration (the importance DANDI gives each check).

Mapping of NWB Inspector importance to severity:
CRITICAL -> error; BEST_PRACTICE_VIOLATION -> warning; BEST_PRACTICE_SUGGESTION -> info.
A check that crashed inside NWB Inspector (importance ERROR) is a warning `<check>.crashed`: the
check could not judge the file, which says nothing certain about the file itself.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from nwbconvert.validate.findings import Finding, Severity, ValidationLayer

FIXES = {
    "check_subject_exists": "Add a subject: --set subject.subject_id=m1 (with species, sex, age) when converting.",
    "check_subject_id_exists": "Set subject.subject_id, e.g. --set subject.subject_id=m1.",
    "check_subject_id_no_slashes": "Remove '/' from subject.subject_id (it becomes part of file names).",
    "check_subject_species_exists": "Set subject.species to a Latin binomial, e.g. 'Mus musculus'.",
    "check_subject_species_form": "Use the Latin binomial ('Mus musculus') or an NCBI taxonomy URL.",
    "check_subject_sex": "Set subject.sex to one of M, F, U, O.",
    "check_subject_age": "Set subject.age as an ISO 8601 duration, e.g. P90D (or set subject.date_of_birth).",
    "check_subject_proper_age_range": "Write an age range as start/end durations, e.g. P90D/P100D.",
    "check_electrodes_location_allen_ccf": "Name electrode locations with Allen CCF terms (e.g. 'CA1', 'VISp').",
}
CRASHED = re.compile(r"During evaluation of '(?P<check>\w+)'")
SEVERITY = {
    "CRITICAL": Severity.ERROR,
    "ERROR": Severity.WARNING,
    "PYNWB_VALIDATION": Severity.ERROR,
    "BEST_PRACTICE_VIOLATION": Severity.WARNING,
    "BEST_PRACTICE_SUGGESTION": Severity.INFO,
}


@lru_cache(maxsize=1)
def dandi_checks() -> tuple[Callable[..., Any], ...]:
    """NWB Inspector's registered checks as DANDI's configuration sets them: what `config=load_config("dandi")`
    makes of them for every file, made once per process (it depends on the configuration alone; passed as
    `checks=`, NWB Inspector keeps them as they are)."""
    from nwbinspector import configure_checks, load_config

    return tuple(configure_checks(config=load_config("dandi")))


def _hdf5_messages(path: Path) -> list[Any]:
    from nwbinspector import inspect_nwbfile, load_config

    return list(inspect_nwbfile(nwbfile_path=path, config=load_config("dandi"), skip_validate=True))


def _zarr_messages(path: Path) -> list[Any]:
    """The same checks on the NWBFile that hdmf-zarr reads from a store (a read failure is the layer's failure)."""
    from nwbinspector import inspect_nwbfile_object

    from nwbconvert.validate.zarr_store import open_io

    with open_io(path) as io:
        return list(inspect_nwbfile_object(io.read(), checks=list(dandi_checks())))


def best_practice_findings(path: Path) -> list[Finding]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        messages = _zarr_messages(path) if path.is_dir() else _hdf5_messages(path)
    return findings_of(path, messages)


def findings_of(path: Path, messages: list[Any]) -> list[Finding]:
    """NWB Inspector's messages for `path` as findings."""
    findings = []
    for m in messages:
        if m is None:
            continue
        check, message = m.check_function_name, m.message
        crashed = CRASHED.match(check)
        if crashed:
            last_line = message.strip().splitlines()[-1] if message.strip() else ""
            check, message = f"{crashed['check']}.crashed", f"NWB Inspector's check failed to run: {last_line}"
        location = m.location or "/"
        if m.object_name and m.object_name != "root" and m.object_name not in location:
            location = f"{location.rstrip('/')}/{m.object_name}" if location != "/" else f"/{m.object_name}"
        findings.append(
            Finding(
                file=str(path),
                severity=SEVERITY.get(m.importance.name, Severity.WARNING),
                check_id=check,
                layer=ValidationLayer.BEST_PRACTICE,
                location=location,
                message=message,
                fix=FIXES.get(check, f"See NWB Inspector's best practices for {check}."),
            )
        )
    return findings
