"""What a conversion writes, decided once before anything is written: --dry-run shows it, the writer builds it.

One `SeriesPlan` per NWB series: its name, type, group and timing (the rules are in nwbtypes.py), and what it
reads (a recording, or one channel of one sweep of an intracellular recording).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nwbconvert.errors import SourceError
from nwbconvert.metadata.model import NwbMetadata
from nwbconvert.model import Channel, Recording, Segment, Session
from nwbconvert.nwbtypes import SeriesType, Timing, series_group, series_type, timing
from nwbconvert.plan_behavior import BehaviorPlan, VideoStorage, plan_behavior
from nwbconvert.plan_imaging import ImagingPlan, MoviePlan, plan_imaging
from nwbconvert.units import camel
from nwbconvert.writer.compression import deflate, shuffled
from nwbconvert.writer.places import check_electrode_groups

SAMPLE_SECONDS = 0.1  # enough for a ratio within a few percent; 1 s cost 0.6 s of a 60 s conversion


@dataclass(frozen=True)
class Sweep:
    """The part of an intracellular recording one clamp series holds: one channel of one segment."""

    column: int  # the channel's position in the recording
    number: int  # the segment (sweep) index

    def channel(self, rec: Recording) -> Channel:
        return rec.channels[self.column]

    def segment(self, rec: Recording) -> Segment:
        return rec.segments[self.number]


@dataclass(frozen=True)
class SeriesPlan:
    name: str
    neurodata_type: SeriesType
    group: str  # "acquisition" or "processing/ecephys/LFP"
    timing: Timing
    stream_id: str
    n_channels: int
    sampling_rate_hz: float
    n_samples: int
    duration_s: float
    t_start_s: float
    unit: str
    dtype: str
    raw_bytes: int
    recording: Recording = field(repr=False, compare=False)  # what the series reads its samples from
    sweep: Sweep | None = None  # intracellular series only: which channel and segment of `recording`

    @property
    def data_path(self) -> str:
        """The HDF5 path of the series' samples, e.g. /acquisition/ElectricalSeriesImec0AP/data."""
        return f"/{self.group}/{self.name}/data"

    def to_json(self) -> dict[str, Any]:
        doc = {k: getattr(self, k) for k in _JSON_FIELDS}
        doc |= {"neurodata_type": self.neurodata_type.value, "timing": self.timing.value}
        if self.sweep is not None:
            doc |= {"channel": self.sweep.channel(self.recording).name, "sweep": self.sweep.number}
        return doc


_JSON_FIELDS = (
    "name",
    "group",
    "stream_id",
    "n_channels",
    "sampling_rate_hz",
    "n_samples",
    "duration_s",
    "t_start_s",
    "unit",
    "dtype",
    "raw_bytes",
)


@dataclass(frozen=True)
class Plan:
    reader: str
    source: str
    series: tuple[SeriesPlan, ...]
    metadata: NwbMetadata
    raw_bytes: int
    estimated_bytes: int  # after gzip, estimated by compressing the first 0.1 s of each series
    session: Session = field(repr=False, compare=False)  # devices, events and units are written from it
    event_tables: dict[str, int] = field(default_factory=dict)  # EventsTable name -> events (empty ones not written)
    sortings: dict[str, int] = field(default_factory=dict)  # sorting name -> units
    imaging: ImagingPlan = field(default_factory=ImagingPlan)  # planes, movies, segmentations (plan_imaging.py)
    behavior: BehaviorPlan = field(default_factory=BehaviorPlan)  # videos, pose, tables, signals (plan_behavior.py)

    def of_type(self, *types: SeriesType) -> list[SeriesPlan]:
        return [s for s in self.series if s.neurodata_type in types]

    def to_json(self) -> dict[str, Any]:
        """The plan as --json shows it (no samples, no readers)."""
        return (
            {
                "reader": self.reader,
                "source": self.source,
                "series": [s.to_json() for s in self.series],
                "metadata": self.metadata.model_dump(mode="json"),
                "raw_bytes": self.raw_bytes,
                "estimated_bytes": self.estimated_bytes,
                "event_tables": self.event_tables,
                "sortings": self.sortings,
            }
            | ({"imaging": self.imaging.to_json()} if self.imaging.planes else {})
            | ({"behavior": self.behavior.to_json()} if self.behavior else {})
        )


