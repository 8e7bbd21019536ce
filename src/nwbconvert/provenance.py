"""Provenance: which files went in, which software and options produced the NWB file."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import platform
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from nwbconvert.model import SourceFile, SourceNote
from nwbconvert.versions import installed_version

SAMPLE_BYTES = 1 << 20
CHECKSUM_ALGORITHM = "blake2b-128-sampled"  # size + first, middle and last MiB; fast on any file size
LIBRARIES = ("nwbconvert", "pynwb", "hdmf", "h5py", "neo", "spikeinterface", "probeinterface", "numpy")


def fast_checksum(path: Path) -> str:
    """A checksum that reads at most 3 MiB: enough to tell files apart, instant on 50 GB recordings."""
    size = path.stat().st_size
    h = hashlib.blake2b(digest_size=16)
    h.update(str(size).encode())
    with path.open("rb") as f:
        for start in sorted({0, max(0, size // 2 - SAMPLE_BYTES // 2), max(0, size - SAMPLE_BYTES)}):
            f.seek(start)
            h.update(f.read(SAMPLE_BYTES))
    return f"{CHECKSUM_ALGORITHM}:{h.hexdigest()}"


def describe_files(paths: Iterable[Path]) -> tuple[SourceFile, ...]:
    files = sorted({p.resolve() for p in paths if p.is_file()})
    return tuple(SourceFile(str(p), p.stat().st_size, fast_checksum(p)) for p in files)


def library_versions(names: Iterable[str] = LIBRARIES) -> dict[str, str]:
    found: dict[str, str] = {"python": platform.python_version()}
    found.update((name, v) for name in names if (v := installed_version(name)) is not None)
    return found


@dataclass(frozen=True)
class SeriesRecord:
    """Where a written series came from."""

    stream: str
    channel_ids: tuple[str, ...]


@dataclass(frozen=True)
class EventChannelRecord:
    """An event table's source channel (channels with no events are not written)."""

    source_index: int
    source_name: str
    events: int


@dataclass(frozen=True)
class SortingRecord:
    source: str  # sorter output path
    units: int


@dataclass(frozen=True)
class SourceRecord:
    """One source of the file: what was read, how, and the shift of its times onto the session clock."""

    path: str
    reader: str
    reader_version: str
    format: str | None
    streams: tuple[str, ...]
    sortings: tuple[str, ...]
    probe: str | None
    name: str | None
    header_start_time: dt.datetime | None
    start_time: dt.datetime | None
    time_offset_s: float
    series: tuple[str, ...]


@dataclass(frozen=True)
class Provenance:
    """Stored as JSON in the NWB file's `general/source_script`, so a conversion can be reproduced."""

    reader: str
    reader_version: str
    source: str
    files: tuple[SourceFile, ...]
    metadata: dict[str, Any]  # the resolved NwbMetadata, as JSON values
    options: dict[str, Any]  # ConvertOptions.recorded()
    series: dict[str, SeriesRecord]  # by series name
    sources: tuple[SourceRecord, ...] = ()
    event_channels: dict[str, EventChannelRecord] = field(default_factory=dict)  # by event table name
    sortings: dict[str, SortingRecord] = field(default_factory=dict)  # by sorting name
    notes: tuple[SourceNote, ...] = ()  # the warnings the conversion gave (gaps, a shortfall kept, ...)
    libraries: dict[str, str] = field(default_factory=library_versions)
    tool: str = "nwbconvert"

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, default=str, sort_keys=True)

    def was_generated_by(self) -> list[list[str]]:
        """NWB's `general/was_generated_by`: [name, version] of nwbconvert, pynwb and hdmf, of the backend's
        storage libraries and of the libraries that read the sources (neo, spikeinterface, probeinterface)."""
        from nwbconvert.backends import get

        names = ["nwbconvert", "pynwb", "hdmf", *get(self.options["backend"]).libraries]
        names += [part.split()[0] for part in self.reader_version.split("+") if part.strip()]  # "neo 0.14 ..."
        if self.sortings:
            names.append("spikeinterface")
        if any(source.probe for source in self.sources):
            names.append("probeinterface")
        found = {**library_versions(n for n in names if n not in self.libraries), **self.libraries}
        return [[name, found[name]] for name in dict.fromkeys(names) if name in found]
