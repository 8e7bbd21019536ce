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
from dataclasses import dataclass
from typing import Any

import numpy as np
from hdmf.data_utils import GenericDataChunkIterator

from nwbconvert.errors import SourceError
from nwbconvert.model import Channel, Recording, Segment
from nwbconvert.units import ampere_factor, camel, volt_factor
from nwbconvert.writer.chunking import layout
from nwbconvert.writer.compression import WriteOptions
from nwbconvert.writer.samples import Progress


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
            raise SourceError(
                f"Reading samples {start}-{stop} of {self.label} from the source failed "
                f"({type(exc).__name__}: {exc}). The recording may be truncated or damaged."
            ) from exc
        if self.progress is not None:
            self.progress(data.nbytes)
        return data


@dataclass(frozen=True)
class _Clamp:
    """The NWB series type a recording's unit calls for, and the factor from that unit to SI."""

    type_name: str  # "VoltageClampSeries" or "CurrentClampSeries"
    factor: float


def clamp_of(rec: Recording) -> _Clamp:
    amperes = ampere_factor(rec.unit)
    if amperes is not None:
        return _Clamp("VoltageClampSeries", amperes)
    volts = volt_factor(rec.unit)
    if volts is not None:
        return _Clamp("CurrentClampSeries", volts)
    raise ValueError(
        f"{rec.name}: unit {rec.unit!r} is neither a current nor a voltage; the reader must not mark it intracellular"
    )


def add_intracellular(
    nwbfile: Any,
    recordings: Sequence[Recording],
    devices: dict[str, Any],
    progress: Progress | None,
    write: WriteOptions,
    wrap: Callable[[GenericDataChunkIterator], Any] | None = None,
) -> None:
    """Electrodes, clamp series (in acquisition) and the icephys tables for every intracellular recording.
    Sweeps are small 1-D series: they go through HDF5's own filters, with the conversion's compression
    (`wrap` declares them for another backend, e.g. zarr)."""
    from hdmf.backends.hdf5 import H5DataIO

    wrap = wrap or (lambda iterator: H5DataIO(iterator, **write.dataset_options()))
    electrodes = _Electrodes(nwbfile, devices)
    sweeps: dict[tuple[str, int, float], list[int]] = {}  # (stream, sweep, t_start) -> intracellular rows
    runs: dict[str, list[tuple[str, int, float]]] = {}  # stream -> its sweeps in order
    for rec in recordings:
        clamp = clamp_of(rec)
        series_cls = _series_class(clamp.type_name)
        width = max(3, len(str(len(rec.segments) - 1)))
        for column, ch in enumerate(rec.channels):
            electrode = electrodes.get(rec, ch)
            for number, segment in enumerate(rec.segments):
                name = f"{clamp.type_name}{camel(ch.name) or ch.id}Sweep{number:0{width}d}"
                if name in nwbfile.acquisition:
                    name = f"{rec.name}{name}"
                series = series_cls(
                    name=name,
                    description=f"{rec.description} Channel '{ch.name}' ({rec.unit}), sweep {number}.",
                    data=wrap(SweepIterator(segment, column, name, progress)),
                    electrode=electrode,
                    conversion=ch.gain * clamp.factor,
                    offset=ch.offset * clamp.factor,
                    rate=rec.sampling_rate_hz,
                    starting_time=segment.t_start_s,
                    sweep_number=np.uint32(number),
                )
                nwbfile.add_acquisition(series)
                row = nwbfile.add_intracellular_recording(electrode=electrode, response=series)
                key = (rec.stream_id, number, segment.t_start_s)
                if key not in sweeps:
                    sweeps[key] = []
                    runs.setdefault(rec.stream_id, []).append(key)
                sweeps[key].append(row)
    simultaneous = {key: nwbfile.add_icephys_simultaneous_recording(recordings=rows) for key, rows in sweeps.items()}
    for keys in runs.values():
        nwbfile.add_icephys_sequential_recording(
            stimulus_type="unknown", simultaneous_recordings=[simultaneous[k] for k in keys]
        )


def _series_class(type_name: str) -> Any:
    from pynwb.icephys import CurrentClampSeries, VoltageClampSeries

    return VoltageClampSeries if type_name == "VoltageClampSeries" else CurrentClampSeries


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