def make_plan(session: Session, metadata: NwbMetadata, video: VideoStorage = VideoStorage.EXTERNAL) -> Plan:
    """Every series the file will hold, in write order: continuous series, then intracellular sweeps."""
    check_electrode_groups(session, metadata)  # electrode_groups.<name> must name a group of the recording
    continuous = [_series(r) for r in session.recordings if not series_type(r.kind, r.unit).is_clamp]
    used = {s.name for s in continuous}
    sweeps = [s for r in session.recordings if series_type(r.kind, r.unit).is_clamp for s in _sweeps(r, used)]
    series = tuple(continuous + sweeps)
    imaging = plan_imaging(session.imaging, metadata)  # every missing imaging value at once, before any frame
    behavior = plan_behavior(session.behavior, metadata, video)  # every untimed pose at once
    estimated = sum(round(r.nbytes * _compression_ratio(r)) for r in session.recordings)
    return Plan(
        session.reader,
        session.source,
        series,
        metadata,
        raw_bytes=sum(s.raw_bytes for s in series) + imaging.raw_bytes + behavior.raw_bytes,
        estimated_bytes=estimated
        + sum(round(m.raw_bytes * _movie_ratio(m)) for m in imaging.movies)
        + imaging.table_bytes
        + behavior.raw_bytes // 2,
        session=session,
        event_tables={e.name: len(e) for e in session.events if len(e)},
        sortings={s.name: len(s.units) for s in session.sortings},
        imaging=imaging,
        behavior=behavior,
    )


def _series(rec: Recording) -> SeriesPlan:
    return SeriesPlan(
        name=rec.name,
        neurodata_type=series_type(rec.kind, rec.unit),
        group=series_group(rec.kind, rec.unit),
        timing=timing(rec),
        stream_id=rec.stream_id,
        n_channels=len(rec.channels),
        sampling_rate_hz=rec.sampling_rate_hz,
        n_samples=rec.n_samples,
        duration_s=rec.duration_s,
        t_start_s=rec.t_start_s,
        unit=rec.unit,
        dtype=str(rec.dtype),
        raw_bytes=rec.nbytes,
        recording=rec,
    )


def _sweeps(rec: Recording, used: set[str]) -> list[SeriesPlan]:
    """One clamp series per channel and sweep, named `<type><channel>Sweep<number>` (the recording's name in
    front where that is taken, e.g. by the same channel name in another stream); `used` collects the names."""
    kind = series_type(rec.kind, rec.unit)
    width = max(3, len(str(len(rec.segments) - 1)))
    out = []
    for column, ch in enumerate(rec.channels):
        for number, segment in enumerate(rec.segments):
            name = f"{kind.value}{camel(ch.name) or ch.id}Sweep{number:0{width}d}"
            name = f"{rec.name}{name}" if name in used else name
            used.add(name)
            n = segment.n_samples
            plan = SeriesPlan(
                name=name,
                neurodata_type=kind,
                group=series_group(rec.kind, rec.unit),
                timing=timing(rec),
                stream_id=rec.stream_id,
                n_channels=1,
                sampling_rate_hz=rec.sampling_rate_hz,
                n_samples=n,
                duration_s=n / rec.sampling_rate_hz,
                t_start_s=segment.t_start_s,
                unit=rec.unit,
                dtype=str(rec.dtype),
                raw_bytes=n * rec.dtype.itemsize,
                recording=rec,
                sweep=Sweep(column, number),
            )
            out.append(plan)
    return out


def _compression_ratio(rec: Recording) -> float:
    """gzip ratio of the first 0.1 s (bytes shuffled as HDF5's shuffle filter does, deflated as the writer does)."""
    segment = rec.segments[0]
    n = min(segment.n_samples, max(1, int(rec.sampling_rate_hz * SAMPLE_SECONDS)))
    try:
        sample = segment.traces.read(0, n)
    except (OSError, ValueError) as exc:  # a source file shorter than the reader was told (a damaged copy)
        raise SourceError(
            f"{rec.name} (stream {rec.stream_id}): its first samples could not be read from the source ({exc}); "
            "the recording may be truncated or damaged: copy it again from where it was recorded."
        ) from exc
    return _gzip_ratio(sample)


def _gzip_ratio(sample: np.ndarray) -> float:
    """Compressed over raw size of a 2-D sample, shuffled and deflated at level 4 as the writer does (1 when empty)."""
    if sample.nbytes == 0:
        return 1.0
    return len(deflate()(shuffled([(0, sample)], sample.shape, sample.dtype), 4)) / sample.nbytes


def _movie_ratio(movie: MoviePlan) -> float:
    """gzip ratio of the movie's first frame (shuffled and deflated as the writer does)."""
    if movie.n_frames == 0 or movie.movie.frame_bytes == 0:
        return 1.0
    try:
        frame = movie.movie.frames.read(0, 1).reshape(1, -1)
    except (OSError, ValueError) as exc:
        raise SourceError(
            f"{movie.name}: its first frame could not be read from the source ({exc}); the movie may be truncated "
            "or damaged: copy it again from where it was recorded."
        ) from exc
    return _gzip_ratio(frame)
