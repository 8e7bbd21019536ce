"""A readable summary of an NWB file (what `nwbconvert info` shows)."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nwbconvert.errors import SourceError
from nwbconvert.output import is_zarr_store, size_bytes
from nwbconvert.readers.plain import explain
from nwbconvert.summary_behavior import BehaviorSummary, load_pose_classes, summarise_behavior

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


@dataclass(frozen=True)
class SeriesSummary:
    path: str
    neurodata_type: str
    shape: tuple[int, ...]
    dtype: str
    unit: str
    rate_hz: float | None
    starting_time_s: float | None
    duration_s: float | None
    compression: str
    chunks: tuple[int, ...] | None


@dataclass(frozen=True)
class GroupSummary:
    name: str
    device: str
    location: str
    n_electrodes: int


@dataclass(frozen=True)
class TableSummary:
    name: str
    neurodata_type: str
    n_rows: int


@dataclass(frozen=True)
class PlaneSummary:
    name: str
    indicator: str
    location: str
    excitation_lambda_nm: float | None
    device: str
    channels: list[str]


@dataclass(frozen=True)
class SegmentationSummary:
    name: str  # processing/ophys/ImageSegmentation/<name>
    imaging_plane: str
    n_rois: int
    columns: list[str]


@dataclass(frozen=True)
class FileSummary:
    path: str
    size_bytes: int
    nwb_version: str
    identifier: str
    session_description: str
    session_start_time: str
    session_id: str | None
    experimenter: list[str]
    lab: str | None
    institution: str | None
    subject: dict[str, str | None]
    devices: list[dict[str, str | None]]
    electrode_groups: list[GroupSummary]
    n_electrodes: int
    series: list[SeriesSummary]
    n_units: int | None
    tables: list[TableSummary]
    provenance: dict[str, Any] | None
    imaging_planes: list[PlaneSummary]
    segmentations: list[SegmentationSummary]
    behavior: BehaviorSummary | None = None  # pose, videos, interval tables, behavioral series (summary_behavior.py)


def summarise(path: Path) -> FileSummary:
    """The summary of an NWB file (HDF5) or NWB Zarr store (a `.nwb.zarr` folder)."""
    store = is_zarr_store(path)
    if path.is_dir() and not store:
        raise SourceError(f"{path}: is a folder but not an NWB Zarr store. Give an .nwb file or a .nwb.zarr store.")
    if not store and not path.is_file():
        raise SourceError(f"{path}: no such file. Give the path of an .nwb file.")
    if not store:
        with path.open("rb") as f:
            if f.read(8) != HDF5_MAGIC:
                raise SourceError(
                    f"{path}: is not an NWB file (it is not HDF5). Convert a recording with `nwbconvert convert`."
                )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with _open(path, store) as io:
                return _summarise(path, io.read())
    except SourceError:
        raise
    except Exception as exc:
        raise SourceError(
            f"{path}: could not be read as NWB ({explain(exc, path)}). The file may be damaged or "
            "truncated; `nwbconvert validate` tells more."
        ) from exc


@contextmanager
def _open(path: Path, store: bool) -> Iterator[Any]:
    load_pose_classes()
    if store:
        from nwbconvert.validate.zarr_store import open_io

        with open_io(path) as io:
            yield io
        return
    from pynwb import NWBHDF5IO

    with NWBHDF5IO(str(path), mode="r", load_namespaces=True) as io:
        yield io


def _summarise(path: Path, nwb: Any) -> FileSummary:
    subject = nwb.subject
    fields = ("subject_id", "species", "sex", "age", "date_of_birth", "weight", "description")
    electrodes = nwb.electrodes
    groups = []
    if electrodes is not None and len(electrodes) > 0:
        names = list(electrodes["group_name"][:])
        for name, group in nwb.electrode_groups.items():
            groups.append(GroupSummary(name, group.device.name, group.location, names.count(name)))
    series = [_series(obj) for obj in nwb.objects.values() if _is_series(obj)]
    found = {**(nwb.intervals or {}), **(getattr(nwb, "events", None) or {})}
    tables = [TableSummary(name, type(t).__name__, len(t)) for name, t in found.items()]
    provenance = None
    if nwb.source_script and nwb.source_script_file_name == "nwbconvert":
        try:
            provenance = json.loads(nwb.source_script)
        except ValueError:
            provenance = None
    return FileSummary(
        path=str(path),
        size_bytes=size_bytes(path),
        nwb_version=str((nwb.container_source and getattr(nwb, "nwb_version", "")) or ""),
        identifier=nwb.identifier,
        session_description=nwb.session_description,
        session_start_time=nwb.session_start_time.isoformat(),
        session_id=nwb.session_id,
        experimenter=list(nwb.experimenter or []),
        lab=nwb.lab,
        institution=nwb.institution,
        subject={f: _text(getattr(subject, f, None)) for f in fields} if subject is not None else {},
        devices=[
            {"name": d.name, "description": d.description, "manufacturer": getattr(d, "manufacturer", None)}
            for d in nwb.devices.values()
        ],
        electrode_groups=groups,
        n_electrodes=len(electrodes) if electrodes is not None else 0,
        series=sorted(series, key=lambda s: s.path),
        n_units=len(nwb.units) if nwb.units is not None else None,
        tables=tables,
        provenance=provenance,
        imaging_planes=[_plane(p) for p in nwb.imaging_planes.values()],
        segmentations=[_segmentation(t) for t in nwb.objects.values() if type(t).__name__ == "PlaneSegmentation"],
        behavior=summarise_behavior(nwb),
    )


def _plane(plane: Any) -> PlaneSummary:
    excitation = float(plane.excitation_lambda)
    return PlaneSummary(
        name=plane.name,
        indicator=plane.indicator,
        location=plane.location,
        excitation_lambda_nm=excitation if excitation == excitation else None,  # NaN: set "unknown"
        device=plane.device.name,
        channels=[c.name for c in plane.optical_channel],
    )


def _segmentation(table: Any) -> SegmentationSummary:
    columns = [c for c in table.colnames if c not in ("pixel_mask", "image_mask", "voxel_mask")]
    return SegmentationSummary(table.name, table.imaging_plane.name, len(table), columns)


def _is_series(obj: Any) -> bool:
    from pynwb import TimeSeries

    return isinstance(obj, TimeSeries)


def _series(ts: Any) -> SeriesSummary:
    data = ts.data
    shape = tuple(int(n) for n in data.shape)
    compression = _zarr_compression(data) if hasattr(data, "compressor") else _hdf5_compression(data)
    rate = float(ts.rate) if ts.rate is not None else None
    if rate:
        duration = shape[0] / rate
    elif ts.timestamps is not None and len(ts.timestamps) > 0:
        duration = float(ts.timestamps[-1] - ts.timestamps[0])
    else:
        duration = None
    path = ts.parent.name + "/" + ts.name if ts.parent is not None and ts.parent.name != "root" else ts.name
    location = "acquisition/" if ts.name in ts.get_ancestor("NWBFile").acquisition else ""
    return SeriesSummary(
        path=(location + ts.name) if location else path,
        neurodata_type=type(ts).__name__,
        shape=shape,
        dtype=str(data.dtype),
        unit=ts.unit,
        rate_hz=rate,
        starting_time_s=float(ts.starting_time)
        if ts.starting_time is not None
        else (float(ts.timestamps[0]) if ts.timestamps is not None and len(ts.timestamps) else None),
        duration_s=duration,
        compression=compression,
        chunks=tuple(data.chunks) if getattr(data, "chunks", None) else None,
    )


def _hdf5_compression(data: Any) -> str:
    """'gzip 4 +shuffle', 'lzf', 'none', ... from an h5py dataset."""
    text = str(getattr(data, "compression", None) or "none")
    level = getattr(data, "compression_opts", None)
    if level is not None and text != "none":
        text += f" {level}"
    return text + (" +shuffle" if getattr(data, "shuffle", False) else "")


def _zarr_compression(data: Any) -> str:
    """The same words for a Zarr array: its compressor (numcodecs) and a Shuffle filter."""
    config = data.compressor.get_config() if data.compressor is not None else {"id": "none"}
    if config["id"] == "blosc":
        text = f"blosc-{config['cname']} {config['clevel']}"
    else:
        text = config["id"] + (f" {config['level']}" if config.get("level") is not None else "")
    shuffled = any(f.codec_id == "shuffle" for f in data.filters or [])
    return text + (" +shuffle" if shuffled else "")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
