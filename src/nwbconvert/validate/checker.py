"""Validate one file, in this process: integrity, then schema, best practices and DANDI readiness."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

from nwbconvert import interrupts
from nwbconvert.readers.plain import explain
from nwbconvert.validate.best_practice import best_practice_findings
from nwbconvert.validate.dandi_ready import DandiHeader, dandi_findings, read_header
from nwbconvert.validate.findings import FileReport, Finding, Severity, ValidationLayer
from nwbconvert.validate.integrity import open_problem
from nwbconvert.validate.walk import FileWalk

GROUPS = ("schema", "best_practice", "dandi")  # can run in separate processes; "dandi": DANDI, archive and file


def split_groups(workers: int) -> list[tuple[str, ...]]:
    """How one file's layer groups are shared out among `workers` processes: all on one read with one worker; with
    two, the schema and best-practice checks on one read, and the DANDI checks (which load dandi-cli and DANDI's
    JSON Schema, the longest load) on the other; with more, each group on its own."""
    if workers <= 1:
        return [GROUPS]
    if workers == 2:
        return [GROUPS[:2], GROUPS[2:]]
    return [(group,) for group in GROUPS]


def check_file(
    path: Path, dandi_layout: bool = False, report_as: Path | None = None, groups: tuple[str, ...] = GROUPS
) -> FileReport:
    """Every finding of the chosen layer groups for `path` (named `report_as` in the findings).

    A file that cannot be opened gets one finding, from the "dandi" group only, so that a file split across
    workers reports exactly what a single worker does.
    """
    started = time.perf_counter()
    name = str(report_as or path)
    problem = open_problem(path)
    first = FirstRead(DandiHeader())
    if problem is None:
        try:
            first = _first_read(path)
        except Exception as exc:
            problem = Finding.error(
                name,
                "file.damaged",
                ValidationLayer.FILE,
                f"{_library(path)} cannot read the file's structure ({exc}). The file is damaged.",
                "Copy or convert the file again.",
            )
    if problem is not None:
        found = (replace(problem, file=name),) if "dandi" in groups else ()
        return FileReport(name, found, None, time.perf_counter() - started)
    dandi = dandi_findings(report_as or path, first.header, dandi_layout) if "dandi" in groups else []

    def archive(nwbfile: Any) -> list[Finding]:  # the DANDI layer, then the archive's checks (dandi_asset.py)
        run = partial(_archive, report_as, dandi, dandi_layout, nwbfile, first.walk)
        return dandi + _guarded(name, ValidationLayer.DANDI, path, run)

    findings = _read_once(name, path, groups, archive, first.specs)
    if "dandi" in groups:
        external = partial(_external, report_as, dandi_layout, first.walk)
        findings += _guarded(name, ValidationLayer.FILE, path, external)
        findings += [_filter_missing(name, fid) for fid in sorted(first.missing)]
    identifier = first.header.identifier if "dandi" in groups else None
    renamed = tuple(replace(f, file=name) for f in findings)
    return FileReport(name, renamed, identifier, time.perf_counter() - started)


def _read_once(
    name: str,
    path: Path,
    groups: tuple[str, ...],
    archive: Callable[[Any], list[Finding]],
    specs: dict[str, str] | None,
) -> list[Finding]:
    """The schema, best-practice and DANDI (with the archive's) findings of `groups`: the first two on one read of
    the file when both are asked for (the archive's extraction reusing it), else each layer on its own."""
    with_dandi = archive if "dandi" in groups else None
    both = _both_at_once(path, specs, with_dandi) if set(GROUPS[:2]) <= set(groups) else None
    if both is not None:
        return both
    findings = _guarded(name, ValidationLayer.SCHEMA, path, _schema) if "schema" in groups else []
    interrupts.check()  # validating a conversion: a stop requested during the schema check
    if "best_practice" in groups:
        findings += _guarded(name, ValidationLayer.BEST_PRACTICE, path, best_practice_findings)
    return findings + (archive(None) if with_dandi else [])


def _library(path: Path) -> str:
    return "Zarr" if path.is_dir() else "HDF5"


@dataclass(frozen=True)
class FirstRead:
    """What the checks take from one opening of the file, before pynwb reads it."""

    header: DandiHeader  # the header fields DANDI needs
    missing: frozenset[int] = frozenset()  # ids of HDF5 filters the file uses that cannot be decoded here
    walk: FileWalk | None = None  # the file's structure walked once for the checks (walk.py; None: unwalkable)
    specs: dict[str, str] | None = None  # its cached specifications (opened.py; None: none, or unreadable)


def _first_read(path: Path) -> FirstRead:
    """The header, missing filters, walk and cached specifications of an HDF5 file; a Zarr store's header."""
    if path.is_dir():
        from nwbconvert.validate.zarr_store import store_header

        return FirstRead(store_header(path))
    import h5py

    from nwbconvert.validate.walk import walk_file

    with h5py.File(path, "r") as h5:
        walk = walk_file(h5)
        missing = load_missing_filters(h5) if walk is None else unavailable(set(walk.filters))
        return FirstRead(read_header(h5), frozenset(missing), walk, _specs(h5))


def _specs(h5: Any) -> dict[str, str] | None:
    from nwbconvert.validate.opened import texts_in

    try:
        return texts_in(h5)
    except Exception:
        return None  # cached specs that cannot be read: the schema and best-practice checks read the file alone


def _filter_missing(name: str, filter_id: int) -> Finding:
    known = {32001: ("Blosc", "nwbconvert[blosc]")}.get(filter_id, (f"filter {filter_id}", "hdf5plugin"))
    return Finding(
        name,
        Severity.WARNING,
        "file.filter_unavailable",
        ValidationLayer.FILE,
        "/",
        f"Datasets are compressed with HDF5's {known[0]} filter (id {filter_id}), which this installation "
        "cannot decode, so checks that read their data could not run; every reader of the file needs "
        "hdf5plugin too.",
        f"Install {known[1]} to check the data, or convert with --compression gzip for files any HDF5 reads.",
    )


def load_missing_filters(h5: object) -> set[int]:
    """Register hdf5plugin's filters when the file's datasets use one this HDF5 lacks (Blosc, from
    `--compression blosc-zstd`) and the package is installed; returns the filter ids still missing."""
    import h5py

    used: set[int] = set()

    def visit(_: str, obj: object) -> None:
        if isinstance(obj, h5py.Dataset) and obj.chunks is not None:
            plist = obj.id.get_create_plist()
            used.update(plist.get_filter(i)[0] for i in range(plist.get_nfilters()))

    try:
        h5.visititems(visit)  # type: ignore[attr-defined]
    except Exception:
        return set()  # a damaged structure: the schema and best-practice checks say what is wrong
    return unavailable(used)


def unavailable(filters: set[int]) -> set[int]:
    """Of the HDF5 filter ids `filters`, those this HDF5 cannot decode, once hdf5plugin (when installed) has
    registered its filters."""
    import h5py

    missing = {fid for fid in filters if not h5py.h5z.filter_avail(fid)}
    if missing:
        import importlib.util

        if importlib.util.find_spec("hdf5plugin") is not None:
            import hdf5plugin  # noqa: F401  (registers its filters with HDF5)
    return {fid for fid in missing if not h5py.h5z.filter_avail(fid)}


def _both_at_once(
    path: Path, specs: dict[str, str] | None, archive: Callable[[Any], list[Finding]] | None
) -> list[Finding] | None:
    """Schema and best-practice findings, then the DANDI and archive findings when `archive` is given, from one
    read of an HDF5 file (validate/opened.py; the archive's extraction reuses the NWBFile read for NWB Inspector),
    or None: check each layer on its own."""
    if path.is_dir():
        return None
    import warnings

    from nwbconvert.validate import best_practice, opened, schema

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        checked = opened.warm(path, specs, archive)
    if checked is None:
        return None
    layers = schema.findings_of(path, checked.schema_errors)
    return layers + best_practice.findings_of(path, checked.inspector_messages) + checked.during


def _archive(
    report_as: Path | None, dandi: list[Finding], layout: bool, nwbfile: Any, walk: FileWalk | None, path: Path
) -> list[Finding]:
    """The archive's findings (after the DANDI layer's `dandi`), with the NWBFile already read when there is one."""
    from nwbconvert.validate.dandi_asset import archive_findings

    return archive_findings(path, report_as or path, dandi, layout, nwbfile, walk)


def _external(report_as: Path | None, layout: bool, walk: FileWalk | None, path: Path) -> list[Finding]:
    from nwbconvert.validate.external_files import external_file_findings

    return external_file_findings(path, report_as, layout, walk)


def _schema(path: Path) -> list[Finding]:
    from nwbconvert.validate.schema import schema_findings

    return schema_findings(path)


def _guarded(name: str, layer: ValidationLayer, path: Path, run: Callable[[Path], list[Finding]]) -> list[Finding]:
    try:
        return run(path)
    except Exception as exc:
        return [
            Finding.error(
                name,
                f"{layer.value}.failed",
                layer,
                f"The {layer.value} check could not read the file ({explain(exc, path)}).",
                "The file is damaged or not NWB; copy or convert it again.",
            )
        ]
