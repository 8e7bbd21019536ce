"""BrainVision recordings (.vhdr header with .eeg data and .vmrk markers)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from nwbconvert.readers.base import Match, head
from nwbconvert.readers.neo_reader import NeoReader

if TYPE_CHECKING:
    from neo.rawio.baserawio import BaseRawIO

HEADER_STARTS = (b"Brain Vision Data Exchange Header File", b"BrainVision Data Exchange Header File")


def _header_file(path: Path) -> Path | None:
    if path.is_dir():
        found = sorted(path.glob("*.vhdr"))
        return found[0] if len(found) == 1 else None
    candidate = path.with_suffix(".vhdr")
    return candidate if candidate.exists() else None


class BrainVisionReader(NeoReader):
    name = "brainvision"
    description = "BrainVision recording (.vhdr/.eeg/.vmrk)"
    suffixes = (".vhdr", ".vmrk", ".eeg")
    verified = "real"  # tests/test_roundtrip.py converts a real file
    input_kind = "file or folder"
    manufacturer = "Brain Products"
    rawio_class = "BrainVisionRawIO"

    def probe(self, path: Path) -> Match:
        header = _header_file(path)
        if header is not None and head(header, 64).lstrip(b"\xef\xbb\xbf").startswith(HEADER_STARTS):
            return Match.CONTENT
        return Match.SUFFIX if path.suffix.lower() in self.suffixes else Match.NO

    def rawio_path(self, path: Path) -> Path:
        return _header_file(path) or path

    def open_rawio(self, path: Path) -> BaseRawIO:
        """neo's reader over the header as the format defines it: Latin-1 / Windows-1252 headers, a
        `[Common infos]` section, and µV for channels without a unit (see brainvision_header)."""
        from nwbconvert.readers.brainvision_header import HeaderRawIO

        return HeaderRawIO(filename=str(self.rawio_path(path)))

    def source_paths(self, path: Path) -> list[Path]:
        header = _header_file(path)
        assert header is not None
        return [header.with_suffix(s) for s in self.suffixes if header.with_suffix(s).exists()]
