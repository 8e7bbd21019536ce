"""Readers for the remaining neo rawios: each is a few class attributes, a content probe and the rawio to open.

Every reader states its file layout (`suffixes`, `input_kind`), its optional packages (`requires`: import
name, pip extra) and what a test converts (`verified`). `probe` decides on content wherever that is cheap:
magic bytes, HDF5 groups and attributes, the sibling files a format cannot do without. A suffix alone is
answered with Match.SUFFIX only where no other reader claims it, never for shared ones (.bin, .dat, .h5, .eeg).
"""

from __future__ import annotations

import re
import struct
import sys
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

from nwbconvert.model import Channel, SignalKind
from nwbconvert.readers.base import InputKind, Match, Verified, head, walk_files
from nwbconvert.readers.neo_adapter import DEFAULT_POLICY, StreamPolicy
from nwbconvert.readers.neo_reader import NeoReader

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


class CatalogReader(NeoReader):
    """A neo rawio with the attributes `nwbconvert formats` shows."""

    verified: ClassVar[Verified] = "unverified"
    input_kind: ClassVar[InputKind] = "file"
    note: ClassVar[str] = ""  # what else it needs beyond Python packages

    def suffix_match(self, path: Path) -> Match:
        return Match.SUFFIX if path.is_file() and path.suffix.lower() in self.suffixes else Match.NO


@lru_cache(maxsize=16)
def _hdf5_root(path: Path, mtime_ns: int) -> tuple[frozenset[str], dict[str, str]]:
    import h5py

    try:
        with h5py.File(path, "r") as f:
            attrs = {}
            for key, value in f.attrs.items():
                attrs[key] = value.decode(errors="replace") if isinstance(value, bytes) else str(value)
            return frozenset(f.keys()), attrs
    except (OSError, ValueError):
        return frozenset(), {}


def hdf5_root(path: Path) -> tuple[frozenset[str], dict[str, str]]:
    """Names of the root groups/datasets and the root attributes of an HDF5 file (empty if it is none)."""
    if not path.is_file() or head(path, 8) != HDF5_MAGIC:
        return frozenset(), {}
    return _hdf5_root(path, path.stat().st_mtime_ns)


def _sibling(path: Path, suffix: str) -> Path | None:
    candidate = path.with_suffix(suffix)
    return candidate if candidate.is_file() else None


class AlphaOmegaReader(CatalogReader):
    name = "alphaomega"
    description = "AlphaOmega AlphaLab SnR / AlphaRS folder (.mpx)"
    suffixes = (".mpx", ".lsx")
    manufacturer = "Alpha Omega"
    input_kind = "file or folder"

    @staticmethod
    def folder(path: Path) -> Path:
        return path if path.is_dir() else path.parent

    def probe(self, path: Path) -> Match:
        mpx = sorted(self.folder(path).glob("*.mpx")) if path.is_dir() or path.suffix.lower() in self.suffixes else []
        # every MPX file starts with a header block of type 'h' and length 60
        if mpx and head(mpx[0], 3) == struct.pack("<Hc", 60, b"h"):
            return Match.CONTENT
        return self.suffix_match(path)

    def open_rawio(self, path: Path) -> Any:
        from neo.rawio import AlphaOmegaRawIO

        return AlphaOmegaRawIO(dirname=str(self.folder(path)))

    def source_paths(self, path: Path) -> list[Path]:
        return sorted(p for p in self.folder(path).iterdir() if p.suffix.lower() in self.suffixes)


class AxonaReader(CatalogReader):
    name = "axona"
    description = "Axona DacqUSB recording (.set + .bin)"
    suffixes = (".set", ".bin")
    manufacturer = "Axona"

    def probe(self, path: Path) -> Match:
        settings = _sibling(path, ".set") if path.is_file() else None
        if settings is not None and head(settings, 10) == b"trial_date":
            return Match.CONTENT
        return Match.NO  # .bin is shared; without its .set nothing says Axona

    def open_rawio(self, path: Path) -> Any:
        from neo.rawio import AxonaRawIO

        return AxonaRawIO(filename=str(path.with_suffix(".set")))

    def source_paths(self, path: Path) -> list[Path]:
        return sorted(p for p in path.parent.glob(path.stem + ".*") if p.is_file())


