"""Spikes that neo does not read (or reads wrong) in Open Ephys recordings, read in the vendor layouts.

Binary format: each electrode's spikes/<electrode>/ folder (timestamps.npy, waveforms.npy, clusters.npy) as
structure.oebin lists it. Legacy format: the .spikes files (a text header, then fixed-size records).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from nwbconvert.model import Channel, Recording, Sorting, SourceNote, Unit
from nwbconvert.readers.base import ReadOptions, head, shortfall, walk_files


def _structures(root: Path) -> list[tuple[Path, dict[str, Any]]]:
    """Each recording folder's structure.oebin, parsed, in experiment and recording order."""
    found = [p for p in walk_files(root, max_depth=6) if p.name == "structure.oebin"]
    numbers = [tuple(int(n) for n in re.findall(r"(\d+)", str(p.relative_to(root)))) for p in found]
    ordered = [p for _, p in sorted(zip(numbers, found))]
    return [(p.parent, json.loads(p.read_text(errors="replace"))) for p in ordered]


def binary_sorting(root: Path, recordings: list[Recording]) -> Sorting | None:
    """The spike detector's output (spikes/<electrode>/: timestamps, waveforms, clusters), which neo does not
    read: one unit per electrode and cluster, named as neo's legacy reader names them ('Stereotrode 1#0')."""
    times: dict[str, list[np.ndarray]] = {}
    moments: dict[str, _Moments] = {}
    meta: dict[str, dict[str, Any]] = {}
    for folder, structure in _structures(root):
        for electrode in structure.get("spikes", []):
            spikes = folder / "spikes" / str(electrode.get("folder", ""))
            stamps, wave = np.load(spikes / "timestamps.npy"), np.load(spikes / "waveforms.npy", mmap_mode="r")
            clusters = np.load(spikes / "clusters.npy") if (spikes / "clusters.npy").exists() else np.zeros(len(stamps))
            for cluster in np.unique(clusters):
                name, index = f"{electrode['name']}#{int(cluster)}", np.flatnonzero(clusters == cluster)
                times.setdefault(name, []).append(np.asarray(stamps, dtype="float64")[index])
                for part in _chunks(index):
                    moments.setdefault(name, _Moments()).add(_volts(np.asarray(wave[part]), electrode))
                meta[name] = electrode
    if not times:
        return None
    linker = _SpikeLinker(recordings)
    units = []
    for name, parts in times.items():
        sources = [str(c.get("name", "")) for c in meta[name].get("source_channels", [])]
        mean, sd = moments[name].mean_sd() if name in moments else (None, None)
        units.append(
            Unit(
                name=name,
                spike_times_s=np.sort(np.concatenate(parts), kind="stable"),
                channel_ids=linker.link(sources),
                properties={"electrode": str(meta[name]["name"]), "source_channels": ", ".join(sources)},
                waveform_mean_v=mean,
                waveform_sd_v=sd,
            )
        )
    rates = {float(e.get("sample_rate", 0)) for e in meta.values()}
    rate = rates.pop() if len(rates) == 1 else None
    sorting = Sorting(
        name="openephys-spikes",
        source=str(root),
        units=tuple(units),
        recording=linker.recording,
        waveform_rate_hz=rate,
        time_resolution_s=1.0 / rate if rate else None,
        description="Spikes detected online by the Open Ephys Spike Detector (spikes/ folders), one unit per "
        "electrode and cluster.",
    )
    return sorting if linker.recording is not None else _with_electrodes(sorting, list(meta.values()))


def _with_electrodes(sorting: Sorting, electrodes: list[dict[str, Any]]) -> Sorting:
    """Without a recorded series to link to, the units carry their electrodes' source channels (one electrode
    group per stereotrode or tetrode, as structure.oebin lists them)."""
    channels: dict[str, Channel] = {}
    for electrode in electrodes:
        for source in electrode.get("source_channels", []):
            name = str(source.get("name", ""))
            gain = float(source.get("bit_volts", 1.0))
            channels.setdefault(name, Channel(name, name, gain, group=str(electrode.get("name", "spikes"))))
    units = tuple(
        replace(u, channel_ids=tuple(n for n in str(u.properties["source_channels"]).split(", ") if n in channels))
        for u in sorting.units
    )
    return replace(sorting, units=units, channels=tuple(channels.values()))


