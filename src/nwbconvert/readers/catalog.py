"""Readers for the remaining neo rawios: each is class attributes (the rawio among them) and a content probe.

The HDF5-based ones are in catalog_hdf5.py (re-exported here: the entry points name them catalog:...).
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
from pathlib import Path
from typing import TYPE_CHECKING

from nwbconvert.model import Channel, SignalKind
from nwbconvert.readers.base import Match, head, walk_files
from nwbconvert.readers.catalog_hdf5 import BiocamReader, MaxwellReader, MEArecReader, NixReader  # noqa: F401
from nwbconvert.readers.neo_adapter import DEFAULT_POLICY, StreamPolicy
from nwbconvert.readers.neo_reader import NeoReader

if TYPE_CHECKING:
    from neo.rawio.baserawio import BaseRawIO


def _sibling(path: Path, suffix: str) -> Path | None:
    candidate = path.with_suffix(suffix)
    return candidate if candidate.is_file() else None


class AlphaOmegaReader(NeoReader):
    name = "alphaomega"
    description = "AlphaOmega AlphaLab SnR / AlphaRS folder (.mpx)"
    suffixes = (".mpx", ".lsx")
    manufacturer = "Alpha Omega"
    input_kind = "file or folder"
    rawio_class = "AlphaOmegaRawIO"
    rawio_path_argument = "dirname"

    def rawio_path(self, path: Path) -> Path:
        return path if path.is_dir() else path.parent

    def probe(self, path: Path) -> Match:
        claimed = path.is_dir() or path.suffix.lower() in self.suffixes
        mpx = sorted(self.rawio_path(path).glob("*.mpx")) if claimed else []
        # every MPX file starts with a header block of type 'h' and length 60
        if mpx and head(mpx[0], 3) == struct.pack("<Hc", 60, b"h"):
            return Match.CONTENT
        return self.suffix_match(path)

    def source_paths(self, path: Path) -> list[Path]:
        return sorted(p for p in self.rawio_path(path).iterdir() if p.suffix.lower() in self.suffixes)


class AxonaReader(NeoReader):
    name = "axona"
    description = "Axona DacqUSB recording (.set + .bin)"
    suffixes = (".set", ".bin")
    manufacturer = "Axona"
    rawio_class = "AxonaRawIO"

    def rawio_path(self, path: Path) -> Path:
        return path.with_suffix(".set")

    def probe(self, path: Path) -> Match:
        settings = _sibling(path, ".set") if path.is_file() else None
        if settings is not None and head(settings, 10) == b"trial_date":
            return Match.CONTENT
        return Match.NO  # .bin is shared; without its .set nothing says Axona

    def source_paths(self, path: Path) -> list[Path]:
        return sorted(p for p in path.parent.glob(path.stem + ".*") if p.is_file())


class CedSmrxReader(NeoReader):
    name = "ced-smrx"
    description = "CED Spike2 64-bit file (.smrx, through CED's sonpy)"
    suffixes = (".smrx",)
    manufacturer = "Cambridge Electronic Design"
    requires = (("sonpy", "ced"),)
    rawio_class = "CedRawIO"

    def probe(self, path: Path) -> Match:
        return self.suffix_match(path)  # .smr stays with the spike2 reader


class ElanReader(NeoReader):
    name = "elan"
    description = "Elan EEG recording (.eeg + .eeg.ent + .eeg.pos)"
    suffixes = (".eeg", ".ent", ".pos")
    manufacturer = "Elan (Inserm Lyon)"
    verified = "generated"  # tests/test_formats.py converts a file nwbconvert.synthetic writes
    rawio_class = "ElanRawIO"

    def rawio_path(self, path: Path) -> Path:
        # x.eeg, x.eeg.ent or x.eeg.pos -> x.eeg
        return path.with_suffix("") if path.suffix.lower() in (".ent", ".pos") else path

    def probe(self, path: Path) -> Match:
        data = self.rawio_path(path)
        ent = data.with_name(data.name + ".ent")
        if data.suffix.lower() == ".eeg" and data.is_file() and head(ent, 3).rstrip() in (b"V2", b"V3"):
            return Match.CONTENT
        return Match.NO  # .eeg is shared with BrainVision and Neuroscope

    def source_paths(self, path: Path) -> list[Path]:
        data = self.rawio_path(path)
        return [p for p in (data, data.with_name(data.name + ".ent"), data.with_name(data.name + ".pos")) if p.exists()]


class MedReader(NeoReader):
    name = "med"
    description = "Multiscale Electrophysiology Data session (.medd folder)"
    suffixes = (".medd", ".rdat", ".ridx")
    manufacturer = "Dark Horse Neuro"
    requires = (("dhn_med_py", "med"),)
    input_kind = "folder"
    rawio_class = "MedRawIO"
    rawio_path_argument = "dirname"

    @staticmethod
    def session(path: Path) -> Path | None:
        for candidate in (path, *path.parents):
            if candidate.suffix.lower() == ".medd" and candidate.is_dir():
                return candidate
        return None

    def probe(self, path: Path) -> Match:
        return Match.CONTENT if self.session(path) is not None else Match.NO

    def rawio_path(self, path: Path) -> Path:
        return self.session(path) or path

    def source_paths(self, path: Path) -> list[Path]:
        session = self.session(path)
        return list(walk_files(session, max_depth=3)) if session else []


class MicromedReader(NeoReader):
    name = "micromed"
    description = "Micromed System Plus EEG file (.trc)"
    suffixes = (".trc",)
    manufacturer = "Micromed"
    rawio_class = "MicromedRawIO"

    def probe(self, path: Path) -> Match:
        if path.is_file() and path.suffix.lower() == ".trc":
            header = head(path, 176)
            # header type 4 at byte 175; the title at the start names MICROMED
            if b"MICROMED" in header[:32].upper() or (len(header) == 176 and header[175] == 4):
                return Match.CONTENT
        return self.suffix_match(path)


class NeuroExplorerReader(NeoReader):
    name = "neuroexplorer"
    description = "NeuroExplorer data file (.nex)"
    suffixes = (".nex",)
    manufacturer = "Nex Technologies"
    rawio_class = "NeuroExplorerRawIO"

    def probe(self, path: Path) -> Match:
        if path.is_file() and head(path, 4) == b"NEX1":
            return Match.CONTENT
        return self.suffix_match(path)


class NeuroNexusReader(NeoReader):
    name = "neuronexus"
    description = "NeuroNexus Allego recording (.xdat.json + _data.xdat + _timestamp.xdat)"
    suffixes = (".json", ".xdat")
    manufacturer = "NeuroNexus"
    verified = "generated"  # tests/test_formats.py converts a file nwbconvert.synthetic writes
    rawio_class = "NeuroNexusRawIO"

    @staticmethod
    def metadata_file(path: Path) -> Path | None:
        """x.xdat.json for x.xdat.json, x_data.xdat or x_timestamp.xdat."""
        if path.name.endswith(".xdat.json"):
            return path if path.is_file() else None
        base = re.sub(r"_(data|timestamp)\.xdat$", "", path.name)
        candidate = path.with_name(base + ".xdat.json")
        return candidate if base != path.name and candidate.is_file() else None

    def rawio_path(self, path: Path) -> Path:
        return self.metadata_file(path) or path

    def probe(self, path: Path) -> Match:
        meta = self.metadata_file(path) if path.is_file() else None
        if meta is not None and meta.with_name(meta.name[: -len(".xdat.json")] + "_data.xdat").is_file():
            return Match.CONTENT
        return Match.NO

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


class NeuroscopeReader(NeoReader):
    name = "neuroscope"
    description = "Neuroscope / Klusters session (.xml + .dat, .lfp or .eeg)"
    suffixes = (".xml", ".dat", ".lfp", ".eeg")
    manufacturer = "Neuroscope"
    input_kind = "file or folder"
    verified = "generated"  # tests/test_formats.py converts a file nwbconvert.synthetic writes
    rawio_class = "NeuroScopeRawIO"

    def probe(self, path: Path) -> Match:
        xml = neuroscope_xml(path)
        if xml is None:
            return Match.NO
        if path.is_file() and path.suffix.lower() != ".xml":
            return Match.CONTENT  # the data file itself, its parameter file beside it
        return Match.CONTENT if _neuroscope_data(xml) is not None else Match.NO

    def open_rawio(self, path: Path) -> BaseRawIO:
        from neo.rawio import NeuroScopeRawIO

        xml = neuroscope_xml(path)
        assert xml is not None
        data = path if path.is_file() and path.suffix.lower() != ".xml" else _neuroscope_data(xml)
        return NeuroScopeRawIO(filename=str(xml), binary_file=str(data))

    def policy(self, path: Path, rawio: BaseRawIO) -> StreamPolicy:
        return replace(DEFAULT_POLICY, channel=_neuroscope_channel)

    def source_paths(self, path: Path) -> list[Path]:
        xml = neuroscope_xml(path)
        assert xml is not None
        data = path if path.is_file() and path.suffix.lower() != ".xml" else _neuroscope_data(xml)
        return [xml, *([data] if data else [])]


class Plexon2Reader(NeoReader):
    name = "plexon2"
    description = "Plexon PL2 file (.pl2)"
    suffixes = (".pl2",)
    manufacturer = "Plexon"
    # Plexon's PL2FileReader DLL (neo downloads it on first use); off Windows it runs under wine via zugbruecke
    requires = () if sys.platform == "win32" else (("zugbruecke", "plexon2"),)
    note = "Plexon's PL2FileReader DLL, downloaded by neo on first use; off Windows also wine"
    rawio_class = "Plexon2RawIO"

    def probe(self, path: Path) -> Match:
        return self.suffix_match(path)


class SpikeGadgetsReader(NeoReader):
    name = "spikegadgets"
    description = "SpikeGadgets Trodes recording (.rec)"
    suffixes = (".rec",)
    manufacturer = "SpikeGadgets"
    rawio_class = "SpikeGadgetsRawIO"

    def probe(self, path: Path) -> Match:
        if path.is_file() and b"<Configuration" in head(path, 4096):
            return Match.CONTENT
        return self.suffix_match(path)


TDT_BLOCK = {".tbk", ".tdx", ".tev", ".tsq"}


def _is_tdt_block(folder: Path) -> bool:
    try:
        return {p.suffix.lower() for p in folder.iterdir()} >= TDT_BLOCK
    except OSError:
        return False


class TdtReader(NeoReader):
    name = "tdt"
    description = "Tucker-Davis Technologies tank or block (.tsq/.tev/.tbk/.tdx, .sev)"
    suffixes = (".tsq", ".tev", ".tbk", ".tdx", ".tnt", ".sev")
    manufacturer = "Tucker-Davis Technologies"
    input_kind = "file or folder"
    rawio_class = "TdtRawIO"
    rawio_path_argument = "dirname"

    def probe(self, path: Path) -> Match:
        if path.is_dir():
            blocks = [path] if _is_tdt_block(path) else [p for p in sorted(path.iterdir()) if p.is_dir()]
            return Match.CONTENT if any(_is_tdt_block(b) for b in blocks) else Match.NO
        if path.suffix.lower() in self.suffixes and _is_tdt_block(path.parent):
            return Match.CONTENT
        return self.suffix_match(path)

    def rawio_path(self, path: Path) -> Path:
        # a tank folder (blocks below it) is read whole; a block folder or file as that one block
        if path.is_dir() and _is_tdt_block(path):
            return (sorted(path.glob("*.tsq")) or sorted(path.glob("*.Tsq")))[0]
        return path


class WinEdrReader(NeoReader):
    name = "winedr"
    description = "WinEDR continuous recording (.edr)"
    suffixes = (".edr",)
    manufacturer = "University of Strathclyde"
    verified = "generated"  # tests/test_formats.py converts a file nwbconvert.synthetic writes
    rawio_class = "WinEdrRawIO"

    def probe(self, path: Path) -> Match:
        if path.is_file() and path.suffix.lower() == ".edr":
            text = head(path, 2048)
            if text.startswith(b"NC=") or (b"\r\nNC=" in text and b"NBH=" in text):
                return Match.CONTENT
        return self.suffix_match(path)

    def policy(self, path: Path, rawio: BaseRawIO) -> StreamPolicy:
        # membrane current and potential of one cell, not electrode voltages: TimeSeries with their units
        return replace(DEFAULT_POLICY, kind=lambda stream, unit: SignalKind.ANALOG)


class RawMcsReader(NeoReader):
    name = "mcs-raw"
    description = "Multi Channel Systems MC_DataTool binary export with header (.raw)"
    suffixes = (".raw",)
    manufacturer = "Multi Channel Systems"
    verified = "generated"  # tests/test_formats.py converts a file nwbconvert.synthetic writes
    rawio_class = "RawMCSRawIO"

    def probe(self, path: Path) -> Match:
        if path.is_file() and head(path, 29) == b"MC_DataTool binary conversion":
            return Match.CONTENT
        return Match.NO  # .raw is also the headerless raw binary
