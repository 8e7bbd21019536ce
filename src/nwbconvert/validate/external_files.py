"""Every ImageSeries' external files: there, and named relative to the NWB file (DANDI uploads them beside it).

An absolute path names a file on the machine that wrote the NWB file: on DANDI, or on a copy of the folder, it
names nothing. A relative path is resolved against the folder of the NWB file (NWB's rule), so it holds wherever
the file and its videos are copied together. URLs are left alone. With --dandi-layout a file outside the folder
named after the NWB file (where `dandi organize` puts videos) is a warning.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from nwbconvert.validate.findings import Finding, Severity, ValidationLayer
from nwbconvert.validate.walk import FileWalk

MISSING = "nwbconvert.external_file_missing"
ABSOLUTE = "nwbconvert.external_file_absolute"
LAYOUT = "nwbconvert.external_file_layout"


def external_file_findings(
    path: Path, report_as: Path | None = None, dandi_layout: bool = False, walk: FileWalk | None = None
) -> list[Finding]:
    """The findings for the external files of the file at `path` (resolved beside it; named `report_as`), taken
    from `walk` when the file's structure was walked already (walk.py)."""
    name = str(report_as or path)
    folder = Path(path).absolute().parent
    stem = Path((report_as or path).name).stem
    findings: list[Finding] = []
    found = _external_files(path) if walk is None else ((at, _strings(v)) for at, v in walk.external_files)
    for location, files in found:
        for entry in files:
            findings += _check(name, location, entry, folder, stem if dandi_layout else None)
    return findings


def _check(name: str, location: str, entry: str, folder: Path, layout_stem: str | None) -> list[Finding]:
    if "://" in entry:
        return []
    if PurePosixPath(entry).is_absolute() or Path(entry).is_absolute():
        return [
            Finding(
                name,
                Severity.ERROR,
                ABSOLUTE,
                ValidationLayer.FILE,
                location,
                f"external_file names {entry} by an absolute path: on DANDI, or on another computer, it names "
                "nothing" + ("" if Path(entry).exists() else " (and it is not there on this one either)") + ".",
                "Convert again (nwbconvert writes the path relative to the NWB file), or keep the video beside the "
                "NWB file and write its path relative to the file's folder.",
            )
        ]
    findings = []
    if not (folder / entry).is_file():
        findings.append(
            Finding(
                name,
                Severity.ERROR,
                MISSING,
                ValidationLayer.FILE,
                location,
                f"external_file {entry} is not there: relative to the NWB file's folder it names "
                f"{os.path.normpath(folder / entry)}, which does not exist.",
                "Copy the video to that path beside the NWB file (or convert again from where the video is).",
            )
        )
    if layout_stem is not None and PurePosixPath(entry).parts[:1] != (layout_stem,):
        findings.append(
            Finding(
                name,
                Severity.WARNING,
                LAYOUT,
                ValidationLayer.DANDI,
                location,
                f"external_file {entry} is not in the folder {layout_stem}/ beside the NWB file, where "
                "`dandi organize` places videos.",
                "Convert with --dandi-layout, which places the videos there, or run `dandi organize "
                "--update-external-file-paths`.",
            )
        )
    return findings


def _external_files(path: Path) -> Iterator[tuple[str, list[str]]]:
    """(group path, external_file entries) of every group holding an `external_file` dataset."""
    if Path(path).is_dir():
        import zarr

        yield from _walk(zarr.open_group(str(path), mode="r"), "")
        return
    import h5py

    found: list[tuple[str, list[str]]] = []

    def visit(name: str, obj: Any) -> None:
        if isinstance(obj, h5py.Group) and "external_file" in obj and isinstance(obj["external_file"], h5py.Dataset):
            found.append(("/" + name, _strings(obj["external_file"][()])))

    with h5py.File(path, "r") as h5:
        h5.visititems(visit)
    yield from found


def _walk(group: Any, prefix: str) -> Iterator[tuple[str, list[str]]]:
    for key, child in group.groups():
        location = f"{prefix}/{key}"
        if "external_file" in child and not hasattr(child["external_file"], "groups"):
            yield location, _strings(child["external_file"][()])
        yield from _walk(child, location)


def _strings(values: Any) -> list[str]:
    items = values.tolist() if hasattr(values, "tolist") else list(values)
    if not isinstance(items, list):
        items = [items]
    return [v.decode() if isinstance(v, bytes) else str(v) for v in items]