CHUNK_SPIKES = 20_000  # waveforms read at a time: a tetrode's 40 samples are 26 MB as float64


class _Moments:
    """Running sums of waveforms (spikes, channels, samples) in volts, read in bounded chunks: mean and SD."""

    def __init__(self) -> None:
        self.n = 0
        self.total: np.ndarray | float = 0.0
        self.squares: np.ndarray | float = 0.0

    def add(self, volts: np.ndarray) -> None:
        self.n += len(volts)
        self.total = self.total + volts.sum(axis=0)
        self.squares = self.squares + (volts**2).sum(axis=0)

    def mean_sd(self) -> tuple[np.ndarray | None, np.ndarray | None]:
        """(samples, channels) each, as NWB stores waveforms; None without spikes."""
        if self.n == 0:
            return None, None
        mean = np.asarray(self.total) / self.n
        return mean.T, np.sqrt(np.maximum(np.asarray(self.squares) / self.n - mean**2, 0.0)).T


def _chunks(index: np.ndarray) -> Iterator[np.ndarray]:
    for start in range(0, len(index), CHUNK_SPIKES):
        yield index[start : start + CHUNK_SPIKES]


def _volts(raw: np.ndarray, electrode: dict[str, Any]) -> np.ndarray:
    """Raw waveforms (spikes, channels, samples) in volts: each source channel's bit_volts are microvolts."""
    gains = [float(c.get("bit_volts", 1.0)) for c in electrode.get("source_channels", [])]
    if len(gains) != raw.shape[1]:
        gains = [gains[0] if gains else 1.0] * raw.shape[1]
    return raw.astype("float64") * np.asarray(gains)[None, :, None] * 1e-6


class _SpikeLinker:
    """The channels of the one electrical recording whose channel names are an electrode's source channels."""

    def __init__(self, recordings: list[Recording]) -> None:
        self.electrical = [r for r in recordings if r.is_electrical]
        self.recording: str | None = None

    def link(self, names: list[str]) -> tuple[str, ...]:
        for rec in self.electrical:
            by_name = {ch.name: ch.id for ch in rec.channels}
            if self.recording in (None, rec.name) and names and all(n in by_name for n in names):
                self.recording = rec.name
                return tuple(by_name[n] for n in names)
        return ()


def legacy_sorting(folder: Path, reader: str) -> Sorting | None:
    """The units of a legacy folder's .spikes files (see _legacy_spikes), or None when it holds none."""
    units = [u for f in sorted(folder.glob("*.spikes"), key=_legacy_spike_order) for u in _legacy_spikes(f)]
    merged: dict[str, list[Unit]] = {}
    for unit in units:  # a unit's spikes in each segment's file (name_2.spikes, ...) are one unit
        merged.setdefault(unit.name, []).append(unit)
    if not merged:
        return None
    rates = {_legacy_header(f).get("sampleRate", "") for f in folder.glob("*.spikes")}
    text = rates.pop() if len(rates) == 1 else ""
    rate = float(text) if text.replace(".", "", 1).isdigit() and float(text) > 0 else None
    return Sorting(
        name=reader,
        source=str(folder),
        units=tuple(_merged(parts) for parts in merged.values()),
        waveform_rate_hz=rate,
        time_resolution_s=1.0 / rate if rate else None,
        description="Spikes of the Open Ephys legacy .spikes files (one unit per electrode file and sorted id), "
        "read in the vendor layout.",
    )


def _legacy_spike_order(path: Path) -> tuple[int, str]:
    """Segment (the '_2' of 'STp106.0n0_2.spikes' is the second), then electrode name."""
    found = re.search(r"_(\d+)$", path.stem)
    return (int(found.group(1)) if found else 1, re.sub(r"_\d+$", "", path.stem))


def _legacy_header(path: Path) -> dict[str, str]:
    """The text header (1024 bytes of `header.key = value;`) of a legacy Open Ephys file."""
    pairs = (item.partition("=") for item in head(path, 1024).decode("latin-1").split(";"))
    return {k.strip().removeprefix("header."): v.strip().strip("'\"") for k, eq, v in pairs if eq}


