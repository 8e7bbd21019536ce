"""Reading NWB files back for assertions (pynwb for structure, h5py for stored attributes)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import h5py
import numpy as np


def provenance(path: Path) -> dict[str, Any]:
    with h5py.File(path, "r") as f:
        raw = f["general/source_script"][()]
    return json.loads(raw.decode() if isinstance(raw, bytes) else raw)


SERIES_GROUPS = ("acquisition", "processing/ecephys/LFP")


def series_arrays(path: Path, name: str) -> dict[str, Any]:
    """Raw data and the scaling/timing attributes of a series in acquisition (or LFP), exactly as stored."""
    with h5py.File(path, "r") as f:
        g = next(f[f"{group}/{name}"] for group in SERIES_GROUPS if f"{group}/{name}" in f)
        d = g["data"]
        out: dict[str, Any] = {
            "neurodata_type": g.attrs["neurodata_type"].decode()
            if isinstance(g.attrs["neurodata_type"], bytes)
            else g.attrs["neurodata_type"],
            "data": d[()],
            "conversion": float(d.attrs["conversion"]),
            "offset": float(d.attrs.get("offset", 0.0)),
            "unit": d.attrs["unit"].decode() if isinstance(d.attrs["unit"], bytes) else d.attrs["unit"],
            "compression": d.compression,
            "chunks": d.chunks,
        }
        out["channel_conversion"] = g["channel_conversion"][()] if "channel_conversion" in g else None
        if "starting_time" in g:
            out["rate"] = float(g["starting_time"].attrs["rate"])
            out["starting_time"] = float(g["starting_time"][()])
            out["timestamps"] = None
        else:
            out["timestamps"] = g["timestamps"][()]
            out["rate"] = None
        if "electrodes" in g:
            names = f["general/extracellular_ephys/electrodes/channel_name"][()]
            out["channel_names"] = [names[i].decode() for i in g["electrodes"][()]]
    return out


def scaled(series: dict[str, Any]) -> np.ndarray:
    """Values in the series' unit as pynwb defines them: data * conversion (* channel_conversion) + offset."""
    factor = series["conversion"]
    if series["channel_conversion"] is not None:
        factor = factor * series["channel_conversion"][None, :]
    return series["data"].astype("float64") * factor + series["offset"]


def assert_valid(path: Path) -> None:
    """pynwb schema validation finds nothing and NWB Inspector (DANDI config) finds nothing CRITICAL."""
    from nwbinspector import Importance, inspect_nwbfile, load_config
    from pynwb.validation import validate

    assert validate(path=str(path)) == []
    messages = inspect_nwbfile(nwbfile_path=path, config=load_config("dandi"))
    critical = [m for m in messages if m is not None and m.importance == Importance.CRITICAL]
    assert critical == []


class Case(Protocol):
    id: str

    def path(self) -> Path: ...


def converted_once(tmp_path_factory: Any) -> Callable[[Any], Path]:
    """A converter that writes each case once (format detected, complete metadata) and returns the NWB path."""
    from conftest import COMPLETE_METADATA
    from nwbconvert.pipeline import ConvertOptions, convert

    cache: dict[str, Path] = {}

    def get(case: Case) -> Path:
        if case.id not in cache:
            out = tmp_path_factory.mktemp(case.id) / f"{case.id}.nwb"
            convert(case.path(), out, ConvertOptions(set_values=COMPLETE_METADATA))
            cache[case.id] = out
        return cache[case.id]

    return get


def plan_of(source: Path, streams: tuple[str, ...] = ()) -> Any:
    """What `nwbconvert convert SOURCE --dry-run` plans for `source` (complete metadata, UTC)."""
    from conftest import COMPLETE_METADATA
    from nwbconvert.pipeline import ConvertOptions, convert

    options = ConvertOptions(streams=streams, set_values=COMPLETE_METADATA, timezone="UTC", dry_run=True)
    return convert(source, source.parent / "never-written.nwb", options).plan


def group_members(pgid: int) -> list[int]:
    """The processes still alive in process group `pgid` (from /proc; zombies are gone once reaped)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                found.append(int(entry.name))
    return found
