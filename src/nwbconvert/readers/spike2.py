"""CED Spike2 .smr files (the 32-bit format; .smrx needs CED's sonpy and is not covered)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from nwbconvert.model import SignalKind
from nwbconvert.readers.base import Match, head
from nwbconvert.readers.neo_adapter import DEFAULT_POLICY, StreamPolicy, default_series_name
from nwbconvert.readers.neo_reader import NeoReader

if TYPE_CHECKING:
    from neo.rawio.baserawio import BaseRawIO


class Spike2Reader(NeoReader):
    name = "spike2"
    description = "CED Spike2 .smr file"
    suffixes = (".smr",)
    verified = "real"  # tests/test_roundtrip.py converts a real file
    input_kind = "file"
    manufacturer = "Cambridge Electronic Design"
    rawio_class = "Spike2RawIO"

    def waveform_unit(self, rawio: BaseRawIO, unit: str) -> str:
        return "V" if unit.strip().lower() in ("volt", "volts") else unit

    def probe(self, path: Path) -> Match:
        if path.is_file() and head(path, 12)[2:12] == b"(C) CED 87":
            return Match.CONTENT
        return Match.SUFFIX if path.suffix.lower() == ".smr" else Match.NO

    def policy(self, path: Path, rawio: BaseRawIO) -> StreamPolicy:
        # Spike2 streams are called "Signal stream N"; a stream of one channel is named after it.
        header = rawio.header
        names: dict[str, str] = {}
        for stream in header["signal_streams"]:
            chans = header["signal_channels"][header["signal_channels"]["stream_id"] == stream["id"]]
            if len(chans) == 1:
                names[str(stream["name"])] = str(chans["name"][0])

        def series_name(stream_name: str, kind: SignalKind) -> str:
            return default_series_name(names.get(stream_name, stream_name), kind)

        return StreamPolicy(kind=DEFAULT_POLICY.kind, series_name=series_name)
