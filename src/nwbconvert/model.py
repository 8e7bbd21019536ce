"""The intermediate representation between readers and the writer.

Frozen, typed, and free of neo and pynwb: readers build it, the writer consumes it.
Samples stay in the file until the writer asks for them through `LazyTraces.read`.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Protocol

import numpy as np

from nwbconvert.behavior import Behavior
from nwbconvert.imaging import Imaging


class LazyTraces(Protocol):
    """Raw samples of one segment, read on demand: shape (samples, channels)."""

    @property
    def shape(self) -> tuple[int, int]: ...

    @property
    def dtype(self) -> np.dtype: ...

    @property
    def row_bytes(self) -> int:
        """Bytes one sample costs to read from the source (all channels stored beside these)."""
        ...

    def read(self, start: int, stop: int, channels: slice | list[int] | None = None) -> np.ndarray:
        """Raw integers for samples [start, stop) of the chosen channels (all when None). May be a read-only
        view on a mapping of the source file: copy what you keep, and drop the view (which unmaps it) soon."""
        ...

    def prefetch(self, start: int, stop: int) -> None:
        """Have the operating system start reading samples [start, stop) from disk (no-op where unknown)."""
        ...


class SignalKind(str, Enum):
    EXTRACELLULAR = "extracellular"  # voltages from electrodes -> ElectricalSeries in acquisition
    LFP = "lfp"  # low-pass voltages from electrodes (e.g. SpikeGLX lf) -> ElectricalSeries in processing/ecephys/LFP
    INTRACELLULAR = "intracellular"  # patch-clamp channels -> Current/VoltageClampSeries per sweep (segment)
    ANALOG = "analog"  # any other sampled signal (aux, ADC, sync) -> TimeSeries


@dataclass(frozen=True)
class Channel:
    """One recorded channel. `gain`/`offset` turn raw integers into the recording's `unit`."""

    id: str
    name: str
    gain: float
    offset: float = 0.0
    group: str = "default"
    position_um: tuple[float, float] | None = None
    shank: str | None = None
    contact_id: str | None = None  # the physical contact; AP and LF channels of one site share it
    location: str | None = None  # brain area of the contact when the source says (IBL channels' acronyms)


@dataclass(frozen=True)
class Segment:
    """A gap-free stretch of samples; `t_start_s` is on the session clock."""

    t_start_s: float
    traces: LazyTraces

    @property
    def n_samples(self) -> int:
        return self.traces.shape[0]


@dataclass(frozen=True)
class Recording:
    """One sampled stream (or a part of one sharing a unit), written as one NWB series."""

    name: str  # NWB series name, stable across runs: "ElectricalSeriesImec0AP"
    stream_id: str  # what `--stream` selects
    kind: SignalKind
    unit: str  # unit of channel gains, as the source names it: "uV", "mV", "V", "%"
    sampling_rate_hz: float
    channels: tuple[Channel, ...]
    segments: tuple[Segment, ...]
    description: str = ""
    device: str = ""

    @property
    def n_samples(self) -> int:
        return sum(s.n_samples for s in self.segments)

    @property
    def sample_offsets(self) -> np.ndarray:
        """Where each segment starts in the concatenated samples, plus the total: [0, n0, n0 + n1, ...]."""
        return np.cumsum([0] + [s.n_samples for s in self.segments])

    @property
    def row_bytes(self) -> int:
        """Bytes one sample costs to read from the source (the widest of its segments' files)."""
        return max(s.traces.row_bytes for s in self.segments)

    def spans(self, start: int, stop: int) -> Iterator[tuple[Segment, int, int, int]]:
        """The segments holding samples [start, stop), in time order, as (segment, its first sample in the
        recording, first and end sample of the range within the segment)."""
        offsets = self.sample_offsets
        for i, segment in enumerate(self.segments):
            lo = int(offsets[i])
            a, b = max(start, lo), min(stop, int(offsets[i + 1]))
            if a < b:
                yield segment, lo, a - lo, b - lo

    def prefetch(self, start: int, stop: int) -> None:
        """Have the OS start reading samples [start, stop) of the segments from disk (see LazyTraces)."""
        for segment, _, a, b in self.spans(start, stop):
            segment.traces.prefetch(a, b)

    @property
    def is_electrical(self) -> bool:
        """Written as an ElectricalSeries (the rule is nwbtypes.series_type)."""
        from nwbconvert.nwbtypes import SeriesType, series_type

        return series_type(self.kind, self.unit) is SeriesType.ELECTRICAL

    @property
    def dtype(self) -> np.dtype:
        return self.segments[0].traces.dtype

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.sampling_rate_hz

    @property
    def nbytes(self) -> int:
        return self.n_samples * len(self.channels) * self.dtype.itemsize

    @property
    def t_start_s(self) -> float:
        return self.segments[0].t_start_s

    @property
    def is_contiguous(self) -> bool:
        """True when every segment starts where the previous one ended (see `segment_gaps`)."""
        return all(abs(gap) <= GAP_TOLERANCE for gap in segment_gaps(self.segments, self.sampling_rate_hz))


