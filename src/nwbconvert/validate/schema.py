"""Layer 1: the NWB schema, checked by pynwb against the namespaces cached in the file (or Zarr store)."""

from __future__ import annotations

import re
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

from nwbconvert.validate.findings import Finding, Severity, ValidationLayer


def schema_findings(path: Path) -> list[Finding]:
    from pynwb.validation import validate

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if path.is_dir():  # pynwb's validate(path=) cannot open a Zarr store: give it hdmf-zarr's IO
            from nwbconvert.validate.zarr_store import open_io

            with open_io(path) as io:
                errors = validate(io=io, use_cached_namespaces=True)
        else:
            errors = validate(path=str(path), use_cached_namespaces=True)
    return findings_of(path, errors)


def findings_of(path: Path, errors: list[Any]) -> list[Finding]:
    """pynwb's validation errors for `path` as findings."""
    findings = [
        Finding(
            file=str(path),
            severity=Severity.ERROR,
            check_id=f"schema.{type(err).__name__}",
            layer=ValidationLayer.SCHEMA,
            location=str(getattr(err, "location", None) or getattr(err, "name", "/")),
            message=str(getattr(err, "reason", err)),
            fix="Rewrite the object with pynwb (or reconvert) so that it matches the NWB schema.",
        )
        for err in errors
    ]
    return [_json_integer(f) for f in findings] if path.is_dir() else findings


JSON_UINT = re.compile(r"expected '(uint\d*)', got 'int64'")


def _json_integer(finding: Finding) -> Finding:
    """A Zarr store keeps attributes in JSON, which has no unsigned integers: hdmf-zarr reads a uint attribute
    (e.g. a sweep_number) back as int64 and the schema validator flags it (hdmf-dev/hdmf-zarr#323). The value
    itself is intact, so this is information about the store, not an error in it."""
    match = JSON_UINT.search(finding.message) if finding.check_id == "schema.DtypeError" else None
    if match is None:
        return finding
    return replace(
        finding,
        severity=Severity.INFO,
        check_id="schema.zarr_json_integer",
        message=f"{finding.message} (a Zarr attribute is a JSON integer, read back as int64; the {match[1]} value "
        "is stored intact, hdmf-dev/hdmf-zarr#323).",
        fix="Nothing to fix in the store; HDF5 output (--backend hdf5) keeps the unsigned type.",
    )
