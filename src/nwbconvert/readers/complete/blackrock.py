"""Blackrock: each .nsX data packet holds the number of data points its packet header declares, and the .nev
holds whole packets, all of whose events and spikes neo returned."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from nwbconvert.errors import SourceError
from nwbconvert.readers.base import ReadOptions, shortfall
from nwbconvert.readers.complete import number, plural

if TYPE_CHECKING:
    from nwbconvert.model import Recording, Session, SourceNote
    from nwbconvert.readers.complete import Checked

MAX_PACKETS = 100_000  # a file of more packets (one per sample: PTP timing) is sized by neo from its length


@dataclass(frozen=True)
class Packet:
    """One .nsX data packet: where its samples start, how many it declares, how many whole ones are there."""

    data_offset: int
    declared: int
    available: int


@dataclass(frozen=True)
class Nsx:
    path: Path
    n_channels: int
    packets: tuple[Packet, ...]


def read_nsx(path: Path) -> Nsx | None:
    """The data packets of a 2.2+ .nsX file (None for 2.1 files, which have none, and for one-sample packets)."""
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(314)
        if len(head) < 314 or head[:8] != b"NEURALCD":
            return None
        ts_bytes = 8 if head[8] >= 3 else 4
        (offset,) = struct.unpack_from("<I", head, 10)
        (n_channels,) = struct.unpack_from("<I", head, 310)
        row = 2 * n_channels
        packets: list[Packet] = []
        while offset < size and len(packets) < MAX_PACKETS and row:
            f.seek(offset)
            header = f.read(1 + ts_bytes + 4)
            if len(header) < 1 + ts_bytes + 4 or header[0] != 1:
                break
            (declared,) = struct.unpack_from("<I", header, 1 + ts_bytes)
            start = offset + len(header)
            packets.append(Packet(start, declared, min(declared, (size - start) // row)))
            offset = start + declared * row
        if len(packets) == MAX_PACKETS or (packets and packets[0].declared == 1 and len(packets) > 1):
            return None
    return Nsx(path, n_channels, tuple(packets))


def _members(path: Path) -> list[Path]:
    from nwbconvert.readers.blackrock import _set_members

    return _set_members(path)


def before(path: Path, options: ReadOptions, streams: Sequence[str]) -> list[SourceNote]:
    """Each .nsX packet and the .nev's packets whole (neo sizes the samples from the packet headers and reads past
    the end of a cut file; it drops a cut .nev packet without a word)."""
    notes: list[SourceNote] = []
    for member in _members(path):
        if member.suffix.lower() == ".nev":
            notes += _nev_whole(member, options)
            continue
        nsx = read_nsx(member)
        packets = nsx.packets if nsx else ()
        for i, packet in enumerate(packets):
            if packet.available < packet.declared:
                what = f"the samples of data packet {i + 1}" if len(packets) > 1 else "the samples"
                expected = f"{plural(packet.declared, 'sample')} (the data packet header's number of data points)"
                notes.append(shortfall(member, what, expected, plural(packet.available, "whole sample"), options))
    return notes


def _nev_layout(path: Path) -> tuple[int, int, int] | None:
    """(bytes of headers, bytes per packet, spec major version) of a .nev, or None."""
    with path.open("rb") as f:
        head = f.read(20)
    if len(head) < 20 or head[:8] != b"NEURALEV":
        return None
    header_bytes, packet_bytes = struct.unpack_from("<II", head, 12)
    return (header_bytes, packet_bytes, head[8]) if packet_bytes >= 8 else None


def _nev_whole(path: Path, options: ReadOptions) -> list[SourceNote]:
    layout = _nev_layout(path)
    if layout is None:
        return []
    header_bytes, packet_bytes, _ = layout
    n, cut = divmod(max(0, path.stat().st_size - header_bytes), packet_bytes)
    if not cut:
        return []
    expected = f"whole {number(packet_bytes)}-byte packets after its {plural(header_bytes, 'byte')} of headers"
    found = f"{plural(n, 'packet')} and {plural(cut, 'byte')} of a cut one"
    return [shortfall(path, f"the packets of event file {path.name}", expected, found, options)]


def nev_counts(path: Path) -> tuple[int, int] | None:
    """(event packets, spike packets) among the whole packets of a .nev, by the NEV specification's packet ids:
    0 for digital/serial/analog events, 1-2048 for spikes on electrodes (1-255 before spec 2.3)."""
    layout = _nev_layout(path)
    if layout is None:
        return None
    header_bytes, packet_bytes, major = layout
    n = max(0, path.stat().st_size - header_bytes) // packet_bytes
    id_at = 8 if major >= 3 else 4
    raw = np.memmap(path, dtype=np.uint8, mode="r", offset=header_bytes, shape=(n, packet_bytes)) if n else None
    ids = np.empty(0, np.uint16) if raw is None else raw[:, id_at : id_at + 2].copy().view("<u2").ravel()
    with open(path, "rb") as f:
        minor = f.read(10)[9]
    highest = 2048 if (major, minor) >= (2, 3) else 255
    return int(np.count_nonzero(ids == 0)), int(np.count_nonzero((ids >= 1) & (ids <= highest)))


def after(path: Path, session: Session, options: ReadOptions, streams: Sequence[str]) -> Checked:
    """The events and spikes neo returned against the .nev's packets; a cut .nsX read as its whole samples."""
    notes: list[SourceNote] = []
    members = _members(path)
    nev = next((m for m in members if m.suffix.lower() == ".nev"), None)
    counts = nev_counts(nev) if nev is not None else None
    if nev is not None and counts is not None:
        events = sum(len(e) for e in session.events)
        spikes = sum(len(u.spike_times_s) for s in session.sortings for u in s.units)
        for what, declared, found in (("events", counts[0], events), ("spikes", counts[1], spikes)):
            if found < declared:
                expected = f"{plural(declared, what[:-1])} (the {what[:-1]} packets in the file)"
                notes.append(shortfall(nev, f"the {what} of {nev.name}", expected, plural(found, what[:-1]), options))
    notes += _lone(members)
    files = {m.suffix.lower()[1:]: n for m in members if m.suffix.lower() != ".nev" for n in [read_nsx(m)] if n}
    return replace(session, recordings=tuple(_clipped(r, files) for r in session.recordings)), notes