class BiocamReader(CatalogReader):
    name = "biocam"
    description = "3Brain BioCAM recording (.brw, HDF5)"
    suffixes = (".brw", ".h5")
    manufacturer = "3Brain"
    verified = "generated"  # tests/test_formats.py converts a file nwbconvert.synthetic writes

    def probe(self, path: Path) -> Match:
        keys, _ = hdf5_root(path)
        if "3BRecInfo" in keys or "ExperimentSettings" in keys or "ExperimentInfo" in keys:
            return Match.CONTENT
        return Match.SUFFIX if path.is_file() and path.suffix.lower() == ".brw" else Match.NO

    def open_rawio(self, path: Path) -> Any:
        from neo.rawio import BiocamRawIO

        return BiocamRawIO(filename=str(path))


class CedSmrxReader(CatalogReader):
    name = "ced-smrx"
    description = "CED Spike2 64-bit file (.smrx, through CED's sonpy)"
    suffixes = (".smrx",)
    manufacturer = "Cambridge Electronic Design"
    requires = (("sonpy", "ced"),)

    def probe(self, path: Path) -> Match:
        return self.suffix_match(path)  # .smr stays with the spike2 reader

    def open_rawio(self, path: Path) -> Any:
        from neo.rawio import CedRawIO

        return CedRawIO(filename=str(path))


class ElanReader(CatalogReader):
    name = "elan"
    description = "Elan EEG recording (.eeg + .eeg.ent + .eeg.pos)"
    suffixes = (".eeg", ".ent", ".pos")
    manufacturer = "Elan (Inserm Lyon)"
    verified = "generated"  # tests/test_formats.py converts a file nwbconvert.synthetic writes

    @staticmethod
    def data_file(path: Path) -> Path:
        # x.eeg, x.eeg.ent or x.eeg.pos -> x.eeg
        return path.with_suffix("") if path.suffix.lower() in (".ent", ".pos") else path

    def probe(self, path: Path) -> Match:
        data = self.data_file(path)
        ent = data.with_name(data.name + ".ent")
        if data.suffix.lower() == ".eeg" and data.is_file() and head(ent, 3).rstrip() in (b"V2", b"V3"):
            return Match.CONTENT
        return Match.NO  # .eeg is shared with BrainVision and Neuroscope

    def open_rawio(self, path: Path) -> Any:
        from neo.rawio import ElanRawIO

        return ElanRawIO(filename=str(self.data_file(path)))

    def source_paths(self, path: Path) -> list[Path]:
        data = self.data_file(path)
        return [p for p in (data, data.with_name(data.name + ".ent"), data.with_name(data.name + ".pos")) if p.exists()]


class MaxwellReader(CatalogReader):
    name = "maxwell"
    description = "MaxWell Biosystems MaxOne/MaxTwo recording (.raw.h5)"
    suffixes = (".h5",)
    manufacturer = "MaxWell Biosystems"
    verified = "generated"  # tests/test_formats.py converts a file nwbconvert.synthetic writes
    note = "compressed files need MaxWell's HDF5 plugin (HDF5_PLUGIN_PATH)"

    def probe(self, path: Path) -> Match:
        keys, _ = hdf5_root(path)
        return Match.CONTENT if "version" in keys and ("sig" in keys or "wells" in keys) else Match.NO

    def open_rawio(self, path: Path) -> Any:
        from neo.rawio import MaxwellRawIO

        return MaxwellRawIO(filename=str(path))