def _legacy_spikes(path: Path) -> list[Unit]:
    """The records of one .spikes file: eventType, timestamp, software timestamp, source id, channels N,
    samples M, sorted id, electrode id, channel, color, 2 PCA floats, rate, N*M uint16 samples (offset 32768),
    N float32 gains, N uint16 thresholds, recording number. Times are timestamp / rate (the .continuous clock)."""
    header = _legacy_header(path)
    record = _record(np.fromfile(path, dtype="u1", count=23, offset=1024))
    whole = (path.stat().st_size - 1024) // record.itemsize if record is not None else 0
    if record is None or whole == 0:
        return []  # an electrode that detected no spike: a header alone
    records = np.memmap(path, dtype=record, mode="r", offset=1024, shape=(whole,))
    rate = float(header.get("sampleRate") or records["rate"][0] or 1.0)
    name = re.sub(r"_\d+$", "", path.stem)
    units = []
    for sorted_id in np.unique(records["sorted_id"]):
        index = np.flatnonzero(records["sorted_id"] == sorted_id)
        moments = _Moments()
        for part in _chunks(index):
            chunk = records[part]
            microvolts = (chunk["samples"].astype("float64") - 32768.0) * (1000.0 / chunk["gains"][:, :, None])
            moments.add(microvolts * 1e-6)  # (spikes, channels, samples)
        mean, sd = moments.mean_sd()
        units.append(
            Unit(
                name=f"{name}#{int(sorted_id)}",
                spike_times_s=records["timestamp"][index].astype("float64") / rate,
                properties={
                    "electrode": header.get("electrode", name),
                    "electrode_id": int(records["electrode"][index[0]]),
                },
                waveform_mean_v=mean,
                waveform_sd_v=sd,
            )
        )
    return units


def _record(raw: np.ndarray) -> np.dtype | None:
    """The record layout of a .spikes file's data (channels N and samples M from its first record)."""
    if len(raw) < 23:
        return None
    n, m = (int(v) for v in raw[19:23].view("<u2"))
    return np.dtype(
        [
            *[("type", "u1"), ("timestamp", "<i8"), ("software", "<i8"), ("source", "<u2"), ("n", "<u2")],
            *[("m", "<u2"), ("sorted_id", "<u2"), ("electrode", "<u2"), ("channel", "<u2"), ("color", "u1", 3)],
            *[("pca", "<f4", 2), ("rate", "<u2"), ("samples", "<u2", (n, m)), ("gains", "<f4", n)],
            *[("thresholds", "<u2", n), ("recording", "<u2")],
        ]
    )


def cut_spike_files(folder: Path, options: ReadOptions) -> list[SourceNote]:
    """A .spikes file ending inside a record (a copy cut short): exit 3, or with --allow-incomplete a note (its
    whole records are converted)."""
    notes = []
    for path in sorted(folder.glob("*.spikes")):
        data = max(path.stat().st_size - 1024, 0)
        record = _record(np.fromfile(path, dtype="u1", count=23, offset=1024) if data else np.zeros(0, "u1"))
        if record is not None and data % record.itemsize:
            whole = data // record.itemsize
            expected = f"{whole + 1} whole spike records of {record.itemsize} bytes"
            found = f"{whole} and {data % record.itemsize} bytes of the next"
            notes.append(shortfall(path, "the spike records", expected, found, options))
    return notes


def _merged(parts: list[Unit]) -> Unit:
    """One unit from its parts in several segments' files (times in order, waveform statistics pooled by count)."""
    if len(parts) == 1:
        return parts[0]
    counts = np.array([len(u.spike_times_s) for u in parts], dtype="float64")[:, None, None]
    means = np.stack([np.asarray(u.waveform_mean_v, dtype="float64") for u in parts])
    sds = np.stack([np.asarray(u.waveform_sd_v, dtype="float64") for u in parts])
    mean = (means * counts).sum(axis=0) / counts.sum()
    sd = np.sqrt(((sds**2 + means**2) * counts).sum(axis=0) / counts.sum() - mean**2)
    times = np.sort(np.concatenate([u.spike_times_s for u in parts]))
    return replace(parts[0], spike_times_s=times, waveform_mean_v=mean, waveform_sd_v=np.nan_to_num(sd))
