"""Headerless binary files of interleaved samples; the layout comes from `--set source.KEY=VALUE`.

Nothing in such a file says what it holds, so the reader never matches by detection: it runs only
with `--format raw-binary` and the required settings. Sample-major files (time_axis=0, the usual
`samples x channels`) go through neo's RawBinarySignalRawIO; channel-major ones (time_axis=1) through
spikeinterface's BinaryRecordingExtractor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nwbconvert.errors import SourceError, UsageError
from nwbconvert.model import Channel, Device, HeaderMetadata, Recording, Segment, Session
from nwbconvert.provenance import describe_files
from nwbconvert.readers.base import Match, ReaderBase, ReadOptions
from nwbconvert.readers.neo_adapter import StreamPolicy, default_kind, default_series_name
from nwbconvert.readers.neo_reader import NeoReader
from nwbconvert.readers.si_adapter import SITraces

if TYPE_CHECKING:
    from neo.rawio.baserawio import BaseRawIO

REQUIRED = ("sampling_rate", "dtype", "channels")
OPTIONAL = ("gain", "offset", "unit", "time_axis", "header_bytes")
EXAMPLE = "--set source.sampling_rate=30000 --set source.dtype=int16 --set source.channels=64"


@dataclass(frozen=True)
class RawBinaryLayout:
    """What a headerless file holds: raw value x gain + offset is the value in `unit`."""

    sampling_rate_hz: float
    dtype: str
    n_channels: int
    gain: float = 1.0
    offset: float = 0.0
    unit: str = ""
    time_axis: int = 0
    header_bytes: int = 0

    @classmethod
    def from_options(cls, options: ReadOptions, path: Path) -> RawBinaryLayout:
        """The layout from `source.*` settings; a UsageError names every missing or invalid key."""
        values = {key: options.reader_option(key) for key in REQUIRED + OPTIONAL}
        missing = [f"source.{k}" for k in REQUIRED if not values[k]]
        if missing:
            raise UsageError(
                f"{path}: a raw binary file says nothing about its layout; set {', '.join(missing)}, "
                f"e.g. {EXAMPLE} (optional: {', '.join('source.' + k for k in OPTIONAL)})."
            )
        problems: list[str] = []

        def number(key: str, kind: type, default: float, positive: bool = False) -> Any:
            raw = values[key]
            if raw is None or raw == "":
                return default
            try:
                value = kind(raw)
            except ValueError:
                problems.append(f"source.{key}={raw} is not {'an integer' if kind is int else 'a number'}")
                return default
            if not math.isfinite(value):
                problems.append(f"source.{key}={raw} must be a finite number")
                return default
            if positive and value <= 0:
                problems.append(f"source.{key}={raw} must be above 0")
            return value

        rate = number("sampling_rate", float, 1.0, positive=True)
        channels = number("channels", int, 1, positive=True)
        gain = number("gain", float, 1.0)
        offset = number("offset", float, 0.0)
        time_axis = number("time_axis", int, 0)
        header_bytes = number("header_bytes", int, 0)
        if time_axis not in (0, 1):
            problems.append(f"source.time_axis={values['time_axis']} must be 0 (samples x channels) or 1")
        if header_bytes < 0:
            problems.append(f"source.header_bytes={values['header_bytes']} must be 0 or more")
        dtype = str(values["dtype"])
        try:
            if np.dtype(dtype).kind not in "iuf":
                problems.append(f"source.dtype={dtype} is not an integer or float type")
        except TypeError:
            problems.append(f"source.dtype={dtype} is not a numpy dtype (int16, uint16, int32, float32, ...)")
        if problems:
            raise UsageError(f"{path}: invalid raw binary settings: {'; '.join(problems)}. Example: {EXAMPLE}.")
        return cls(rate, np.dtype(dtype).name, channels, gain, offset, values["unit"] or "", time_axis, header_bytes)


class _SampleMajorFile(NeoReader):
    """One raw binary file with a known layout, read by neo (not registered: RawBinaryReader makes one per read)."""

    name = "raw-binary"
    description = "raw binary file"
    suffixes = (".bin", ".dat", ".raw")

    def __init__(self, layout: RawBinaryLayout) -> None:
        self.layout = layout

    def probe(self, path: Path) -> Match:
        return Match.NO

    def open_rawio(self, path: Path) -> BaseRawIO:
        from neo.rawio import RawBinarySignalRawIO

        lay = self.layout
        return RawBinarySignalRawIO(
            filename=str(path),
            dtype=lay.dtype,
            sampling_rate=lay.sampling_rate_hz,
            nb_channel=lay.n_channels,
            signal_gain=lay.gain,
            signal_offset=lay.offset,
            bytesoffset=lay.header_bytes,
        )

    def policy(self, path: Path, rawio: BaseRawIO) -> StreamPolicy:
        unit = self.layout.unit
        return StreamPolicy(kind=default_kind, series_name=default_series_name, unit=lambda stream, _: unit)

    def header_metadata(self, path: Path, rawio: BaseRawIO) -> HeaderMetadata:
        return HeaderMetadata()


class RawBinaryReader(ReaderBase):
    name = "raw-binary"
    description = "Headerless binary samples (layout from --set source.*)"
    suffixes = (".bin", ".dat", ".raw")
    verified = "generated"
    note = "--format raw-binary and --set source.sampling_rate/dtype/channels"
    source_options = REQUIRED + OPTIONAL

    def probe(self, path: Path) -> Match:
        return Match.NO  # nothing in the file identifies it: only --format raw-binary chooses this reader

    def read(self, path: Path, options: ReadOptions) -> Session:
        if not path.is_file():
            raise SourceError(f"{path}: a raw binary source must be one file, not a folder.")
        layout = RawBinaryLayout.from_options(options, path)
        self._check_size(path, layout)
        if layout.time_axis == 0:
            return _SampleMajorFile(layout).read(path, options)
        return self._channel_major(path, layout, options)

    @staticmethod
    def _check_size(path: Path, layout: RawBinaryLayout) -> None:
        row = np.dtype(layout.dtype).itemsize * layout.n_channels
        body = path.stat().st_size - layout.header_bytes
        if body < row or body % row:
            raise SourceError(
                f"{path}: {body} bytes after a {layout.header_bytes}-byte header are not a whole number of "
                f"samples of {layout.n_channels} {layout.dtype} channels ({row} bytes each). Check "
                "source.channels, source.dtype and source.header_bytes."
            )

    def _channel_major(self, path: Path, layout: RawBinaryLayout, options: ReadOptions) -> Session:
        import spikeinterface
        from spikeinterface.core import BinaryRecordingExtractor

        si = BinaryRecordingExtractor(
            file_paths=[path],
            sampling_frequency=layout.sampling_rate_hz,
            dtype=layout.dtype,
            num_channels=layout.n_channels,
            time_axis=1,
            file_offset=layout.header_bytes,
        )
        n = int(si.get_num_samples(0))
        if options.stub_seconds is not None:
            n = min(n, max(1, round(options.stub_seconds * layout.sampling_rate_hz)))
        channels = tuple(
            Channel(id=str(c), name=f"ch{c}", gain=layout.gain, offset=layout.offset) for c in range(layout.n_channels)
        )
        kind = default_kind("Signals", layout.unit)
        recording = Recording(
            name=default_series_name("Signals", kind),
            stream_id="Signals",
            kind=kind,
            unit=layout.unit,
            sampling_rate_hz=layout.sampling_rate_hz,
            channels=channels,
            segments=(Segment(0.0, SITraces(si, 0, n)),),
            description=f"Raw binary file, channel-major ({layout.n_channels} channels, {layout.unit or 'no unit'}).",
        )
        return Session(
            reader=self.name,
            reader_version=f"spikeinterface {spikeinterface.__version__} BinaryRecordingExtractor",
            source=str(path),
            recordings=(recording,),
            devices=(Device(name=self.name, description=self.description, manufacturer=""),),
            header=HeaderMetadata(),
            source_files=describe_files([path]),
        )