class MEArecReader(CatalogReader):
    name = "mearec"
    description = "MEArec simulated recording (.h5)"
    suffixes = (".h5",)
    manufacturer = "MEArec (simulation)"
    requires = (("MEArec", "mearec"),)

    def probe(self, path: Path) -> Match:
        keys, _ = hdf5_root(path)
        return Match.CONTENT if {"recordings", "channel_positions"} <= keys else Match.NO

    def open_rawio(self, path: Path) -> Any:
        from neo.rawio import MEArecRawIO

        return MEArecRawIO(filename=str(path))


class MedReader(CatalogReader):
    name = "med"
    description = "Multiscale Electrophysiology Data session (.medd folder)"
    suffixes = (".medd", ".rdat", ".ridx")
    manufacturer = "Dark Horse Neuro"
    requires = (("dhn_med_py", "med"),)
    input_kind = "folder"

    @staticmethod
    def session(path: Path) -> Path | None:
        for candidate in (path, *path.parents):
            if candidate.suffix.lower() == ".medd" and candidate.is_dir():
                return candidate
        return None

    def probe(self, path: Path) -> Match:
        return Match.CONTENT if self.session(path) is not None else Match.NO

    def open_rawio(self, path: Path) -> Any:
        from neo.rawio import MedRawIO

        return MedRawIO(dirname=str(self.session(path)))

    def source_paths(self, path: Path) -> list[Path]:
        session = self.session(path)
        return list(walk_files(session, max_depth=3)) if session else []


class MicromedReader(CatalogReader):
    name = "micromed"
    description = "Micromed System Plus EEG file (.trc)"
    suffixes = (".trc",)
    manufacturer = "Micromed"

    def probe(self, path: Path) -> Match:
        if path.is_file() and path.suffix.lower() == ".trc":
            header = head(path, 176)
            # header type 4 at byte 175; the title at the start names MICROMED
            if b"MICROMED" in header[:32].upper() or (len(header) == 176 and header[175] == 4):
                return Match.CONTENT
        return self.suffix_match(path)

    def open_rawio(self, path: Path) -> Any:
        from neo.rawio import MicromedRawIO

        return MicromedRawIO(filename=str(path))


class NeuroExplorerReader(CatalogReader):
    name = "neuroexplorer"
    description = "NeuroExplorer data file (.nex)"
    suffixes = (".nex",)
    manufacturer = "Nex Technologies"

    def probe(self, path: Path) -> Match:
        if path.is_file() and head(path, 4) == b"NEX1":
            return Match.CONTENT
        return self.suffix_match(path)

    def open_rawio(self, path: Path) -> Any:
        from neo.rawio import NeuroExplorerRawIO

        return NeuroExplorerRawIO(filename=str(path))


class NeuroNexusReader(CatalogReader):
    name = "neuronexus"
    description = "NeuroNexus Allego recording (.xdat.json + _data.xdat + _timestamp.xdat)"
    suffixes = (".json", ".xdat")
    manufacturer = "NeuroNexus"
    verified = "generated"  # tests/test_formats.py converts a file nwbconvert.synthetic writes

    @staticmethod
    def metadata_file(path: Path) -> Path | None:
        """x.xdat.json for x.xdat.json, x_data.xdat or x_timestamp.xdat."""
        if path.name.endswith(".xdat.json"):
            return path if path.is_file() else None
        base = re.sub(r"_(data|timestamp)\.xdat$", "", path.name)
        candidate = path.with_name(base + ".xdat.json")
        return candidate if base != path.name and candidate.is_file() else None

    def probe(self, path: Path) -> Match:
        meta = self.metadata_file(path) if path.is_file() else None
        if meta is not None and meta.with_name(meta.name[: -len(".xdat.json")] + "_data.xdat").is_file():
            return Match.CONTENT
        return Match.NO

    def open_rawio(self, path: Path) -> Any:
        from neo.rawio import NeuroNexusRawIO

        return NeuroNexusRawIO(filename=str(self.metadata_file(path)))

    def source_paths(self, path: Path) -> list[Path]:
        meta = self.metadata_file(path)
        assert meta is not None
        stem = meta.name[: -len(".xdat.json")]
        return [meta, meta.with_name(stem + "_data.xdat"), meta.with_name(stem + "_timestamp.xdat")]


