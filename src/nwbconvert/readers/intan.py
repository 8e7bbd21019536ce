"""Intan RHD2000 / RHS2000 files (one .rhd/.rhs file, or a folder with info.rhd)."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import TYPE_CHECKING

from nwbconvert.model import SignalKind
from nwbconvert.readers.base import Match, head
from nwbconvert.readers.neo_adapter import StreamPolicy, default_series_name
from nwbconvert.readers.neo_reader import NeoReader

if TYPE_CHECKING:
    from neo.rawio.baserawio import BaseRawIO

RHD_MAGIC = 0xC6912702
RHS_MAGIC = 0xD69127AC


def _magic(path: Path) -> int | None:
    data = head(path, 4)
    return struct.unpack("<I", data)[0] if len(data) == 4 else None


def _main_file(path: Path) -> Path:
    if path.is_dir():
        for name in ("info.rhd", "info.rhs"):
            if (path / name).exists():
                return path / name
    return path


def _kind(stream_name: str, unit: str) -> SignalKind:
    return SignalKind.EXTRACELLULAR if "amplifier" in stream_name.lower() else SignalKind.ANALOG


class IntanReader(NeoReader):
    name = "intan"
    description = "Intan RHD2000/RHS2000 recording"
    suffixes = (".rhd", ".rhs")
    verified = "real"  # tests/test_roundtrip.py converts a real file
    input_kind = "file or folder"
    manufacturer = "Intan Technologies"
    rawio_class = "IntanRawIO"

    def probe(self, path: Path) -> Match:
        target = _main_file(path)
        if target.is_file() and _magic(target) in (RHD_MAGIC, RHS_MAGIC):
            return Match.CONTENT
        return Match.SUFFIX if path.suffix.lower() in self.suffixes else Match.NO

    def rawio_path(self, path: Path) -> Path:
        return _main_file(path)

    def policy(self, path: Path, rawio: BaseRawIO) -> StreamPolicy:
        return StreamPolicy(kind=_kind, series_name=_series_name)


def _series_name(stream_name: str, kind: SignalKind) -> str:
    # "RHD2000 amplifier channel" -> "ElectricalSeriesAmplifier"; aux -> "TimeSeriesAuxiliaryInput"
    words = stream_name.replace("channel", "").split()
    return default_series_name(" ".join(w for w in words if not w.upper().startswith("RH")), kind)
