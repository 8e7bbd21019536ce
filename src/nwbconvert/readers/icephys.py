"""Intracellular (patch-clamp) recordings: Axon ABF, AxoGraph and WinWCP, through neo.

Each neo segment is one sweep and stays one `Segment` with neo's own t_start. Channels in a
current unit (the current measured under voltage clamp) or a voltage unit (the membrane potential
under current clamp) are INTRACELLULAR; channels in any other unit stay ANALOG (a TimeSeries).
Units are kept as neo reports them (an ABF 1 file may name a channel 'Voltage 0' and store pA).

Only ABF files were tested on real recordings (ABF 1.83 episodic, ABF 2 gap-free); no public
AxoGraph or WinWCP file was at hand. AxoGraph files of all three kinds are generated in the vendor layout
(tests/test_axograph.py); WinWCP rests on neo's tests alone: neo gives every record t_start 0, so all sweeps
start at 0 s in the NWB file too.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from nwbconvert.model import SignalKind
from nwbconvert.readers.base import Match, head
from nwbconvert.readers.neo_adapter import StreamPolicy, default_series_name
from nwbconvert.readers.neo_reader import NeoReader
from nwbconvert.units import camel, is_current, is_voltage

if TYPE_CHECKING:
    from neo.rawio.baserawio import BaseRawIO

ABF_MAGIC = (b"ABF ", b"ABF2")
AXOGRAPH_MAGIC = (b"AxGr", b"axgx")
WINWCP_MAGIC = b"VER="


def intracellular_kind(stream_name: str, unit: str) -> SignalKind:
    return SignalKind.INTRACELLULAR if is_current(unit) or is_voltage(unit) else SignalKind.ANALOG


def intracellular_series_name(stream_name: str, kind: SignalKind) -> str:
    if kind is SignalKind.INTRACELLULAR:
        return "Icephys" + camel(stream_name)
    return default_series_name(stream_name, kind)


INTRACELLULAR_POLICY = StreamPolicy(
    kind=intracellular_kind,
    series_name=intracellular_series_name,
    unit=lambda stream, unit: unit.strip().strip("\x00").strip(),  # fixed-width header fields may pad
)


class _IntracellularReader(NeoReader):
    magic: ClassVar[tuple[bytes, ...]] = ()

    def probe(self, path: Path) -> Match:
        if path.is_file() and head(path, 4).startswith(self.magic):
            return Match.CONTENT
        return Match.SUFFIX if path.suffix.lower() in self.suffixes else Match.NO

    def policy(self, path: Path, rawio: BaseRawIO) -> StreamPolicy:
        return INTRACELLULAR_POLICY


class AxonReader(_IntracellularReader):
    name = "axon"
    description = "Axon Binary File (.abf, ABF 1 or 2)"
    suffixes = (".abf",)
    verified = "real"  # tests/test_icephys.py converts real ABF 1 and ABF 2 files
    manufacturer = "Axon Instruments / Molecular Devices"
    magic = ABF_MAGIC
    rawio_class = "AxonRawIO"


class AxoGraphReader(_IntracellularReader):
    """AxoGraph files (digitized, graph and AxoGraph X); tested on generated files, no public real one was at hand."""

    name = "axograph"
    description = "AxoGraph file (.axgd/.axgx)"
    suffixes = (".axgd", ".axgx")
    verified = "generated"  # tests/test_axograph.py converts a file of each kind written in the vendor layout
    manufacturer = "AxoGraph Scientific"
    magic = AXOGRAPH_MAGIC
    rawio_class = "AxographRawIO"


class WinWcpReader(_IntracellularReader):
    """WinWCP files. Untested on a real recording (none public was at hand); every sweep starts at 0 s."""

    name = "winwcp"
    description = "WinWCP file (.wcp, Strathclyde Electrophysiology Software)"
    suffixes = (".wcp",)
    manufacturer = "University of Strathclyde"
    magic = (WINWCP_MAGIC,)
    rawio_class = "WinWcpRawIO"

    def probe(self, path: Path) -> Match:
        # "VER=" opens many text headers: content counts only together with the suffix
        if path.suffix.lower() != ".wcp":
            return Match.NO
        return Match.CONTENT if head(path, 4) == WINWCP_MAGIC else Match.SUFFIX
