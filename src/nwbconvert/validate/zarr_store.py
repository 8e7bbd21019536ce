"""NWB Zarr stores (`.nwb.zarr` folders, written by hdmf-zarr): recognised, checked for completeness, opened.

A store is one "file" for validation. Its integrity check is the counterpart of HDF5's truncation check: every
array must have all its chunk files (zarr writes every chunk, so a missing one means an interrupted copy or
write; zarr itself would silently read the array's fill value in its place).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from nwbconvert.backends import store_suffix
from nwbconvert.readers.plain import explain
from nwbconvert.validate.dandi_ready import DandiHeader, read_header
from nwbconvert.validate.findings import Finding, ValidationLayer


def is_store(path: Path) -> bool:
    """A folder validated as one NWB file: named *.nwb.zarr, or holding a Zarr group."""
    return path.is_dir() and (store_suffix(path) is not None or (path / ".zgroup").is_file())


def store_problem(path: Path) -> Finding | None:
    """An error finding when the folder is not a Zarr store or some array lacks chunk files, else None."""

    def error(check: str, message: str, fix: str) -> Finding:
        return Finding.error(str(path), check, ValidationLayer.FILE, message, fix)

    if not (path / ".zgroup").is_file():
        return error(
            "file.not_zarr",
            "The folder is not a Zarr store (no .zgroup at its top), so it is not an NWB Zarr file.",
            "Check that this is the store you meant; NWB Zarr stores are written by hdmf-zarr or nwbconvert.",
        )
    missing: list[tuple[str, int, int]] = []
    try:
        for array_dir, expected in _arrays(path):
            found = _chunk_files(array_dir)
            if found < expected:
                missing.append((array_dir.relative_to(path).as_posix(), expected, found))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return error(
            "file.damaged",
            f"Zarr cannot read the store's structure ({explain(exc, path)}). The store is damaged.",
            "Copy or convert the store again.",
        )
    if missing:
        where = "; ".join(f"/{name}: {found} of {expected}" for name, expected, found in missing[:5])
        more = f" (and {len(missing) - 5} more arrays)" if len(missing) > 5 else ""
        return error(
            "file.truncated",
            f"The store is incomplete: {len(missing)} array(s) lack chunk files ({where}{more}).",
            "The copy or conversion was interrupted; copy or convert the store again.",
        )
    return None


def _arrays(path: Path) -> Iterator[tuple[Path, int]]:
    """Every array folder of the store and the number of chunks its metadata implies."""
    for folder, dirs, files in os.walk(path):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        if ".zarray" in files:
            meta = json.loads((Path(folder) / ".zarray").read_text())
            yield Path(folder), math.prod(-(-int(n) // int(c)) for n, c in zip(meta["shape"], meta["chunks"]))
            dirs[:] = [] if meta.get("dimension_separator", ".") == "." else dirs


def _chunk_files(array_dir: Path) -> int:
    return sum(1 for _, _, files in os.walk(array_dir) for f in files if not f.startswith("."))


def store_header(path: Path) -> DandiHeader:
    """The values DANDI interprets, read with zarr (consolidated metadata when present, as hdmf-zarr does)."""
    import zarr

    consolidated = (path / ".zmetadata").is_file()
    group = zarr.open_consolidated(str(path), mode="r") if consolidated else zarr.open_group(str(path), mode="r")
    return read_header(group)


@contextmanager
def open_io(path: Path) -> Iterator[Any]:
    """hdmf-zarr's NWBZarrIO on the store, read-only, with the namespaces cached in it."""
    from hdmf_zarr.nwb import NWBZarrIO

    io = NWBZarrIO(str(path), mode="r", load_namespaces=True)
    try:
        yield io
    finally:
        io.close()
