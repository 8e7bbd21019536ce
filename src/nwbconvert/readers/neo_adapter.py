"""Turn a neo rawio into `Recording`s: lazy raw traces with per-channel gain and offset.

neo's model (raw integers + gain + offset per channel) is kept as it is. A neo stream becomes one
`Recording` per unit family and offset, because an NWB series holds one unit and one offset:
voltage channels share a series (gains rescaled to its unit); every other unit gets its own.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from nwbconvert.model import GAP_TOLERANCE, Channel, Recording, Segment, SignalKind, segment_gaps
from nwbconvert.nwbtypes import series_type
from nwbconvert.units import camel, is_voltage, label, volt_factor

if TYPE_CHECKING:
    from neo.rawio.baserawio import BaseRawIO

# rawios whose chunk read iterates over the channel indexes it is given, so a slice (prefer_slice) fails there;
# the others (neo 0.14) index an array with it or check for a slice first (axona, intan, med, plexon2, ...)
NEEDS_INDEX_LISTS = frozenset({"AxographRawIO"})


@dataclass(frozen=True, eq=False)
class NeoTraces:
    """`LazyTraces` over one (block, segment, stream) of a neo rawio and a subset of its channels."""

    rawio: BaseRawIO
    block: int
    segment: int
    stream_index: int
    channel_indexes: np.ndarray  # positions inside the neo stream
    n_samples: int
    raw_dtype: np.dtype
    row_bytes: int

    @property
    def shape(self) -> tuple[int, int]:
        return (self.n_samples, len(self.channel_indexes))

    @property
    def dtype(self) -> np.dtype:
        return self.raw_dtype

    def read(self, start: int, stop: int, channels: slice | list[int] | None = None) -> np.ndarray:
        idx = self.channel_indexes if channels is None else self.channel_indexes[channels]
        stop = min(stop, self.n_samples)
        if stop <= start:
            return np.empty((0, len(idx)), dtype=self.raw_dtype)
        chunk = self.rawio.get_analogsignal_chunk(
            block_index=self.block,
            seg_index=self.segment,
            i_start=start,
            i_stop=stop,
            stream_index=self.stream_index,
            channel_indexes=idx,
            # adjacent channels: a view on neo's file mapping instead of a gathered copy, where the rawio takes one
            prefer_slice=type(self.rawio).__name__ not in NEEDS_INDEX_LISTS,
        )
        return np.asarray(chunk, dtype=self.raw_dtype)

    def prefetch(self, start: int, stop: int) -> None:
        """Readahead of the file bytes holding samples [start, stop), for rawios that describe their buffers."""
        span = _file_span(self.rawio, self.block, self.segment, self.stream_index, start, min(stop, self.n_samples))
        if span is None or not hasattr(os, "posix_fadvise"):
            return
        path, offset, length = span
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            return
        try:
            os.posix_fadvise(fd, offset, length, os.POSIX_FADV_WILLNEED)
        except OSError:
            pass  # advice only
        finally:
            os.close(fd)


def _file_span(
    rawio: BaseRawIO, block: int, segment: int, stream_index: int, start: int, stop: int
) -> tuple[str, int, int] | None:
    """(file, byte offset, byte count) of samples [start, stop) when the stream is one raw (time, channels)
    buffer in one file (neo's buffer API), else None."""
    if stop <= start or not getattr(rawio, "has_buffer_description_api", lambda: False)():
        return None
    buffer_id = rawio.header["signal_streams"][stream_index]["buffer_id"]
    try:
        desc = rawio.get_analogsignal_buffer_description(block, segment, buffer_id)
    except Exception:
        return None
    if desc.get("type") != "raw" or desc.get("time_axis", 0) != 0:
        return None
    row = int(np.prod(desc["shape"][1:])) * np.dtype(desc["dtype"]).itemsize
    return str(desc["file_path"]), int(desc["file_offset"]) + start * row, (stop - start) * row


@dataclass(frozen=True)
class StreamPolicy:
    """How a reader names and classifies neo streams (each reader may supply its own)."""

    kind: Callable[[str, str], SignalKind]  # (stream name, unit) -> kind
    series_name: Callable[[str, SignalKind], str]  # (stream name, kind) -> NWB series name
    channel: Callable[[str, Channel], Channel] = lambda stream, ch: ch  # add group/position
    unit: Callable[[str, str], str] = lambda stream, unit: unit  # fix units a source leaves blank


def default_kind(stream_name: str, unit: str) -> SignalKind:
    return SignalKind.EXTRACELLULAR if is_voltage(unit) else SignalKind.ANALOG


def default_series_name(stream_name: str, kind: SignalKind) -> str:
    return series_prefix(kind) + camel(stream_name)


def series_prefix(kind: SignalKind) -> str:
    """The NWB type a series of this kind is named after: what nwbtypes.series_type makes of it in a voltage unit
    (readers give electrode streams in other units the ANALOG kind)."""
    return series_type(kind, "V").value


DEFAULT_POLICY = StreamPolicy(kind=default_kind, series_name=default_series_name)


@dataclass(frozen=True)
class _Part:
    unit: str
    offset_key: float
    indexes: list[int]


def _split_by_unit(units: Sequence[str], offsets_v: Sequence[float]) -> list[_Part]:
    """Group channel positions: all voltages together, each other unit alone; then by offset."""
    groups: dict[tuple[str, float], list[int]] = defaultdict(list)
    voltage_units = Counter(u for u in units if is_voltage(u))
    common_voltage = voltage_units.most_common(1)[0][0] if voltage_units else ""
    for i, (u, off) in enumerate(zip(units, offsets_v)):
        key_unit = common_voltage if is_voltage(u) else u
        groups[(key_unit, off)].append(i)
    return [_Part(u, off, idx) for (u, off), idx in groups.items()]


def recordings_from_rawio(
    rawio: BaseRawIO,
    policy: StreamPolicy = DEFAULT_POLICY,
    stub_seconds: float | None = None,
) -> list[Recording]:
    """Every signal stream of a parsed rawio as `Recording`s (all blocks and segments)."""
    header = rawio.header
    recordings: list[Recording] = []
    for stream_index, stream in enumerate(header["signal_streams"]):
        stream_name = label(stream["name"])
        chans = header["signal_channels"][header["signal_channels"]["stream_id"] == stream["id"]]
        if len(chans) == 0:
            continue
        units = [policy.unit(stream_name, str(u)) for u in chans["units"]]
        # offsets compared in volts for voltage channels so mixed mV/uV offsets group correctly
        offsets_key = [float(o) * (volt_factor(u) or 1.0) for o, u in zip(chans["offset"], units, strict=True)]
        parts = _split_by_unit(units, offsets_key)
        rate = float(rawio.get_signal_sampling_rate(stream_index))
        dtype = np.dtype(str(chans["dtype"][0]))
        used: set[str] = set()
        for kind, unit, indexes in _series_parts(policy, stream_name, parts, chans, units):
            name = policy.series_name(stream_name, kind)
            if name in used:
                name += camel(unit) or "NoUnit"
            if name in used:
                name += camel(" ".join(label(chans["name"][i]) for i in indexes[:3]))
            used.add(name)
            channels = tuple(policy.channel(stream_name, _channel(chans[i], units[i], unit)) for i in indexes)
            segments = _segments(rawio, stream_index, np.asarray(indexes), dtype, rate, stub_seconds)
            for block_no, block_segments in enumerate(segments):
                suffix = f"Block{block_no + 1}" if len(segments) > 1 else ""
                recordings.append(
                    Recording(
                        name=name + suffix,
                        stream_id=stream_name,
                        kind=kind,
                        unit=unit,
                        sampling_rate_hz=rate,
                        channels=channels,
                        segments=tuple(block_segments),
                        description=f"Stream '{stream_name}' ({len(channels)} channels, {unit or 'no unit'}).",
                    )
                )
    return recordings


def _series_parts(
    policy: StreamPolicy, stream_name: str, parts: list[_Part], chans: Any, units: list[str]
) -> list[tuple[SignalKind, str, list[int]]]:
    """(kind, unit, channel positions) per series. A TimeSeries has one gain, so analog parts split by gain."""
    out: list[tuple[SignalKind, str, list[int]]] = []
    for part in parts:
        kind = policy.kind(stream_name, part.unit)
        if kind is not SignalKind.ANALOG:
            out.append((kind, part.unit, part.indexes))
            continue
        by_gain: dict[float, list[int]] = defaultdict(list)
        for i in part.indexes:
            by_gain[_channel(chans[i], units[i], part.unit).gain].append(i)
        out.extend((kind, part.unit, idx) for idx in by_gain.values())
    return out


def _channel(row: Any, unit: str, part_unit: str) -> Channel:
    gain, offset = float(row["gain"]), float(row["offset"])
    src, dst = volt_factor(unit), volt_factor(part_unit)
    if src is not None and dst is not None and src != dst:
        gain, offset = gain * (src / dst), offset * (src / dst)
    return Channel(id=label(row["id"]), name=label(row["name"]), gain=gain, offset=offset)


def _segments(
    rawio: BaseRawIO,
    stream_index: int,
    channel_indexes: np.ndarray,
    dtype: np.dtype,
    rate: float,
    stub_seconds: float | None,
) -> list[list[Segment]]:
    """Segments of all blocks; blocks are merged when their times follow each other, else kept apart."""
    budget = None if stub_seconds is None else max(1, round(stub_seconds * rate))
    row_bytes = _source_row_bytes(rawio, stream_index, dtype)
    per_block: list[list[Segment]] = []
    for block in range(rawio.block_count()):
        segs: list[Segment] = []
        for seg in range(rawio.segment_count(block)):
            n = int(rawio.get_signal_size(block, seg, stream_index))
            if budget is not None:
                n = min(n, budget)
                budget -= n
            if n == 0:
                continue
            traces = NeoTraces(rawio, block, seg, stream_index, channel_indexes, n, dtype, row_bytes)
            segs.append(Segment(float(rawio.get_signal_t_start(block, seg, stream_index)), traces))
        if segs:
            per_block.append(segs)
    merged = [s for block in per_block for s in block]
    if _ordered(merged, rate):
        return [merged] if merged else []
    return per_block


def _source_row_bytes(rawio: BaseRawIO, stream_index: int, dtype: np.dtype) -> int:
    """Bytes per sample of the file buffer the stream lives in (neo's buffer API), else of the stream."""
    header = rawio.header
    stream = header["signal_streams"][stream_index]
    chans = header["signal_channels"]
    in_stream = chans[chans["stream_id"] == stream["id"]]
    if "buffer_id" in chans.dtype.names and str(stream["buffer_id"]) != "":
        in_stream = chans[chans["buffer_id"] == stream["buffer_id"]]
    return len(in_stream) * dtype.itemsize


def _ordered(segments: list[Segment], rate: float) -> bool:
    """True when no segment starts before the previous one ended (timestamps stay increasing)."""
    return all(gap >= -GAP_TOLERANCE for gap in segment_gaps(segments, rate))
