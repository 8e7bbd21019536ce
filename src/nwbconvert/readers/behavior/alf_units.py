"""IBL spike sortings: `alf/<probe>/[<sorter>/]spikes.*`, `clusters.*`, `channels.*` -> one `Sorting` per folder.

Units are the clusters (rows of `clusters.*`, `spikes.clusters` indexing them; clusters without spikes are kept, as
IBL keeps them). Each cluster's per-row attributes and `clusters.metrics.pqt` columns become unit properties, and
`clusters.channels` its channel. Channels are the rows of `channels.*`: positions from `channels.localCoordinates`
(µm), the brain area from `channels.acronym` (or `brainLocationAcronyms_ccf_2017`), else the Allen CCF 2017
structure id of `channels.brainLocationIds_ccf_2017`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from nwbconvert.errors import SourceError
from nwbconvert.model import Channel, Sorting, SourceNote, Unit, UnitProperty
from nwbconvert.readers.behavior.alf_objects import (
    AlfObject,
    clock_notes,
    list_objects,
    missing,
    rows_differ,
    unused_note,
)

ACRONYMS = ("acronym", "brainLocationAcronyms_ccf_2017")
AREA_IDS = "brainLocationIds_ccf_2017"
CHANNEL_USED = ("localCoordinates", "rawInd", AREA_IDS, *ACRONYMS)


def sorting_folders(alf: Path) -> list[Path]:
    """The folders below `alf/` (two levels at most: probe00, probe00/pykilosort) holding spikes.times."""
    found = []
    for folder in sorted(p for p in [*alf.glob("*"), *alf.glob("*/*")] if p.is_dir()):
        if any(folder.glob("spikes.times*.npy")):
            found.append(folder)
    return found


def read_sorting(folder: Path, alf: Path) -> tuple[Sorting, list[SourceNote], list[Path]]:
    """One sorting folder -> its Sorting (named by its path under alf/: `probe00`, `probe00-pykilosort`)."""
    relative = folder.relative_to(alf).parts
    probe = relative[0]
    objects = list_objects(folder)
    spikes = objects.get("/spikes")
    clusters = objects.get("/clusters")
    if spikes is None or clusters is None:
        raise SourceError(
            f"{folder}: spikes.* and clusters.* files are expected together (an IBL spike sorting); "
            f"{'clusters' if spikes else 'spikes'}.* files are missing. Copy the sorting folder whole."
        )
    times, which = _spikes(spikes)
    properties, unit_channels, notes = _clusters(clusters)
    n_clusters = len(next(iter(properties.values()))) if properties else (int(which.max()) + 1 if which.size else 0)
    if which.size and int(which.max()) >= n_clusters:
        raise SourceError(
            f"{folder}: spikes.clusters names cluster {int(which.max())} but clusters.* have {n_clusters} rows. "
            "The copy may be incomplete or mixed from two sortings: copy the sorting folder again."
        )
    channels_obj = objects.get("/channels")
    channels, channel_notes = _channels(channels_obj, probe) if channels_obj else ((), [])
    ids = {c.id for c in channels}
    order = np.argsort(which, kind="stable")
    bounds = np.searchsorted(which[order], np.arange(n_clusters + 1))
    units = []
    for k in range(n_clusters):
        spike_times = np.sort(times[order[bounds[k] : bounds[k + 1]]])
        channel = str(int(unit_channels[k])) if unit_channels is not None else None
        props = {name: _scalar(values[k]) for name, values in properties.items()}
        units.append(Unit(str(k), spike_times, (channel,) if channel in ids else (), props))
    name = "-".join(relative)
    sorting = Sorting(
        name=name,
        source=str(folder),
        units=tuple(units),
        description=f"IBL spike sorting of {probe} ({folder.relative_to(alf.parent)}): spikes.times on the "
        "session's main clock, units are the rows of clusters.*.",
        channels=channels,
    )
    notes += channel_notes + _spike_notes(spikes)
    for other in (o for key, o in objects.items() if key not in ("/spikes", "/clusters", "/channels")):
        notes.append(unused_note(other, other.files, "only spikes, clusters and channels of a sorting are converted"))
    files = [f.path for o in objects.values() for f in o.files]
    return sorting, notes, files


def _spikes(spikes: AlfObject) -> tuple[np.ndarray, np.ndarray]:
    loaded = spikes.load(tuple(f for f in spikes.on_session_clock() if f.attribute in ("times", "clusters")))
    for attribute in ("times", "clusters"):
        if attribute not in loaded:
            raise missing(spikes, attribute, "the units' spike trains")
    times = np.asarray(loaded["times"], dtype="float64").ravel()
    which = np.asarray(loaded["clusters"]).ravel().astype("int64")
    if len(which) != len(times):
        raise rows_differ(spikes, "clusters", len(times), len(which), "spikes.times")
    return times, which


def _spike_notes(spikes: AlfObject) -> list[SourceNote]:
    rest = tuple(f for f in spikes.on_session_clock() if f.attribute not in ("times", "clusters"))
    notes = clock_notes(spikes)
    if rest:
        notes.append(unused_note(spikes, rest, "per-spike values other than times and clusters are not written"))
    return notes


def _clusters(clusters: AlfObject) -> tuple[dict[str, np.ndarray], np.ndarray | None, list[SourceNote]]:
    """Per-cluster columns (1-D attributes and the metrics table's columns), the channel of each cluster, notes."""
    loaded = clusters.load()
    columns: dict[str, np.ndarray] = {}
    metrics = loaded.pop("metrics", None)
    if metrics is not None and hasattr(metrics, "columns"):
        columns |= {str(c): metrics[c].to_numpy() for c in metrics.columns if c != "cluster_id"}
    unused = []
    for key, values in loaded.items():
        values = np.asarray(values)
        if values.ndim == 1 and values.dtype == object:  # clusters.uuids.csv: text
            values = values.astype(str)
        if values.ndim == 1:
            columns[key] = values
        else:
            unused.append(key)
    n = len(next(iter(columns.values()))) if columns else 0
    for key, values in columns.items():
        if len(values) != n:
            raise rows_differ(clusters, key, n, len(values), "the other clusters attributes")
    channels = columns.pop("channels", None)
    notes = clock_notes(clusters)
    files = tuple(f for f in clusters.on_session_clock() if f.key in unused)
    if files:
        notes.append(unused_note(clusters, files, "they hold several values per cluster (waveforms, ...)"))
    return columns, channels, notes


def _channels(obj: AlfObject, probe: str) -> tuple[tuple[Channel, ...], list[SourceNote]]:
    loaded = obj.load()
    coordinates = loaded.get("localCoordinates")
    raw = loaded.get("rawInd")
    acronyms = next((loaded[k] for k in ACRONYMS if k in loaded), None)
    area_ids = loaded.get(AREA_IDS)
    n = next((len(v) for v in loaded.values()), 0)
    for key, values in loaded.items():
        if len(values) != n:
            raise rows_differ(obj, key, n, len(values), "the other channels attributes")
    notes = clock_notes(obj)
    if acronyms is None and area_ids is not None:
        notes.append(
            SourceNote(
                "brain-area-ids",
                str(obj.folder),
                f"{obj.folder}: the channels' brain areas are Allen CCF 2017 structure ids only "
                f"(channels.{AREA_IDS}.npy, no channels.acronym.npy): the electrodes' location is written as that "
                "id; ONE's atlas (iblatlas) names them offline.",
            )
        )
    rest = tuple(f for f in obj.on_session_clock() if f.key not in CHANNEL_USED)
    if rest:
        notes.append(unused_note(obj, rest, "only positions, raw indices and brain areas of channels are written"))
    channels = []
    for i in range(n):
        contact = str(int(raw[i])) if raw is not None else str(i)
        location = _location(acronyms, area_ids, i)
        position = (float(coordinates[i][0]), float(coordinates[i][1])) if coordinates is not None else None
        channels.append(
            Channel(
                str(i), f"ch{contact}", 1.0, group=probe, position_um=position, contact_id=contact, location=location
            )
        )
    return tuple(channels), notes


def _location(acronyms: Any, area_ids: Any, i: int) -> str | None:
    if acronyms is not None:
        return str(acronyms[i])
    if area_ids is not None:
        return f"Allen CCF 2017 structure id {int(area_ids[i])}"
    return None


def _scalar(value: Any) -> UnitProperty:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)
