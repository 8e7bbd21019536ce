"""Formats only spikeinterface reads (besides MCS HDF5 in mcs.py)."""

from __future__ import annotations

import re
from pathlib import Path

from nwbconvert.model import Recording, SignalKind
from nwbconvert.readers.base import Match, ReadOptions
from nwbconvert.readers.si_adapter import SIReader, recording_from_si


class IblCompressedReader(SIReader):
    """SpikeGLX data compressed by IBL's mtscomp: x.ap.cbin + x.ap.ch (+ the SpikeGLX x.ap.meta)."""

    name = "ibl-cbin"
    description = "IBL mtscomp-compressed SpikeGLX file (.cbin + .ch + .meta, via spikeinterface)"
    suffixes = (".cbin", ".ch")
    requires = (("mtscomp", "ibl"),)
    manufacturer = "IMEC / International Brain Laboratory"
    extractor = "CompressedBinaryIblExtractor"
    device_name = "probe"
    unreadable_advice = "Check that the .cbin, .ch and .meta files of the stream lie side by side."

    @staticmethod
    def cbin(path: Path) -> Path:
        return path.with_suffix(".cbin")

    def probe(self, path: Path) -> Match:
        if not path.is_file() or path.suffix.lower() not in self.suffixes:
            return Match.NO
        cbin = self.cbin(path)
        if cbin.is_file() and cbin.with_suffix(".ch").is_file() and cbin.with_suffix(".meta").is_file():
            return Match.CONTENT
        return Match.SUFFIX

    def recordings(self, path: Path, options: ReadOptions) -> list[Recording]:
        from spikeinterface.extractors import read_cbin_ibl

        cbin = self.cbin(path)
        band = "LF" if re.search(r"\.lf\.", cbin.name) else "AP"
        kind = SignalKind.LFP if band == "LF" else SignalKind.EXTRACELLULAR
        extractor = read_cbin_ibl(cbin_file_path=cbin)
        return [recording_from_si(extractor, f"ElectricalSeries{band}", band.lower(), kind, options.stub_seconds)]

    def source_paths(self, path: Path) -> list[Path]:
        cbin = self.cbin(path)
        return [cbin, cbin.with_suffix(".ch"), cbin.with_suffix(".meta")]
