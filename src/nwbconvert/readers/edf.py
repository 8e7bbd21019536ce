"""EDF/EDF+ and BDF files (read through pyedflib, the `edf` extra)."""

from __future__ import annotations

from pathlib import Path

from nwbconvert.readers.base import Match, head
from nwbconvert.readers.neo_reader import NeoReader


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
