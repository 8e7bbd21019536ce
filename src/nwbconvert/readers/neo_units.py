"""Units stored inside source files (.nev, .plx, .nse/.ntt, Open Ephys .spikes, Spike2 wavemarks) -> a `Sorting`.

Spike times come from neo in seconds on the session clock. Each unit is linked to the recorded channel it was
detected on when the source says which one: neo's `channel_id` annotation (Blackrock) matched against channel ids,
or, for readers that ask for it (Plexon: SPK01 <-> FP01), the number in the spike channel's name matched against the
one electrical channel with that number in its name. Mean waveforms come from the stored spike waveforms, in volts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from nwbconvert.model import Recording, Sorting, Unit, UnitProperty
from nwbconvert.units import label, volt_factor

if TYPE_CHECKING:
    from neo.rawio.baserawio import BaseRawIO

SKIPPED_ANNOTATIONS = frozenset({"name", "id", "file_origin", "__array_annotations__"})


def sorting_from_rawio(
    rawio: BaseRawIO,
    reader: str,
    source: str,
    recordings: list[Recording],
    waveform_unit: Callable[[str], str],
    link_by_number: bool = False,
) -> Sorting | None:
    """The spike channels of a parsed rawio as one sorting (None when the source holds none)."""
    spike_channels = rawio.header["spike_channels"]
    if len(spike_channels) == 0:
        return None
    linker = _Linker(recordings, link_by_number)
    units: list[Unit] = []
    used: set[str] = set()
    for index, row in enumerate(spike_channels):
        annotations = _annotations(rawio, index)
        source_name, source_id = label(row["name"]), label(row["id"])
        name = source_name if source_name not in used else f"{source_name} ({source_id})"
        used.add(name)
        mean, sd = _waveforms(rawio, index, row, waveform_unit(label(row["wf_units"]).strip()))
        units.append(
            Unit(
                name=name,
                spike_times_s=_spike_times(rawio, index),
                channel_ids=linker.link(source_name, annotations.get("channel_id")),
                properties={"source_id": source_id, **annotations},
                waveform_mean_v=mean,
                waveform_sd_v=sd,
            )
        )
    rates = {float(r["wf_sampling_rate"]) for r in spike_channels if float(r["wf_sampling_rate"]) > 0}
    return Sorting(
        name=reader,
        source=source,
        units=tuple(units),
        recording=linker.recording,
        waveform_rate_hz=next(iter(rates)) if len(rates) == 1 else None,
        time_resolution_s=1.0 / max(rates) if rates else None,
        description=f"Units stored in the {reader} source files (spike channels as neo reads them).",
    )


def _spike_times(rawio: BaseRawIO, index: int) -> np.ndarray:
    parts = []
    for block in range(rawio.block_count()):
        for seg in range(rawio.segment_count(block)):
            ts = rawio.get_spike_timestamps(
                block_index=block, seg_index=seg, spike_channel_index=index, t_start=None, t_stop=None
            )
            parts.append(rawio.rescale_spike_timestamp(ts, dtype="float64"))
    return np.concatenate(parts) if parts else np.empty(0)


def _waveforms(rawio: BaseRawIO, index: int, row: Any, unit: str) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Mean and standard deviation of the stored waveforms in volts, (samples,) or (samples, channels)."""
    factor = volt_factor(unit)
    if factor is None:
        return None, None
    total = np.zeros(0)
    squares = np.zeros(0)
    count = 0
    for block in range(rawio.block_count()):
        for seg in range(rawio.segment_count(block)):
            raw = rawio.get_spike_raw_waveforms(
                block_index=block, seg_index=seg, spike_channel_index=index, t_start=None, t_stop=None
            )
            if raw is None or len(raw) == 0:
                continue
            values = raw.astype("float64") * float(row["wf_gain"]) + float(row["wf_offset"])
            total = values.sum(axis=0) if count == 0 else total + values.sum(axis=0)
            squares = (values**2).sum(axis=0) if count == 0 else squares + (values**2).sum(axis=0)
            count += len(values)
    if count == 0:
        return None, None
    mean = total / count
    sd = np.sqrt(np.maximum(squares / count - mean**2, 0.0))
    # neo: (channels, samples) per spike -> NWB: (samples,) for one channel, else (samples, channels)
    mean, sd = (mean[0], sd[0]) if mean.shape[0] == 1 else (mean.T, sd.T)
    return mean * factor, sd * factor


def _annotations(rawio: BaseRawIO, index: int) -> dict[str, UnitProperty]:
    """Scalar annotations neo gives the spike channel (classification, tags, comments, channel ids)."""
    try:
        raw = rawio.raw_annotations["blocks"][0]["segments"][0]["spikes"][index]
    except (KeyError, IndexError):
        return {}
    out: dict[str, UnitProperty] = {}
    for key, value in raw.items():
        if key in SKIPPED_ANNOTATIONS:
            continue
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, (bytes, str)):
            value = label(value)
        if isinstance(value, (str, int, float, bool)):
            out[key] = value.strip() if isinstance(value, str) else value
    return out


class _Linker:
    """Finds the electrical channel a spike channel was recorded on (see the module docstring)."""

    def __init__(self, recordings: list[Recording], by_number: bool) -> None:
        self.electrical = [r for r in recordings if r.is_electrical]
        self.by_number = by_number
        self.recording: str | None = None

    def link(self, spike_name: str, channel_id: UnitProperty | None) -> tuple[str, ...]:
        for rec in self.electrical:
            if self.recording not in (None, rec.name):
                continue
            if channel_id is not None:
                ids = [ch.id for ch in rec.channels if ch.id == str(channel_id)]
            elif self.by_number:
                number = _number(spike_name)
                ids = [ch.id for ch in rec.channels if number is not None and _number(ch.name) == number]
            else:
                return ()
            if len(ids) == 1:
                self.recording = rec.name
                return (ids[0],)
        return ()


def _number(name: str) -> int | None:
    found = re.search(r"(\d+)\D*$", name)
    return int(found.group(1)) if found else None
