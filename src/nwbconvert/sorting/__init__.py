"""`--sorting [SERIES=]PATH`: sorter output read by spikeinterface, paired with one recorded series.

Spike frames index the samples of the data file the sorter ran on, so they are turned into seconds with the paired
recording's own sampling rate and segment start times (exact on the recording's clock, gaps included). The pairing:
an explicit `SERIES=PATH` (series name or stream id), else the only extracellular (non-LFP) series, else the one whose
rate and channel count fit the sorter's (phy's params.py), else the one whose stream name appears in the path.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from nwbconvert.errors import MissingDependency, SourceError, UsageError
from nwbconvert.model import Recording, Session, SignalKind, Sorting, Unit, UnitProperty
from nwbconvert.sorting import formats


def attach_sortings(session: Session, specs: tuple[Path, ...]) -> Session:
    """The session with one `Sorting` added per --sorting value."""
    added: list[Sorting] = []
    names = {s.name for s in session.sortings}
    for spec in specs:
        target, path = _parse(spec)
        fmt = formats.detect(path)
        if fmt is None:
            known = "; ".join(f"{f.name}: {f.description}" for f in formats.FORMATS)
            raise SourceError(
                f"{path}: not a spike-sorting output nwbconvert recognises. Point --sorting to the sorter's output "
                f"folder or file. Known formats: {known}."
            )
        recording = pair(session, path, target, _params(path))
        sorting = read_sorting(path, fmt, recording)
        name = sorting.name if sorting.name not in names else f"{sorting.name}-{recording.stream_id}"
        names.add(name)
        added.append(replace(sorting, name=name))
    return replace(session, sortings=session.sortings + tuple(added))


def _parse(spec: Path) -> tuple[str | None, Path]:
    text = str(spec)
    if spec.exists() or "=" not in text:
        if not spec.exists():
            raise UsageError(f"--sorting {spec}: no such file or folder.")
        return None, spec
    target, _, path = text.partition("=")
    if not Path(path).exists():
        raise UsageError(f"--sorting {spec}: {path} does not exist (syntax: --sorting [SERIES=]PATH).")
    return target, Path(path)


def _params(path: Path) -> dict[str, str]:
    """phy's params.py as text values (never executed)."""
    params = path / "params.py" if path.is_dir() else None
    out: dict[str, str] = {}
    if params is not None and params.exists():
        for line in params.read_text(errors="replace").splitlines():
            key, sep, value = line.partition("=")
            if sep:
                out[key.strip()] = value.strip().strip("r").strip("'\"")
    return out


def pair(session: Session, path: Path, target: str | None, params: dict[str, str]) -> Recording:
    """The recording whose samples the sorter's frames index (see the module docstring)."""
    extracellular = [r for r in session.recordings if r.is_electrical and r.kind is SignalKind.EXTRACELLULAR]
    if target is not None:
        chosen = [r for r in session.recordings if target in (r.name, r.stream_id)]
        if not chosen:
            raise UsageError(f"--sorting {target}={path}: no series or stream '{target}'. Series: {_names(session)}.")
        return chosen[0]
    if len(extracellular) == 1:
        return extracellular[0]
    candidates = extracellular
    rate = float(params.get("sample_rate", "nan"))
    if not np.isnan(rate):
        candidates = [r for r in candidates if abs(r.sampling_rate_hz - rate) <= 1e-3 * rate]
    if "n_channels_dat" in params and len(candidates) > 1:
        n = int(params["n_channels_dat"])
        candidates = [r for r in candidates if n in (len(r.channels), len(r.channels) + 1)]  # +1: a sync channel
    if len(candidates) > 1:
        in_path = [r for r in candidates if r.stream_id.split(".")[0].lower() in str(path).lower()]
        candidates = in_path if len(in_path) == 1 else candidates
    if len(candidates) == 1:
        return candidates[0]
    example = (candidates or extracellular or list(session.recordings))[0].name
    raise UsageError(
        f"--sorting {path}: cannot tell which recorded series it was sorted from "
        f"({'none fits' if not candidates else 'several fit'}: {_names(session)}). "
        f"Name it: --sorting SERIES={path}, e.g. --sorting {example}={path}."
    )


