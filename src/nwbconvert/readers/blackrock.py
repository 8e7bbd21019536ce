"""Blackrock Microsystems file sets (.nev + .ns1-.ns6 sharing one base name)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from nwbconvert.model import HeaderMetadata
from nwbconvert.readers.base import Match, head
from nwbconvert.readers.neo_reader import NeoReader, annotated_start_time

if TYPE_CHECKING:
    from neo.rawio.baserawio import BaseRawIO

SUFFIXES = (".nev", ".ns1", ".ns2", ".ns3", ".ns4", ".ns5", ".ns6")
MAGICS = (b"NEURALEV", b"NEURALCD", b"NEURALSG", b"BREVENTS", b"BRSMPGRP")


def _set_members(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix.lower() in SUFFIXES)
    return sorted(p for p in path.parent.glob(path.stem + ".*") if p.suffix.lower() in SUFFIXES)


class BlackrockReader(NeoReader):
    name = "blackrock"
    description = "Blackrock Microsystems file set (.nev/.nsX)"
    suffixes = SUFFIXES
    verified = "real"  # tests/test_roundtrip.py converts a real file
    input_kind = "file or folder"
    manufacturer = "Blackrock Microsystems"
    rawio_class = "BlackrockRawIO"

    def probe(self, path: Path) -> Match:
        members = _set_members(path)
        if path.is_dir() and len({p.stem for p in members}) != 1:
            return Match.NO
        if any(head(p, 8) in MAGICS for p in members):
            return Match.CONTENT
        return Match.SUFFIX if path.suffix.lower() in SUFFIXES else Match.NO

    def rawio_path(self, path: Path) -> Path:
        return _set_members(path)[0].with_suffix("") if path.is_dir() else path.with_suffix("")

    def source_paths(self, path: Path) -> list[Path]:
        return _set_members(path)

    def header_metadata(self, path: Path, rawio: BaseRawIO) -> HeaderMetadata:
        start = annotated_start_time(rawio)
        # The NEV/NSx specifications store the time origin in UTC.
        return HeaderMetadata(session_start_time=start.replace(tzinfo=dt.timezone.utc) if start else None)
