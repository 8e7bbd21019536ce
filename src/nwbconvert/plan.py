"""What a conversion will write, computed before writing (shown by --dry-run, returned by convert)."""

from __future__ import annotations

from dataclasses import dataclass, field

from nwbconvert.metadata.model import NwbMetadata
from nwbconvert.model import Recording, Session, SignalKind
from nwbconvert.writer.compression import deflate, shuffled

SAMPLE_SECONDS = 0.1  # enough for a ratio within a few percent; 1 s cost 0.6 s of a 60 s conversion


@dataclass(frozen=True)
class SeriesPlan:
    name: str
    neurodata_type: str
    stream_id: str
    n_channels: int
    sampling_rate_hz: float
    n_samples: int
    duration_s: float
    t_start_s: float
    timing: str  # "rate" or "timestamps"
    unit: str
    dtype: str
    raw_bytes: int


@dataclass(frozen=True)
class Plan:
    reader: str
    source: str
    series: tuple[SeriesPlan, ...]
    metadata: NwbMetadata
    raw_bytes: int
    estimated_bytes: int  # after gzip, estimated by compressing the first 0.1 s of each series
    event_tables: dict[str, int] = field(default_factory=dict)  # EventsTable name -> events (empty ones not written)
    sortings: dict[str, int] = field(default_factory=dict)  # sorting name -> units


def make_plan(session: Session, metadata: NwbMetadata) -> Plan:
    series = tuple(
        SeriesPlan(
            name=r.name,
            neurodata_type=neurodata_type(r),
            stream_id=r.stream_id,
            n_channels=len(r.channels),
            sampling_rate_hz=r.sampling_rate_hz,
            n_samples=r.n_samples,
            duration_s=r.duration_s,
            t_start_s=r.t_start_s,
            timing="rate" if r.is_contiguous or r.kind is SignalKind.INTRACELLULAR else "timestamps",  # per sweep
            unit=r.unit,
            dtype=str(r.dtype),
            raw_bytes=r.nbytes,
        )
        for r in session.recordings
    )
    raw = sum(s.raw_bytes for s in series)
    estimated = sum(round(r.nbytes * _compression_ratio(r)) for r in session.recordings)
    return Plan(
        session.reader,
        session.source,
        series,
        metadata,
        raw,
        estimated,
        event_tables={e.name: len(e) for e in session.events if len(e)},
        sortings={s.name: len(s.units) for s in session.sortings},
    )


def neurodata_type(rec: Recording) -> str:
    """The NWB type a recording is written as."""
    if rec.is_electrical:
        return "ElectricalSeries (LFP)" if rec.kind is SignalKind.LFP else "ElectricalSeries"
    if rec.kind is SignalKind.INTRACELLULAR:
        return "VoltageClampSeries" if rec.unit.endswith("A") else "CurrentClampSeries"
    return "TimeSeries"


def _compression_ratio(rec: Recording) -> float:
    """gzip ratio of the first 0.1 s (bytes shuffled as HDF5's shuffle filter does, deflated as the writer does)."""
    segment = rec.segments[0]
    n = min(segment.n_samples, max(1, int(rec.sampling_rate_hz * SAMPLE_SECONDS)))
    sample = segment.traces.read(0, n)
    if sample.nbytes == 0:
        return 1.0
    return len(deflate()(shuffled([(0, sample)], sample.shape, sample.dtype), 4)) / sample.nbytes
