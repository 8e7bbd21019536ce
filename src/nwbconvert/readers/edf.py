"""EDF/EDF+ and BDF files (read through pyedflib, the `edf` extra)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nwbconvert.readers.base import Match, head
from nwbconvert.readers.neo_reader import NeoReader


class EDFReader(NeoReader):
    name = "edf"
    description = "European Data Format file (EDF/EDF+/BDF)"
    suffixes = (".edf", ".bdf")
    verified = "real"  # tests/test_roundtrip.py converts a real file
    input_kind = "file"
    requires = (("pyedflib", "edf"),)

    def probe(self, path: Path) -> Match:
        if path.is_file() and head(path, 8) in (b"0       ", b"\xffBIOSEMI"):
            return Match.CONTENT
        return Match.SUFFIX if path.suffix.lower() in self.suffixes else Match.NO

    def open_rawio(self, path: Path) -> Any:
        from neo.rawio import EDFRawIO

        return EDFRawIO(filename=str(path))
