"""Formats only spikeinterface reads (besides MCS HDF5 in mcs.py)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

from nwbconvert.errors import NwbConvertError, SourceError
from nwbconvert.model import Device, HeaderMetadata, Session, SignalKind
from nwbconvert.provenance import describe_files
from nwbconvert.readers.base import InputKind, Match, ReadOptions, Verified
from nwbconvert.readers.si_adapter import recording_from_si


class IblCompressedReader:
    """SpikeGLX data compressed by IBL's mtscomp: x.ap.cbin + x.ap.ch (+ the SpikeGLX x.ap.meta)."""

    name = "ibl-cbin"
    description = "IBL mtscomp-compressed SpikeGLX file (.cbin + .ch + .meta, via spikeinterface)"
    suffixes = (".cbin", ".ch")
    requires: ClassVar[tuple[tuple[str, str], ...]] = (("mtscomp", "ibl"),)
    verified: ClassVar[Verified] = "unverified"
    input_kind: ClassVar[InputKind] = "file"
    manufacturer: ClassVar[str] = "IMEC / International Brain Laboratory"

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

    def read(self, path: Path, options: ReadOptions) -> Session:
        import spikeinterface
        from spikeinterface.extractors import read_cbin_ibl

        cbin = self.cbin(path)
        band = "LF" if re.search(r"\.lf\.", cbin.name) else "AP"
        kind = SignalKind.LFP if band == "LF" else SignalKind.EXTRACELLULAR
        try:
            recording = recording_from_si(
                read_cbin_ibl(cbin_file_path=cbin), f"ElectricalSeries{band}", band.lower(), kind, options.stub_seconds
            )
        except NwbConvertError:
            raise
        except Exception as exc:
            raise SourceError(
                f"{path}: could not be read as {self.description} ({type(exc).__name__}: {exc}). Check that the "
                ".cbin, .ch and .meta files of the stream lie side by side."
            ) from exc
        return Session(
            reader=self.name,
            reader_version=f"spikeinterface {spikeinterface.__version__} CompressedBinaryIblExtractor",
            source=str(path),
            recordings=(recording,),
            devices=(Device(name="probe", description=self.description, manufacturer=self.manufacturer),),
            header=HeaderMetadata(),
            source_files=describe_files([cbin, cbin.with_suffix(".ch"), cbin.with_suffix(".meta")]),
        )
