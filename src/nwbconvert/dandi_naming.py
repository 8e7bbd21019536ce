"""The DANDI modality suffix of a file's name (`_ecephys`, `_icephys`, `_ophys`, `_behavior+ecephys`), as
dandi-cli's `organize` computes it from the file's content; `batch`, `validate` and `--dandi-layout` use it.

dandi-cli's rule (`dandi.organize._populate_modalities`): every neurodata type of the file's groups is mapped to
the pynwb module that defines it (`dandi.pynwb_utils.get_neurodata_types_to_modalities_map`: ElectricalSeries ->
ecephys, VoltageClampSeries -> icephys, ImagingPlane -> ophys, SpatialSeries -> behavior, ImageSeries -> image,
OptogeneticSeries -> ogen); the modules base, device, file and misc are left out, and so are types pynwb does not
define (extensions such as ndx-pose's PoseEstimation, hdmf tables); the rest, sorted, joined with '+'. A file with
none is named without a suffix (`sub-m1_ses-1.nwb`), as organize names it.

A batch names its file before writing it, so `plan_types` lists the types the plan will write (the writer's
choice of type for each planned series, plane, video, signal and sorting); `file_types` reads them from a file.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nwbconvert.plan import Plan

LEFT_OUT = frozenset({"base", "device", "file", "misc"})  # organize's "trivial/generic" modules


@lru_cache(maxsize=1)
def modality_table() -> dict[str, str]:
    """dandi-cli's neurodata type -> modality table (it prints a line for each class it skips: held back)."""
    from dandi.pynwb_utils import get_neurodata_types_to_modalities_map

    with contextlib.redirect_stdout(io.StringIO()):
        return get_neurodata_types_to_modalities_map()


def modality(types: Iterable[str]) -> str:
    """'behavior+ecephys' for the neurodata types `types` (names, e.g. 'ElectricalSeries'); '' when none counts."""
    table = modality_table()
    found = {table[t] for t in types if t in table} - LEFT_OUT
    return "+".join(sorted(found))


def file_name(key: str, modality_: str, suffix: str = ".nwb") -> str:
    """'sub-m1_ses-1' + 'icephys' -> 'sub-m1_ses-1_icephys.nwb'; without a modality 'sub-m1_ses-1.nwb'."""
    return f"{key}_{modality_}{suffix}" if modality_ else f"{key}{suffix}"


def file_types(path: Path) -> set[str]:
    """The neurodata types of the groups of an HDF5 NWB file or an NWB Zarr store (links count once)."""
    if path.is_dir():
        return _store_types(path)
    import h5py

    groups = [b"."]

    def visit(name: bytes, info: object) -> None:  # HDF5's own walk: each object once, nothing opened
        if info.type == h5py.h5o.TYPE_GROUP:  # type: ignore[attr-defined]
            groups.append(name)

    found: set[str] = set()
    with h5py.File(path, "r") as h5:
        h5py.h5o.visit(h5.id, visit, info=True)
        for name in groups:
            group = h5py.h5o.open(h5.id, name)
            if h5py.h5a.exists(group, b"neurodata_type"):  # the attribute read only where there is one
                value = h5py.Group(group).attrs["neurodata_type"]
                found.add(value.decode() if isinstance(value, bytes) else str(value))
    return found


def file_modality(path: Path) -> str:
    return modality(file_types(path))


def _store_types(root: Path) -> set[str]:
    found: set[str] = set()
    for folder, _, names in os.walk(root):
        if ".zgroup" in names and ".zattrs" in names:
            with contextlib.suppress(OSError, ValueError):
                value = json.loads((Path(folder) / ".zattrs").read_text()).get("neurodata_type")
                if isinstance(value, str):
                    found.add(value)
    return found


def plan_types(plan: Plan) -> set[str]:
    """The neurodata types the writer writes for `plan` that can name a modality."""
    from nwbconvert.behavior import SignalRole

    types = {s.neurodata_type.value for s in plan.series}
    if any(s.neurodata_type.is_clamp for s in plan.series):
        types.add("IntracellularElectrode")
    if plan.sortings:
        types.add("ElectrodeGroup")  # units are written on electrodes, of their probe when there is no recording
    imaging = plan.imaging
    if imaging.planes:
        types.add("ImagingPlane")
    types.update(m.series_type for m in imaging.movies)
    if imaging.segmentations:
        types.add("PlaneSegmentation")
    behavior = plan.behavior
    if behavior.videos:
        types.add("ImageSeries")
    containers = {SignalRole.POSITION: "Position", SignalRole.TIMESERIES: "BehavioralTimeSeries"}
    containers[SignalRole.EVENTS] = "BehavioralEvents"
    types.update(containers[s.role] for s in behavior.signals)
    return types


def plan_modality(plan: Plan) -> str:
    return modality(plan_types(plan))