def _names(session: Session) -> str:
    return ", ".join(r.name for r in session.recordings if r.is_electrical) or "no extracellular series"


def read_sorting(path: Path, fmt: formats.SortingFormat, recording: Recording) -> Sorting:
    """Units of a sorter output, with spike times on `recording`'s clock and links to its channels."""
    import importlib.util

    for package in fmt.requires:
        if importlib.util.find_spec(package) is None:
            raise MissingDependency(f"Reading {path} as {fmt.description}", package)
    try:
        si_sorting = fmt.open(path, recording.sampling_rate_hz)
        peak_channels = _peak_channels(path, si_sorting)
        units = tuple(_unit(si_sorting, uid, recording, peak_channels) for uid in si_sorting.unit_ids)
    except (UsageError, SourceError):
        raise
    except Exception as exc:
        raise fmt.unreadable(path, exc) from exc
    return Sorting(
        name=fmt.name,
        source=str(path),
        units=units,
        recording=recording.name,
        time_resolution_s=1.0 / recording.sampling_rate_hz,
        description=f"{fmt.description} read by spikeinterface, paired with {recording.name}.",
    )


def _unit(si_sorting: Any, unit_id: Any, recording: Recording, peak_channels: dict[Any, int]) -> Unit:
    frames = np.concatenate(
        [si_sorting.get_unit_spike_train(unit_id, segment_index=s) for s in range(si_sorting.get_num_segments())]
    )
    properties = _properties(si_sorting, unit_id)
    index = peak_channels.get(unit_id)
    channel_ids = (recording.channels[index].id,) if index is not None and index < len(recording.channels) else ()
    return Unit(
        name=str(unit_id),
        spike_times_s=frames_to_seconds(np.sort(frames), recording),
        channel_ids=channel_ids,
        properties=properties,
    )


def frames_to_seconds(frames: np.ndarray, recording: Recording) -> np.ndarray:
    """Sample indices of the recording's concatenated segments -> seconds on the session clock."""
    starts = recording.sample_offsets[:-1]
    segment = np.clip(np.searchsorted(starts, frames, side="right") - 1, 0, len(starts) - 1)
    t_starts = np.array([s.t_start_s for s in recording.segments])
    return t_starts[segment] + (frames - starts[segment]) / recording.sampling_rate_hz


def _properties(si_sorting: Any, unit_id: Any) -> dict[str, UnitProperty]:
    out: dict[str, UnitProperty] = {}
    position = list(si_sorting.unit_ids).index(unit_id)
    for key in si_sorting.get_property_keys():
        value = si_sorting.get_property(key)[position]
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, float) and np.isnan(value):
            continue
        if isinstance(value, (str, int, float, bool)):
            out[key] = value
    return out


def _peak_channels(path: Path, si_sorting: Any) -> dict[Any, int]:
    """Unit -> index of its peak channel in the data file: phy's `ch` column, else the peak of its template."""
    channel_map = _load(path, "channel_map.npy")
    mapping = (lambda i: int(channel_map.ravel()[i])) if channel_map is not None else (lambda i: int(i))
    if "ch" in si_sorting.get_property_keys():
        return {u: mapping(int(c)) for u, c in zip(si_sorting.unit_ids, si_sorting.get_property("ch"))}
    templates, spike_templates = _load(path, "templates.npy"), _load(path, "spike_templates.npy")
    clusters = _load(path, "spike_clusters.npy")
    if templates is None or spike_templates is None:
        return {}
    clusters = spike_templates if clusters is None else clusters
    original = (
        si_sorting.get_property("original_cluster_id")
        if "original_cluster_id" in si_sorting.get_property_keys()
        else si_sorting.unit_ids
    )
    peaks: dict[Any, int] = {}
    for unit_id, cluster in zip(si_sorting.unit_ids, original):
        used = spike_templates.ravel()[clusters.ravel() == cluster]
        if len(used) == 0:
            continue
        template = templates[np.bincount(used).argmax()]
        peaks[unit_id] = mapping(int(np.ptp(template, axis=0).argmax()))
    return peaks


def _load(folder: Path, name: str) -> np.ndarray | None:
    path = folder / name
    return np.load(path) if folder.is_dir() and path.exists() else None
