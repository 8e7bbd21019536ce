"""Layer 1: the NWB schema, checked by pynwb against the namespaces cached in the file (or Zarr store)."""

from __future__ import annotations

import warnings
from pathlib import Path

from nwbconvert.validate.findings import Finding, Severity


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
    return [
        Finding(
            file=str(path),
            severity=Severity.ERROR,
            check_id=f"schema.{type(err).__name__}",
            layer="schema",
            location=str(getattr(err, "location", None) or getattr(err, "name", "/")),
            message=str(getattr(err, "reason", err)),
            fix="Rewrite the object with pynwb (or reconvert) so that it matches the NWB schema.",
        )
        for err in errors
    ]