def neuroscope_xml(path: Path) -> Path | None:
    """The Neuroscope parameter file for a .xml/.dat/.lfp/.eeg path or a session folder, if any."""
    if path.is_dir():
        found = [p for p in sorted(path.glob("*.xml")) if _is_neuroscope_xml(p) and _neuroscope_data(p)]
        return found[0] if len(found) == 1 else None
    xml = path if path.suffix.lower() == ".xml" else path.with_suffix(".xml")
    return xml if xml.is_file() and _is_neuroscope_xml(xml) else None


def _is_neuroscope_xml(xml: Path) -> bool:
    text = head(xml, 4096)
    return b"<parameters" in text and b"<acquisitionSystem>" in text


def _neuroscope_data(xml: Path) -> Path | None:
    for suffix in (".dat", ".lfp", ".eeg"):
        if xml.with_suffix(suffix).is_file():
            return xml.with_suffix(suffix)
    return None


def _neuroscope_channel(stream_name: str, ch: Channel) -> Channel:
    # neo names channels "ch{index}grp{group}" after the xml's anatomical groups
    found = re.search(r"grp(\d+)$", ch.name)
    return replace(ch, group=f"group{found.group(1)}") if found else ch


class NeuroscopeReader(CatalogReader):
    name = "neuroscope"
    description = "Neuroscope / Klusters session (.xml + .dat, .lfp or .eeg)"
    suffixes = (".xml", ".dat", ".lfp", ".eeg")
    manufacturer = "Neuroscope"
    input_kind = "file or folder"
    verified = "generated"  # tests/test_formats.py converts a file nwbconvert.synthetic writes

    def probe(self, path: Path) -> Match:
        xml = neuroscope_xml(path)
        if xml is None:
            return Match.NO
        if path.is_file() and path.suffix.lower() != ".xml":
            return Match.CONTENT  # the data file itself, its parameter file beside it
        return Match.CONTENT if _neuroscope_data(xml) is not None else Match.NO

    def open_rawio(self, path: Path) -> Any:
        from neo.rawio import NeuroScopeRawIO

        xml = neuroscope_xml(path)
        assert xml is not None
        data = path if path.is_file() and path.suffix.lower() != ".xml" else _neuroscope_data(xml)
        return NeuroScopeRawIO(filename=str(xml), binary_file=str(data))

    def policy(self, path: Path, rawio: Any) -> StreamPolicy:
        return replace(DEFAULT_POLICY, channel=_neuroscope_channel)

    def source_paths(self, path: Path) -> list[Path]:
        xml = neuroscope_xml(path)
        assert xml is not None
        data = path if path.is_file() and path.suffix.lower() != ".xml" else _neuroscope_data(xml)
        return [xml, *([data] if data else [])]


class NixReader(CatalogReader):
    name = "nix"
    description = "NIX file written by neo (.nix, HDF5)"
    suffixes = (".nix",)
    manufacturer = "G-Node NIX"
    requires = (("nixio", "nix"),)

    def probe(self, path: Path) -> Match:
        _, attrs = hdf5_root(path)
        if attrs.get("format") == "nix":
            return Match.CONTENT
        return self.suffix_match(path)

    def open_rawio(self, path: Path) -> Any:
        from neo.rawio import NIXRawIO

        return NIXRawIO(filename=str(path))


class Plexon2Reader(CatalogReader):
    name = "plexon2"
    description = "Plexon PL2 file (.pl2)"
    suffixes = (".pl2",)
    manufacturer = "Plexon"
    # Plexon's PL2FileReader DLL (neo downloads it on first use); off Windows it runs under wine via zugbruecke
    requires = () if sys.platform == "win32" else (("zugbruecke", "plexon2"),)
    note = "Plexon's PL2FileReader DLL, downloaded by neo on first use; off Windows also wine"

    def probe(self, path: Path) -> Match:
        return self.suffix_match(path)

    def open_rawio(self, path: Path) -> Any:
        from neo.rawio import Plexon2RawIO

        return Plexon2RawIO(filename=str(path))


