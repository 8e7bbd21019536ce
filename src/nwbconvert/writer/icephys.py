"""Intracellular recordings: one electrode per channel, one clamp series per sweep and channel, the icephys tables.

Every segment of an INTRACELLULAR recording is one sweep. Each (sweep, channel) becomes a
VoltageClampSeries (current unit: the current measured under voltage clamp) or a CurrentClampSeries
(voltage unit) holding the raw integers with `conversion`/`offset` to amperes or volts, and its own
`starting_time`, so sweeps keep their timing exactly and are never concatenated. The rows of the
intracellular recordings table are grouped per sweep (all channels of one stream recorded together)
into simultaneous recordings, and those into one sequential recording per stream.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from hdmf.data_utils import GenericDataChunkIterator

from nwbconvert.model import Channel, Recording, Segment
from nwbconvert.nwbtypes import SeriesType
from nwbconvert.plan import SeriesPlan
from nwbconvert.units import ampere_factor, camel, volt_factor
from nwbconvert.writer.chunking import layout
from nwbconvert.writer.samples import Progress, read_failed


class SweepIterator(GenericDataChunkIterator):
    """Raw samples of one channel of one segment, 1-D, read buffer by buffer."""

    def __init__(self, segment: Segment, column: int, label: str, progress: Progress | None = None) -> None:
        self.segment = segment
        self.column = column
        self.label = label
        self.progress = progress
        shape = layout(segment.n_samples, 1, segment.traces.dtype.itemsize, segment.traces.row_bytes)
        super().__init__(chunk_shape=(shape.chunk[0],), buffer_shape=(shape.chunk[0],))

    def _get_maxshape(self) -> tuple[int]:
        return (self.segment.n_samples,)

    def _get_dtype(self) -> np.dtype:
        return self.segment.traces.dtype

    def _get_data(self, selection: tuple[slice, ...]) -> np.ndarray:
        (rows,) = selection
        start, stop = rows.start or 0, rows.stop
        try:
            data = self.segment.traces.read(start, stop, [self.column])[:, 0]
        except Exception as exc:
            raise read_failed(self.label, start, stop, exc) from exc
        if self.progress is not None:
            self.progress(data.nbytes)
        return data


def si_factor(entry: SeriesPlan) -> float:
    """The factor from the recording's unit to amperes (voltage clamp) or volts (current clamp)."""
    unit = entry.recording.unit
    factor = ampere_factor(unit) if entry.neurodata_type is SeriesType.VOLTAGE_CLAMP else volt_factor(unit)
    if factor is None:
        raise ValueError(f"{entry.recording.name}: unit {unit!r} is neither a current nor a voltage")
    return factor


def add_intracellular(
    nwbfile: Any,
    sweeps: Sequence[SeriesPlan],
    devices: dict[str, Any],
    progress: Progress | None,
    wrap: Callable[[GenericDataChunkIterator], Any],
) -> None:
    """Electrodes, the planned clamp series (in acquisition) and the icephys tables. Sweeps are small 1-D series
    that `wrap` declares through the backend's own filters, with the conversion's compression."""
    electrodes = _Electrodes(nwbfile, devices)
    simultaneous_rows: dict[tuple[str, int, float], list[int]] = {}  # (stream, sweep, t_start) -> table rows
    runs: dict[str, list[tuple[str, int, float]]] = {}  # stream -> its sweeps in order
    for entry in sweeps:
        assert entry.sweep is not None, "the plan gives every clamp series its sweep"
        rec, ch, segment = entry.recording, entry.sweep.channel(entry.recording), entry.sweep.segment(entry.recording)
        electrode = electrodes.get(rec, ch)
        factor = si_factor(entry)
        series = _series_class(entry.neurodata_type)(
            name=entry.name,
            description=f"{rec.description} Channel '{ch.name}' ({rec.unit}), sweep {entry.sweep.number}.",
            data=wrap(SweepIterator(segment, entry.sweep.column, entry.name, progress)),
            electrode=electrode,
            conversion=ch.gain * factor,
            offset=ch.offset * factor,
            rate=entry.sampling_rate_hz,
            starting_time=entry.t_start_s,
            sweep_number=np.uint32(entry.sweep.number),
        )
        nwbfile.add_acquisition(series)
        row = nwbfile.add_intracellular_recording(electrode=electrode, response=series)
        key = (rec.stream_id, entry.sweep.number, entry.t_start_s)
        if key not in simultaneous_rows:
            simultaneous_rows[key] = []
            runs.setdefault(rec.stream_id, []).append(key)
        simultaneous_rows[key].append(row)
    simultaneous = {k: nwbfile.add_icephys_simultaneous_recording(recordings=r) for k, r in simultaneous_rows.items()}
    for keys in runs.values():
        nwbfile.add_icephys_sequential_recording(
            stimulus_type="unknown", simultaneous_recordings=[simultaneous[k] for k in keys]
        )


def _series_class(kind: SeriesType) -> Any:
    from pynwb.icephys import CurrentClampSeries, VoltageClampSeries

    return VoltageClampSeries if kind is SeriesType.VOLTAGE_CLAMP else CurrentClampSeries


class _Electrodes:
    """One IntracellularElectrode per recorded channel, named after the channel."""

    def __init__(self, nwbfile: Any, devices: dict[str, Any]) -> None:
        self.nwbfile = nwbfile
        self.devices = devices
        self.made: dict[tuple[str, str], Any] = {}

    def get(self, rec: Recording, ch: Channel) -> Any:
        key = (rec.stream_id, ch.id)
        if key not in self.made:
            device = self.devices.get(rec.device) or next(iter(self.devices.values()))
            name = "Electrode" + (camel(ch.name) or ch.id)
            if name in self.nwbfile.icephys_electrodes:
                name += camel(rec.stream_id) + ch.id
            self.made[key] = self.nwbfile.create_icephys_electrode(
                name=name,
                description=f"Amplifier channel '{ch.name}' (id {ch.id}) of stream '{rec.stream_id}', in {rec.unit}.",
                device=device,
            )
        return self.made[key]
