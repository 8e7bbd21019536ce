"""Readers over spikeinterface (for formats that neo does not read): their base, and a spikeinterface recording
turned into a `Recording`."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from nwbconvert.model import Channel, Device, HeaderMetadata, Recording, Segment, Session, SignalKind
from nwbconvert.provenance import describe_files
from nwbconvert.readers.base import ReaderBase, ReadOptions


class SIReader(ReaderBase):
    """A reader whose `recordings` come from spikeinterface extractors; the base wraps its errors (as every
    reader does, `ReaderBase.unreadable`) and builds the Session."""

    extractor: ClassVar[str]  # the spikeinterface class, named in the provenance
    device_name: ClassVar[str]

    @abstractmethod
    def recordings(self, path: Path, options: ReadOptions) -> list[Recording]:
        """The source's recordings; any library failure here becomes a one-paragraph SourceError."""

    def source_paths(self, path: Path) -> list[Path]:
        return [path]

    def read(self, path: Path, options: ReadOptions) -> Session:
        import spikeinterface

        with self.reading(path):
            recordings = self.recordings(path, options)
        return Session(
            reader=self.name,
            reader_version=f"spikeinterface {spikeinterface.__version__} {self.extractor}",
            source=str(path),
            recordings=tuple(recordings),
            devices=(Device(name=self.device_name, description=self.description, manufacturer=self.manufacturer),),
            header=HeaderMetadata(),
            source_files=describe_files(self.source_paths(path)),
        )


@dataclass(frozen=True, eq=False)
class SITraces:
    """`LazyTraces` over one segment of a spikeinterface recording, raw (unscaled) values."""

    recording: Any
    segment: int
    n_samples: int

    @property
    def shape(self) -> tuple[int, int]:
        return (self.n_samples, int(self.recording.get_num_channels()))

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.recording.get_dtype())

    @property
    def row_bytes(self) -> int:
        return self.shape[1] * self.dtype.itemsize

    def prefetch(self, start: int, stop: int) -> None:
        pass  # spikeinterface does not say where samples lie in its files

    def read(self, start: int, stop: int, channels: slice | list[int] | None = None) -> np.ndarray:
        ids = self.recording.channel_ids
        chosen = None if channels is None else ids[channels]
        stop = min(stop, self.n_samples)
        return np.asarray(
            self.recording.get_traces(segment_index=self.segment, start_frame=start, end_frame=stop, channel_ids=chosen)
        )


def recording_from_si(
    si_recording: Any, name: str, stream_id: str, kind: SignalKind, stub_seconds: float | None
) -> Recording:
    """spikeinterface gains and offsets convert raw values to microvolts."""
    rate = float(si_recording.get_sampling_frequency())
    gains = si_recording.get_channel_gains()
    offsets = si_recording.get_channel_offsets()
    locations = si_recording.get_channel_locations() if si_recording.has_probe() else None
    channels = tuple(
        Channel(
            id=str(cid),
            name=str(cid),
            gain=float(gains[i]),
            offset=float(offsets[i]),
            position_um=(float(locations[i][0]), float(locations[i][1])) if locations is not None else None,
        )
        for i, cid in enumerate(si_recording.channel_ids)
    )
    budget = None if stub_seconds is None else max(1, round(stub_seconds * rate))
    segments = []
    for seg in range(si_recording.get_num_segments()):
        n = int(si_recording.get_num_samples(seg))
        if budget is not None:
            n, budget = min(n, budget), budget - min(n, budget)
        if n:
            t0 = si_recording.get_start_time(seg)
            segments.append(Segment(float(t0), SITraces(si_recording, seg, n)))
    return Recording(
        name=name,
        stream_id=stream_id,
        kind=kind,
        unit="uV",
        sampling_rate_hz=rate,
        channels=channels,
        segments=tuple(segments),
        description=f"Stream '{stream_id}' ({len(channels)} channels, uV).",
    )