class SpikeGadgetsReader(CatalogReader):
    name = "spikegadgets"
    description = "SpikeGadgets Trodes recording (.rec)"
    suffixes = (".rec",)
    manufacturer = "SpikeGadgets"

    def probe(self, path: Path) -> Match:
        if path.is_file() and b"<Configuration" in head(path, 4096):
            return Match.CONTENT
        return self.suffix_match(path)

    def open_rawio(self, path: Path) -> Any:
        from neo.rawio import SpikeGadgetsRawIO

        return SpikeGadgetsRawIO(filename=str(path))


TDT_BLOCK = {".tbk", ".tdx", ".tev", ".tsq"}


def _is_tdt_block(folder: Path) -> bool:
    try:
        return {p.suffix.lower() for p in folder.iterdir()} >= TDT_BLOCK
    except OSError:
        return False


class TdtReader(CatalogReader):
    name = "tdt"
    description = "Tucker-Davis Technologies tank or block (.tsq/.tev/.tbk/.tdx, .sev)"
    suffixes = (".tsq", ".tev", ".tbk", ".tdx", ".tnt", ".sev")
    manufacturer = "Tucker-Davis Technologies"
    input_kind = "file or folder"

    def probe(self, path: Path) -> Match:
        if path.is_dir():
            blocks = [path] if _is_tdt_block(path) else [p for p in sorted(path.iterdir()) if p.is_dir()]
            return Match.CONTENT if any(_is_tdt_block(b) for b in blocks) else Match.NO
        if path.suffix.lower() in self.suffixes and _is_tdt_block(path.parent):
            return Match.CONTENT
        return self.suffix_match(path)

    def open_rawio(self, path: Path) -> Any:
        from neo.rawio import TdtRawIO

        # a tank folder (blocks below it) is read whole; a block folder or file as that one block
        if path.is_dir() and _is_tdt_block(path):
            tsq = sorted(path.glob("*.tsq")) or sorted(path.glob("*.Tsq"))
            return TdtRawIO(dirname=str(tsq[0]))
        return TdtRawIO(dirname=str(path))


class WinEdrReader(CatalogReader):
    name = "winedr"
    description = "WinEDR continuous recording (.edr)"
    suffixes = (".edr",)
    manufacturer = "University of Strathclyde"
    verified = "generated"  # tests/test_formats.py converts a file nwbconvert.synthetic writes

    def probe(self, path: Path) -> Match:
        if path.is_file() and path.suffix.lower() == ".edr":
            text = head(path, 2048)
            if text.startswith(b"NC=") or (b"\r\nNC=" in text and b"NBH=" in text):
                return Match.CONTENT
        return self.suffix_match(path)

    def open_rawio(self, path: Path) -> Any:
        from neo.rawio import WinEdrRawIO

        return WinEdrRawIO(filename=str(path))

    def policy(self, path: Path, rawio: Any) -> StreamPolicy:
        # membrane current and potential of one cell, not electrode voltages: TimeSeries with their units
        return replace(DEFAULT_POLICY, kind=lambda stream, unit: SignalKind.ANALOG)


class RawMcsReader(CatalogReader):
    name = "mcs-raw"
    description = "Multi Channel Systems MC_DataTool binary export with header (.raw)"
    suffixes = (".raw",)
    manufacturer = "Multi Channel Systems"
    verified = "generated"  # tests/test_formats.py converts a file nwbconvert.synthetic writes

    def probe(self, path: Path) -> Match:
        if path.is_file() and head(path, 29) == b"MC_DataTool binary conversion":
            return Match.CONTENT
        return Match.NO  # .raw is also the headerless raw binary

    def open_rawio(self, path: Path) -> Any:
        from neo.rawio import RawMCSRawIO

        return RawMCSRawIO(filename=str(path))
