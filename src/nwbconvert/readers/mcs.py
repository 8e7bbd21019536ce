"""Multi Channel Systems HDF5 files (MCS Data Manager / Experimenter export): every analog stream, read in the
vendor's layout (see mcs_h5) as McsPyDataTools reads it."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from nwbconvert.model import Channel, Device, HeaderMetadata, Recording, Segment, Session, SignalKind, SourceNote
from nwbconvert.provenance import describe_files
from nwbconvert.readers.base import Match, ReaderBase, ReadOptions, shortfall
from nwbconvert.readers.catalog_hdf5 import hdf5_root
from nwbconvert.readers.mcs_h5 import H5Traces, McsChannel, McsStream, read_streams, start_time
from nwbconvert.readers.neo_adapter import series_prefix
from nwbconvert.units import camel


class MCSH5Reader(ReaderBase):
    name = "mcs-h5"
    description = "Multi Channel Systems HDF5 file"
    suffixes = (".h5",)
    verified = "real"  # tests/test_roundtrip.py converts a real file
    manufacturer = "Multi Channel Systems"
    unreadable_advice = "It may be truncated or not a raw-data export; re-export it from MCS Data Manager."

    def probe(self, path: Path) -> Match:
        _, attrs = hdf5_root(path)
        return Match.CONTENT if attrs.get("McsHdf5ProtocolType") == "RawData" else Match.NO

    def read(self, path: Path, options: ReadOptions) -> Session:
        import h5py

        with self.reading(path):
            streams = read_streams(path)
            header = HeaderMetadata(session_start_time=start_time(path))
        notes: list[SourceNote] = []
        recordings: list[Recording] = []
        for stream in streams:
            notes += _shortfalls(path, stream, options)
            recordings += stream_recordings(path, stream, options.stub_seconds)
        return Session(
            reader=self.name,
            reader_version=f"h5py {h5py.__version__} (MCS HDF5 layout, as McsPyDataTools reads it)",
            source=str(path),
            recordings=tuple(recordings),
            devices=(Device(name="MCS", description=self.description, manufacturer=self.manufacturer),),
            header=header,
            source_files=describe_files([path]),
            notes=tuple(notes),
        )


def _name(channel: McsChannel, named: bool) -> str:
    """The electrode label where every channel of the stream has its own, else the channel id."""
    return channel.label if named else f"Ch{channel.channel_id}"


def _shortfalls(path: Path, stream: McsStream, options: ReadOptions) -> list[SourceNote]:
    """Stretches that `ChannelDataTimeStamps` declares beyond the samples `ChannelData` holds."""
    declared = max((first + n for _, first, n in stream.stretches), default=0)
    if declared <= stream.n_samples:
        return []
    what = f"the samples of analog stream Stream_{stream.stream_id}"
    expected = f"{declared} samples (ChannelDataTimeStamps)"
    return [shortfall(path, what, expected, f"{stream.n_samples} samples (ChannelData)", options)]


def stream_recordings(path: Path, stream: McsStream, stub_seconds: float | None) -> list[Recording]:
    """One recording per unit and sampling tick of the stream (an NWB series has one of each): electrode
    streams are ElectricalSeries, auxiliary and others TimeSeries; one segment per gap-free stretch."""
    groups: dict[tuple[str, int], list[McsChannel]] = defaultdict(list)
    for channel in stream.channels:
        groups[(channel.unit, channel.tick_us)].append(channel)
    kind = SignalKind.EXTRACELLULAR if stream.subtype.lower() == "electrode" else SignalKind.ANALOG
    labels = [c.label for c in stream.channels]
    named = all(labels) and len(set(labels)) == len(labels)
    out = []
    for (unit, tick), channels in groups.items():
        rate = 1e6 / tick
        name = f"{series_prefix(kind)}Stream{stream.stream_id}"
        name += camel(unit) if len({u for u, _ in groups}) > 1 else ""
        name += f"Tick{tick}us" if len({t for _, t in groups}) > 1 else ""
        rows = tuple(c.row for c in channels)
        segments = []
        budget = None if stub_seconds is None else max(1, round(stub_seconds * rate))
        for t_start, first, n in sorted(stream.stretches):
            n = max(0, min(n, stream.n_samples - first))
            if budget is not None:
                n, budget = min(n, budget), budget - min(n, budget)
            if n:
                traces = H5Traces(path, stream.dataset, rows, first, n, stream.dtype, stream.n_rows)
                segments.append(Segment(t_start, traces))
        chans = tuple(
            Channel(id=f"Ch{c.channel_id}", name=_name(c, named), gain=c.gain, offset=c.offset) for c in channels
        )
        subtype = stream.subtype or "analog"
        description = f"MCS analog stream Stream_{stream.stream_id} ({subtype}, {len(chans)} channels, {unit})."
        out.append(Recording(name, f"Stream_{stream.stream_id}", kind, unit, rate, chans, tuple(segments), description))
    return [r for r in out if r.segments]
