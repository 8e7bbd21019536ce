"""Validate one file, in this process: integrity, then schema, best practices and DANDI readiness."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from nwbconvert.validate.best_practice import best_practice_findings
from nwbconvert.validate.dandi_ready import dandi_findings, read_fields
from nwbconvert.validate.findings import FileReport, Finding
from nwbconvert.validate.integrity import open_problem

GROUPS = ("schema", "inspection")  # can run in separate processes; "inspection" = best practice + DANDI


def check_file(
    path: Path, dandi_layout: bool = False, report_as: Path | None = None, groups: tuple[str, ...] = GROUPS
) -> FileReport:
    """Every finding of the chosen layer groups for `path` (named `report_as` in the findings).

    A file that cannot be opened gets one finding, from the inspection group only, so that a file split
    across workers reports exactly what a single worker does.
    """
    started = time.perf_counter()
    name = str(report_as or path)
    problem = open_problem(path)
    fields: dict[str, str | None] = {}
    if problem is None:
        try:
            fields = _header_fields(path)
        except Exception as exc:
            problem = Finding.error(
                name,
                "file.damaged",
                "file",
                f"{_library(path)} cannot read the file's structure ({exc}). The file is damaged.",
                "Copy or convert the file again.",
            )
    if problem is not None:
        found = (replace(problem, file=name),) if "inspection" in groups else ()
        return FileReport(name, found, None, time.perf_counter() - started)
    findings: list[Finding] = []
    if "schema" in groups:
        findings += _guarded(name, "schema", path, _schema)
    if "inspection" in groups:
        findings += _guarded(name, "best_practice", path, best_practice_findings)
        findings += dandi_findings(report_as or path, fields, dandi_layout)
    identifier = fields["identifier"] if "inspection" in groups else None
    renamed = tuple(replace(f, file=name) for f in findings)
    return FileReport(name, renamed, identifier, time.perf_counter() - started)


def _library(path: Path) -> str:
    return "Zarr" if path.is_dir() else "HDF5"


def _header_fields(path: Path) -> dict[str, str | None]:
    if path.is_dir():
        from nwbconvert.validate.zarr_store import header_fields

        return header_fields(path)
    import h5py

    with h5py.File(path, "r") as h5:
        return read_fields(h5)


def _schema(path: Path) -> list[Finding]:
    from nwbconvert.validate.schema import schema_findings

    return schema_findings(path)


def _guarded(name: str, layer: str, path: Path, run: Callable[[Path], list[Finding]]) -> list[Finding]:
    try:
        return run(path)
    except Exception as exc:
        return [
            Finding.error(
                name,
                f"{layer}.failed",
                layer,
                f"The {layer} check could not read the file ({type(exc).__name__}: {exc}).",
                "The file is damaged or not NWB; copy or convert it again.",
            )
        ]
