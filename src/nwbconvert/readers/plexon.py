"""Plexon .plx files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from nwbconvert.readers.base import Match, head
from nwbconvert.readers.neo_adapter import DEFAULT_POLICY, StreamPolicy
from nwbconvert.readers.neo_reader import NeoReader

if TYPE_CHECKING:
    from neo.rawio.baserawio import BaseRawIO


def _unit(stream_name: str, unit: str) -> str:
    # neo leaves slow-channel units blank; its gain comes from SlowMaxMagnitudeMV, so values are in mV.
    return unit or "mV"


class PlexonReader(NeoReader):
    name = "plexon"
    description = "Plexon .plx file"
    suffixes = (".plx",)
    verified = "real"  # tests/test_roundtrip.py converts a real file
    input_kind = "file"
    manufacturer = "Plexon"
    link_units_by_number = True

    def waveform_unit(self, rawio: BaseRawIO, unit: str) -> str:
        # neo's waveform gain: the header's millivolt range / 1000 (volts) before file version 105; from 105 on
        # it divides by the preamp gain instead, leaving millivolts.
        version = int(rawio.raw_annotations["blocks"][0].get("plexon_version", 0))
        return unit or ("mV" if version >= 105 else "V")

    def probe(self, path: Path) -> Match:
        if path.is_file() and head(path, 4) == b"PLEX":
            return Match.CONTENT
        return Match.SUFFIX if path.suffix.lower() == ".plx" else Match.NO

    def open_rawio(self, path: Path) -> BaseRawIO:  # without neo's progress bars
        from neo.rawio import PlexonRawIO

        return PlexonRawIO(filename=str(path), progress_bar=False)

    def policy(self, path: Path, rawio: BaseRawIO) -> StreamPolicy:
        return StreamPolicy(kind=DEFAULT_POLICY.kind, series_name=DEFAULT_POLICY.series_name, unit=_unit)
