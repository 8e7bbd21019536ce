"""Reading ahead: the byte ranges asked of the disk are where the samples are, for every segment."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from conftest import SAMPLE_DATA
from nwbconvert.model import Channel, Recording, Segment, SignalKind
from nwbconvert.pipeline import ConvertOptions, read_session
from nwbconvert.readers.neo_adapter import NeoTraces, _file_span

SPIKEGLX = SAMPLE_DATA / "spikeglx" / "Sample_g0"


def test_the_span_of_samples_holds_exactly_those_samples() -> None:
    session = read_session(SPIKEGLX, ConvertOptions())
    ap = next(r for r in session.recordings if r.name == "ElectricalSeriesImec0AP")
    traces = ap.segments[0].traces
    assert isinstance(traces, NeoTraces)
    start, stop = 1000, 1500
    span = _file_span(traces.rawio, traces.block, traces.segment, traces.stream_index, start, stop)
    assert span is not None
    path, offset, length = span
    assert path.endswith(".imec0.ap.bin")
    with open(path, "rb") as f:
        f.seek(offset)
        raw = np.frombuffer(f.read(length), dtype="<i2")
    width = traces.row_bytes // 2
    assert raw.size == (stop - start) * width
    on_disk = raw.reshape(stop - start, width)[:, traces.channel_indexes]
    np.testing.assert_array_equal(on_disk, traces.read(start, stop))
    traces.prefetch(start, stop)  # advice only: must not fail, must not change what is read
    np.testing.assert_array_equal(on_disk, traces.read(start, stop))


@dataclass
class Asked:
    """A segment's traces that remember the prefetches they were asked for."""

    n_samples: int
    asked: list[tuple[int, int]] = field(default_factory=list)

    @property
    def shape(self) -> tuple[int, int]:
        return (self.n_samples, 1)

    @property
    def dtype(self) -> np.dtype:
        return np.dtype("int16")

    @property
    def row_bytes(self) -> int:
        return 2

    def read(self, start: int, stop: int, channels: object = None) -> np.ndarray:
        return np.zeros((max(0, min(stop, self.n_samples) - start), 1), dtype="int16")

    def prefetch(self, start: int, stop: int) -> None:
        self.asked.append((start, stop))


def test_a_range_across_segments_asks_each_segment_for_its_part() -> None:
    parts = [Asked(100), Asked(50), Asked(200)]
    recording = Recording(
        name="TimeSeriesX",
        stream_id="x",
        kind=SignalKind.ANALOG,
        unit="V",
        sampling_rate_hz=1000.0,
        channels=(Channel(id="0", name="0", gain=1.0, offset=0.0),),
        segments=tuple(Segment(float(i), p) for i, p in enumerate(parts)),
    )
    recording.prefetch(80, 170)
    assert [p.asked for p in parts] == [[(80, 100)], [(0, 50)], [(0, 20)]]
    recording.prefetch(400, 500)  # past the end: nothing asked
    assert [len(p.asked) for p in parts] == [1, 1, 1]
