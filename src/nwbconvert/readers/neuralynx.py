"""Neuralynx folders (.ncs continuous channels, with .nev events beside them)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from nwbconvert.model import HeaderMetadata
from nwbconvert.readers.base import Match, head
from nwbconvert.readers.neo_reader import NeoReader

if TYPE_CHECKING:
    from neo.rawio.baserawio import BaseRawIO

NCS_HEADER = b"######## Neuralynx"


def _ncs_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix.lower() == ".ncs")
    return [path] if path.suffix.lower() == ".ncs" else []


class NeuralynxReader(NeoReader):
    name = "neuralynx"
    description = "Neuralynx recording folder (.ncs/.nev)"
    suffixes = (".ncs", ".nev", ".nse", ".ntt")
    verified = "real"  # tests/test_roundtrip.py converts a real file
    input_kind = "file or folder"
    manufacturer = "Neuralynx"

    def probe(self, path: Path) -> Match:
        files = _ncs_files(path)
        if files and all(head(f, len(NCS_HEADER)) == NCS_HEADER for f in files[:4]):
            return Match.CONTENT
        return Match.SUFFIX if path.suffix.lower() == ".ncs" else Match.NO

    def open_rawio(self, path: Path) -> BaseRawIO:  # a single .ncs: neo takes its folder and the file's name
        from neo.rawio import NeuralynxRawIO

        if path.is_dir():
            return NeuralynxRawIO(dirname=str(path))
        return NeuralynxRawIO(dirname=str(path.parent), include_filenames=[path.name])

    def source_paths(self, path: Path) -> list[Path]:
        folder = path if path.is_dir() else path.parent
        return [p for p in folder.iterdir() if p.suffix.lower() in self.suffixes] if path.is_dir() else [path]

    def header_metadata(self, path: Path, rawio: BaseRawIO) -> HeaderMetadata:
        # 'TimeCreated' of the .ncs headers, local time of the acquisition machine
        signals = rawio.raw_annotations["blocks"][0]["segments"][0]["signals"]
        opened = signals[0]["__array_annotations__"].get("recording_opened") if signals else None
        first = opened[0] if opened is not None and len(opened) else None
        return HeaderMetadata(session_start_time=first if isinstance(first, dt.datetime) else None)
