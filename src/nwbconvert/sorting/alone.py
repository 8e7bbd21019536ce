"""A Phy / Kilosort output folder read without its recording: units on the sorter's own clock.

Spike frames index the samples of the data file the sorter ran on; without that file they become seconds from its
first sample with params.py's `sample_rate`. The electrodes come from the folder itself: `channel_map.npy` (the
data file's channel of each template channel), `channel_positions.npy` (µm) and `channel_groups.npy` (shanks), and
each unit is linked to its peak channel (phy's `ch` column, else the peak of its template) as with a recording.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from nwbconvert.errors import MissingDependency, SourceError
from nwbconvert.model import Channel, Sorting, Unit
from nwbconvert.sorting import _params, _peak_channels, _properties, formats

ALONE = ("kilosort", "phy")  # the formats whose folders say their own sampling rate (params.py)


def is_sorting_folder(path: Path) -> bool:
    """A folder holding phy's params.py and spike_times.npy."""
    return path.is_dir() and (path / "params.py").is_file() and (path / "spike_times.npy").is_file()


SORTER_FILES = frozenset({".npy", ".tsv", ".csv", ".py", ".pyc", ".mat", ".json", ".txt", ".log", ".yaml", ".yml"})


def recording_beside(path: Path) -> bool:
    """True when the folder holds more than a sorter's output: params.py's `dat_path` file (by its path, or by its
    name alone: Kilosort often writes the sorting machine's absolute path, 'D:\\run\\x.ap.bin'), or any file that
    is not one of a sorter's (a recording's .bin/.meta written beside its Kilosort output)."""
    dat = _params(path).get("dat_path", "").strip("[]'\" ")
    name = re.split(r"[\\/]", dat)[-1]
    if name and ((path / dat).is_file() or (path / name).is_file()):
        return True
    return any(p.is_file() and p.suffix.lower() not in SORTER_FILES for p in path.iterdir())


def read_alone(path: Path) -> Sorting:
    """The units of a Phy/Kilosort folder, in seconds from the sorted data file's first sample."""
    import importlib.util

    fmt = formats.detect(path)
    if fmt is None or fmt.name not in ALONE:
        raise SourceError(f"{path}: not a Phy or Kilosort output folder (params.py and spike_times.npy expected).")
    if importlib.util.find_spec("spikeinterface") is None:
        raise MissingDependency(f"Reading {path} as {fmt.description}", "spikeinterface")
    rate = sampling_rate(path)
    try:
        si_sorting = fmt.open(path, rate)
        channels = folder_channels(path, fmt.name)
        peaks = _peak_channels(path, si_sorting) if channels else {}
        units = tuple(_unit(si_sorting, uid, rate, peaks, {c.id for c in channels}) for uid in si_sorting.unit_ids)
    except Exception as exc:
        raise fmt.unreadable(path, exc) from exc
    return Sorting(
        name=fmt.name,
        source=str(path),
        units=units,
        time_resolution_s=1.0 / rate,
        description=f"{fmt.description} read by spikeinterface without its recording: spike times in seconds from "
        f"the first sample of the sorted data file (frames / {rate:g} Hz from params.py).",
        channels=channels,
    )


def sampling_rate(path: Path) -> float:
    """params.py's `sample_rate`, a positive number, or a plain error naming the file and the field."""
    text = _params(path).get("sample_rate")
    try:
        rate = float(text) if text is not None else float("nan")
    except ValueError:
        rate = float("nan")
    if not np.isfinite(rate) or rate <= 0:
        raise SourceError(
            f"{path / 'params.py'}: 'sample_rate' is {'missing' if text is None else repr(text)}; a positive number "
            "of samples per second is expected (e.g. sample_rate = 30000.0). Without it spike frames cannot be "
            "turned into times: add the line to params.py."
        )
    return rate


def folder_channels(path: Path, group_prefix: str) -> tuple[Channel, ...]:
    """The data file's channels the sorter used, from channel_map.npy / channel_positions.npy / channel_groups.npy."""
    channel_map, positions, groups = (_load(path, f"channel_{n}.npy") for n in ("map", "positions", "groups"))
    if channel_map is None and positions is None:
        return ()
    n = len(channel_map.ravel()) if channel_map is not None else len(positions)  # type: ignore[arg-type]
    ids = channel_map.ravel().astype(int) if channel_map is not None else np.arange(n)
    if positions is not None and (positions.ndim != 2 or len(positions) != n):
        positions = None
    shanks = groups.ravel() if groups is not None and len(groups.ravel()) == n else None
    several = shanks is not None and len(set(shanks.tolist())) > 1
    channels = []
    for i, channel in enumerate(ids.tolist()):
        position = (float(positions[i][0]), float(positions[i][1])) if positions is not None else None
        shank = str(shanks[i]) if shanks is not None else None
        group = f"{group_prefix}Shank{shank}" if several else group_prefix
        channels.append(Channel(str(channel), f"ch{channel}", 1.0, group=group, position_um=position, shank=shank))
    return tuple(channels)


def _unit(si_sorting: Any, unit_id: Any, rate: float, peaks: dict[Any, int], ids: set[str]) -> Unit:
    frames = np.concatenate(
        [si_sorting.get_unit_spike_train(unit_id, segment_index=s) for s in range(si_sorting.get_num_segments())]
    )
    peak = peaks.get(unit_id)
    return Unit(
        name=str(unit_id),
        spike_times_s=np.sort(frames).astype("float64") / rate,
        channel_ids=(str(peak),) if peak is not None and str(peak) in ids else (),
        properties=_properties(si_sorting, unit_id),
    )


def _load(folder: Path, name: str) -> np.ndarray | None:
    path = folder / name
    return np.load(path) if path.is_file() else None