def _lone(members: list[Path]) -> list[SourceNote]:
    """A warning for a set without its .nev (no events, no spikes) or without any .nsX (no samples): neither
    file names the other, so a copy that lost one cannot be told from a recording that never had it."""
    from nwbconvert.model import SourceNote

    nev = [m for m in members if m.suffix.lower() == ".nev"]
    nsx = [m for m in members if m.suffix.lower() != ".nev"]
    if not members or (nev and nsx):
        return []
    have = members[0]
    if nev:
        what, lacking = "continuous samples", f"no {have.stem}.ns1-.ns6 beside it"
    else:
        what, lacking = "events and spikes", f"no {have.stem}.nev beside it"
    message = (
        f"{have}: the file set has {lacking}, so the recording's {what} are not in this copy (check that every "
        "file of the recording was copied); converted what is there."
    )
    return [
        SourceNote("missing-file", str(have), message, f"{have.stem}.nev and .nsX", ", ".join(m.name for m in members))
    ]


def _clipped(recording: Recording, files: dict[str, Nsx]) -> Recording:
    """The recording with each segment of a cut packet read as the whole samples that are there."""
    from nwbconvert.model import Segment
    from nwbconvert.readers.complete.traces import FileTraces
    from nwbconvert.readers.neo_adapter import NeoTraces

    segments = list(recording.segments)
    for i, segment in enumerate(segments):
        traces = segment.traces
        if not isinstance(traces, NeoTraces):
            continue
        stream = str(traces.rawio.header["signal_streams"][traces.stream_index]["name"]).replace("nsx", "ns")
        nsx = files.get(stream)
        if nsx is None or not any(p.available < p.declared for p in nsx.packets):
            continue
        if len(nsx.packets) != len(segments):
            raise SourceError(
                f"{nsx.path}: neo found {len(segments)} segments in its {len(nsx.packets)} data packets, so the "
                "samples of the cut packet cannot be told apart: what is there cannot be converted."
            )
        packet = nsx.packets[i]
        n = min(traces.n_samples, packet.available)
        clipped = FileTraces(nsx.path, packet.data_offset, n, nsx.n_channels, np.dtype("<i2"), traces.channel_indexes)
        segments[i] = Segment(segment.t_start_s, clipped)
    return replace(recording, segments=tuple(segments))