GAP_TOLERANCE = 1e-3  # in sample periods: segments closer than this touch (float rounding of start times)


def segment_gaps(segments: Sequence[Segment], rate_hz: float) -> list[float]:
    """For each pair of consecutive segments, the time from the end of one to the start of the next, in sample
    periods: ~0 where they touch, > 0 for a gap, < 0 where they overlap (the one contiguity rule)."""
    return [(nxt.t_start_s - prev.t_start_s) * rate_hz - prev.n_samples for prev, nxt in itertools.pairwise(segments)]


@dataclass(frozen=True, eq=False)
class EventChannel:
    """One event or epoch channel (TTL line or word, messages, markers, annotations) -> an NWB EventsTable."""

    name: str  # NWB table name, unique in the session: "EventsDigitalInputPort"
    source_name: str  # the channel's name in the source
    times_s: np.ndarray  # float64, seconds on the session clock, one per event
    labels: np.ndarray  # str, one per event: TTL line/state or word, message text, marker name
    durations_s: np.ndarray | None = None  # epochs only: float64 seconds, NaN where unknown
    blocks: np.ndarray | None = None  # int, the source block of each event when blocks restart their clock
    description: str = ""

    def __len__(self) -> int:
        return len(self.times_s)


UnitProperty = str | float | int | bool


@dataclass(frozen=True, eq=False)
class Unit:
    """One sorted unit: spike times on the session clock and what the sorter says about it."""

    name: str  # unique within its sorting: the sorter's cluster id or the source's unit name
    spike_times_s: np.ndarray  # float64 seconds on the session clock, ascending
    channel_ids: tuple[str, ...] = ()  # ids of the `Sorting.recording` channels it was found on
    properties: dict[str, UnitProperty] = field(default_factory=dict)  # KSLabel, quality, amplitude, ...
    waveform_mean_v: np.ndarray | None = None  # (samples,) or (samples, channels), volts
    waveform_sd_v: np.ndarray | None = None


@dataclass(frozen=True)
class Sorting:
    """The units of one spike sorting (a sorter's output folder, or the units stored in the source files)."""

    name: str  # unique label written in the units table's `sorting` column: "nev", "phy", "kilosort-imec0"
    source: str  # the path it came from
    units: tuple[Unit, ...]
    recording: str | None = None  # the series (or stream) whose channels the units' channel_ids refer to
    waveform_rate_hz: float | None = None  # sampling rate of the units' mean waveforms
    time_resolution_s: float | None = None  # smallest spike time step (1 / the spike clock's rate)
    description: str = ""
    channels: tuple[Channel, ...] = ()  # read without a recording: the electrodes its units' channel_ids name


@dataclass(frozen=True)
class Device:
    name: str
    description: str = ""
    manufacturer: str = ""


@dataclass(frozen=True)
class SourceFile:
    path: str
    size_bytes: int
    checksum: str  # "<algorithm>:<hex>"


@dataclass(frozen=True)
class HeaderMetadata:
    """What the source files themselves say about the session (the lowest metadata layer)."""

    session_start_time: dt.datetime | None = None
    session_description: str | None = None
    subject_id: str | None = None
    sex: str | None = None


@dataclass(frozen=True)
class SourceNote:
    """Something about a source the user must hear: printed as a warning, recorded in the file's provenance.

    `what` is a short stable tag ("incomplete", "gaps", "not-used", ...); `message` is one plain sentence that names
    the file; `expected`/`found` give the shortfall of an incomplete copy ("7 200 000 samples" / "3 600 000")."""

    what: str
    path: str
    message: str
    expected: str = ""
    found: str = ""


@dataclass(frozen=True)
class Session:
    """Everything a reader found in one source: the writer's only input besides metadata."""

    reader: str
    reader_version: str
    source: str
    recordings: tuple[Recording, ...]
    devices: tuple[Device, ...] = ()
    header: HeaderMetadata = field(default_factory=HeaderMetadata)
    source_files: tuple[SourceFile, ...] = ()
    events: tuple[EventChannel, ...] = ()
    sortings: tuple[Sorting, ...] = ()
    notes: tuple[SourceNote, ...] = ()  # warnings: gaps found, an incomplete copy kept with --allow-incomplete, ...
    imaging: Imaging = field(default_factory=Imaging)  # planes, movies and segmentations (optical sources)
    behavior: Behavior = field(default_factory=Behavior)  # videos, pose, trials and behavioral signals

    @property
    def has_electrodes(self) -> bool:
        """Recordings, or sortings read with their channels: something to place on a Device (a behavior or imaging
        source brings its own cameras and microscopes)."""
        return bool(self.recordings or any(s.channels for s in self.sortings))

    def select_streams(self, stream_ids: list[str]) -> Session:
        """A copy holding only the recordings whose stream id or series name is in `stream_ids`."""
        wanted = set(stream_ids)
        kept = tuple(r for r in self.recordings if r.stream_id in wanted or r.name in wanted)
        return replace(self, recordings=kept)
