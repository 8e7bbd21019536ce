"""Plexon .plx files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from nwbconvert.errors import SourceError
from nwbconvert.model import Channel, Recording, Sorting
from nwbconvert.readers.base import Match, head
from nwbconvert.readers.neo_adapter import DEFAULT_POLICY, StreamPolicy
from nwbconvert.readers.neo_reader import NeoReader

if TYPE_CHECKING:
    from neo.rawio.baserawio import BaseRawIO


def _unit(stream_name: str, unit: str) -> str:
    # neo leaves slow-channel units blank; its gain comes from SlowMaxMagnitudeMV, so values are in mV.
    return unit or "mV"


class PlexonReader(NeoReader):
    name = "plexon"
    description = "Plexon .plx file"
    suffixes = (".plx",)
    verified = "real"  # tests/test_roundtrip.py converts a real file
    input_kind = "file"
    manufacturer = "Plexon"
    link_units_by_number = True

    def waveform_unit(self, rawio: BaseRawIO, unit: str) -> str:
        # neo's waveform gain: the header's millivolt range / 1000 (volts) before file version 105; from 105 on
        # it divides by the preamp gain instead, leaving millivolts.
        version = int(rawio.raw_annotations["blocks"][0].get("plexon_version", 0))
        return unit or ("mV" if version >= 105 else "V")

    def sortings(self, path: Path, rawio: BaseRawIO, recordings: list[Recording]) -> tuple[Sorting, ...]:
        """neo's units; in a file without slow channels to link them to, each DSP channel is an electrode."""
        found = super().sortings(path, rawio, recordings)
        if any(r.is_electrical for r in recordings):
            return found
        return tuple(_with_dsp_channels(s) for s in found)

    def probe(self, path: Path) -> Match:
        if path.is_file() and head(path, 4) == b"PLEX":
            return Match.CONTENT
        return Match.SUFFIX if path.suffix.lower() == ".plx" else Match.NO

    def open_rawio(self, path: Path) -> BaseRawIO:  # without neo's progress bars
        from neo.rawio import PlexonRawIO

        return PlexonRawIO(filename=str(path), progress_bar=False)

    def parse(self, path: Path) -> BaseRawIO:
        check_global_header(path)
        return super().parse(path)

    def policy(self, path: Path, rawio: BaseRawIO) -> StreamPolicy:
        return StreamPolicy(kind=DEFAULT_POLICY.kind, series_name=DEFAULT_POLICY.series_name, unit=_unit)


def _with_dsp_channels(sorting: Sorting) -> Sorting:
    """The sorting with one electrode per DSP channel its units were found on (neo's unit id 'ch3#1': channel 3)."""
    import dataclasses

    channels: dict[str, Channel] = {}
    units = []
    for unit in sorting.units:
        channel = str(unit.properties.get("source_id", "")).split("#")[0]
        if not channel:
            units.append(unit)
            continue
        channels.setdefault(channel, Channel(channel, unit.name.split("#")[0], 1.0, group="plexon"))
        units.append(dataclasses.replace(unit, channel_ids=(channel,)))
    if not channels:
        return sorting
    return dataclasses.replace(sorting, units=tuple(units), channels=tuple(channels.values()))


def check_global_header(path: Path) -> None:
    """Refuse, in plain words, a global header with no timestamp frequency (neo would write spike times in clock
    ticks) and a file of headers without data blocks (neo fails on it with a Python error)."""
    import numpy as np
    from neo.rawio import plexonrawio as layout

    global_dtype = np.dtype(layout.GlobalHeader)
    raw = head(path, global_dtype.itemsize)
    if len(raw) < global_dtype.itemsize:
        return  # a truncated header: neo's own message says so
    header = np.frombuffer(raw, dtype=global_dtype)[0]
    frequency = int(header["ADFrequency"])
    if frequency <= 0:
        offset = global_dtype.fields["ADFrequency"][1]
        raise SourceError(
            f"{path}: the global header's timestamp frequency (ADFrequency, bytes {offset}-{offset + 3}) is "
            f"{frequency}, so no spike, event or sample time in the file can be computed: the file cannot be timed. "
            "The header is damaged or was written incompletely; export the recording again from the acquisition "
            "software or Plexon's Offline Sorter."
        )
    counts = (int(header["NumDSPChannels"]), int(header["NumEventChannels"]), int(header["NumSlowChannels"]))
    channel_dtypes = (layout.DspChannelHeader, layout.EventChannelHeader, layout.SlowChannelHeader)
    if min(counts) < 0:
        return
    headers_end = global_dtype.itemsize + sum(n * np.dtype(d).itemsize for n, d in zip(counts, channel_dtypes))
    size = path.stat().st_size
    if size == headers_end:
        raise SourceError(
            f"{path}: the file ends right after its headers ({size} bytes): it holds no data block (no spike, "
            "event or sample), so there is nothing to convert. The copy looks incomplete; copy the file again."
        )
