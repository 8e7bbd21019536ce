"""EDF/EDF+ and BDF files (read through pyedflib, the `edf` extra)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from nwbconvert.model import SignalKind
from nwbconvert.readers.base import Match, head
from nwbconvert.readers.neo_adapter import DEFAULT_POLICY, StreamPolicy, default_series_name, series_prefix
from nwbconvert.readers.neo_reader import NeoReader

if TYPE_CHECKING:
    from neo.rawio.baserawio import BaseRawIO

_RATE = re.compile(r"\d+(?:\.\d*)?(?:[eE][-+]?\d+)?")


def rate_label(rate: float) -> str:
    """512.0 -> '512', 0.5 -> '0p5', 1e-07 -> '1em07': the rate as NWB names can hold it."""
    text = repr(float(rate))
    text = text[:-2] if text.endswith(".0") else text
    return text.replace(".", "p").replace("-", "m").replace("+", "")


def series_name(stream_name: str, kind: SignalKind) -> str:
    """neo names an EDF stream after its one sampling rate ('stream ((512.0,) Hz)' in neo 0.14, where camel case
    made 'Stream5120Hz'): the series is the type and that rate, e.g. ElectricalSeries512Hz."""
    found = _RATE.search(stream_name)
    if found is None:
        return default_series_name(stream_name, kind)
    return f"{series_prefix(kind)}{rate_label(float(found.group()))}Hz"


class EDFReader(NeoReader):
    name = "edf"
    description = "European Data Format file (EDF/EDF+/BDF)"
    suffixes = (".edf", ".bdf")
    verified = "real"  # tests/test_roundtrip.py converts a real file
    input_kind = "file"
    requires = (("pyedflib", "edf"),)
    rawio_class = "EDFRawIO"

    def probe(self, path: Path) -> Match:
        if path.is_file() and head(path, 8) in (b"0       ", b"\xffBIOSEMI"):
            return Match.CONTENT
        return Match.SUFFIX if path.suffix.lower() in self.suffixes else Match.NO

    def policy(self, path: Path, rawio: BaseRawIO) -> StreamPolicy:
        return StreamPolicy(kind=DEFAULT_POLICY.kind, series_name=series_name)
