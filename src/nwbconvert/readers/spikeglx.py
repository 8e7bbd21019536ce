"""SpikeGLX runs: Neuropixels imec probes (ap, lf) and the NI-DAQ (nidq), as .bin + .meta pairs.

`read` parses the run's .meta files once (`read_metas`) and runs NeoReader's template on a reader holding
them, so every hook (geometry, start time, devices, source files) reads the same parsed headers.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nwbconvert.model import Channel, Device, EventChannel, HeaderMetadata, Recording, Session, SignalKind
from nwbconvert.probes import Site, probe_sites, with_site
from nwbconvert.readers.base import Match, ReadOptions, head, walk_files
from nwbconvert.readers.neo_adapter import StreamPolicy, series_prefix
from nwbconvert.readers.neo_events import events_from_rawio
from nwbconvert.readers.neo_reader import NeoReader
from nwbconvert.readers.spikeglx_events import nidq_lines

if TYPE_CHECKING:
    from neo.rawio.baserawio import BaseRawIO

STREAM_RE = re.compile(r"\.(imec\d*\.(?:ap|lf)|nidq|obx\d*)\.(?:bin|meta)$")
META_MARKERS = (b"typeThis=", b"imSampRate=", b"niSampRate=")  # in the first 8 KB of every SpikeGLX .meta


def parse_meta(text: str) -> dict[str, str]:
    """The text of a SpikeGLX .meta file as key -> value (table keys keep their leading '~')."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            fields[key.strip()] = value.strip()
    return fields


def read_meta(path: Path) -> dict[str, str]:
    """A SpikeGLX .meta file as key -> value."""
    return parse_meta(path.read_text(errors="replace"))


@dataclass(frozen=True)
class Meta:
    """One .meta file of a run, read once."""

    path: Path
    fields: dict[str, str]

    @property
    def stream(self) -> str:
        """imec0.ap, imec.lf (SpikeGLX before probe indexes), nidq, obx0, ... as neo names the stream: after the
        fileName the header was written with (a copy renamed on disk keeps it), else the file's name ("" if
        neither says)."""
        for name in (Path(self.fields.get("fileName", "").replace("\\", "/")).name, self.path.name):
            match = STREAM_RE.search(name)
            if match:
                return match.group(1)
        return ""


def _candidates(path: Path) -> list[Path]:
    """The .meta files beside a .bin: below a folder, or the one of a .bin/.meta path."""
    if path.is_dir():
        found = [p for p in walk_files(path, max_depth=3) if p.suffix == ".meta"]
    else:
        found = [path.with_suffix(".meta")] if path.with_suffix(".meta").exists() else []
    return [p for p in found if p.with_suffix(".bin").exists()]


def _metas(path: Path) -> list[Path]:
    """The SpikeGLX .meta files of `path`, judged on their first 8 KB (for probing)."""
    return [p for p in _candidates(path) if any(m in head(p, 8192) for m in META_MARKERS)]


def read_metas(path: Path) -> tuple[Meta, ...]:
    """The SpikeGLX .meta files of `path`, each opened once."""
    found = []
    for candidate in _candidates(path):
        data = candidate.read_bytes()
        if any(m in data[:8192] for m in META_MARKERS):
            found.append(Meta(candidate, parse_meta(data.decode(errors="replace"))))
    return tuple(found)


def _kind(stream_name: str, unit: str) -> SignalKind:
    if not stream_name.startswith("imec") or "SYNC" in stream_name:
        return SignalKind.ANALOG
    return SignalKind.LFP if stream_name.endswith(".lf") else SignalKind.EXTRACELLULAR


def _series_name(stream_name: str, kind: SignalKind) -> str:
    # imec0.ap -> ElectricalSeriesImec0AP, imec0.ap-SYNC -> TimeSeriesImec0APSync, nidq -> TimeSeriesNIDQ
    base, _, sync = stream_name.partition("-")
    parts = base.split(".")
    label = parts[0].capitalize() + "".join(p.upper() for p in parts[1:])
    if label == "Nidq":
        label = "NIDQ"
    return series_prefix(kind) + label + ("Sync" if sync else "")


def table(fields: dict[str, str], key: str) -> str:
    """A .meta table ('~imroTbl', '~snsChanMap', ...), also when a copy lost the leading '~'."""
    return fields.get(f"~{key}", fields.get(key, ""))


def meta_sites(meta: Meta) -> dict[int, Site]:
    """Readout channel number (the N of APN/LFN) -> site, from probeinterface.read_spikeglx; {} if it cannot tell.

    probeinterface returns the saved channels' contacts in the order of the .meta's channel map, which
    lists the saved neural channels (APN; or LFN;) in file order before the sync word.
    """
    import probeinterface

    try:
        probe = probeinterface.read_spikeglx(meta.path)
    except Exception:
        return {}  # geometry is optional (unknown part number, ...): the recording converts without x/y
    saved = [int(n) for n in re.findall(r"\((?:AP|LF)(\d+);", table(meta.fields, "snsChanMap"))]
    sites = probe_sites(probe)  # wired 0..n-1: the k-th saved channel
    if len(saved) != len(sites) or any(dci >= len(saved) for dci, _ in sites):
        return {}
    return {saved[dci]: site for dci, site in sites}


class _ProbeGeometry:
    """Contact ids, positions and shanks per probe, from its ap .meta (else its lf .meta) through probeinterface.

    AP and LF channels with the same readout number get the same contact, so they share an electrode row.
    """

    def __init__(self, metas: tuple[Meta, ...]) -> None:
        self.sites: dict[str, dict[int, Site]] = {}
        by_probe: dict[str, list[Meta]] = {}
        for meta in sorted(metas, key=lambda m: not m.path.name.endswith(".ap.meta")):  # ap first
            if meta.stream.startswith("imec"):
                by_probe.setdefault(meta.stream.split(".")[0], []).append(meta)
        for probe_name, candidates in by_probe.items():
            for meta in candidates:
                self.sites[probe_name] = meta_sites(meta)
                if self.sites[probe_name]:
                    break

    def channel(self, stream_name: str, ch: Channel) -> Channel:
        if not stream_name.startswith("imec"):
            return ch
        probe_name = stream_name.split(".")[0]
        if "SYNC" in stream_name:
            return replace(ch, group=probe_name, gain=1.0, offset=0.0)  # the sync word is a bit field
        number = int(re.sub(r"\D", "", ch.name) or -1)
        site = self.sites.get(probe_name, {}).get(number)
        if site is None:
            return replace(ch, group=probe_name)
        return with_site(ch, site, probe_name)


def _unit(stream_name: str, unit: str) -> str:
    return "n.a." if "SYNC" in stream_name else unit


def _device(meta: Meta) -> Device:
    stream, fields = meta.stream.split(".")[0], meta.fields
    if stream.startswith("imec"):
        part = fields.get("imDatPrb_pn", "Neuropixels probe")
        serial = fields.get("imDatPrb_sn", "unknown")
        return Device(stream, f"Neuropixels probe {part}, serial number {serial}", "IMEC")
    product = fields.get("niDev1ProductName", "NI-DAQ")
    return Device(stream, f"National Instruments {product}", "National Instruments")


def _split_sync_words(rawio: Any) -> None:
    """Streams whose .meta declares several SY words (snsApLfSy=1536,0,4: a NP2020 quad-base probe saves 1536
    neural channels, then one SY word per shank) as neo 0.14 would read a single one: neo cuts only one column
    off for the -SYNC stream (a KeyError on reading it) and names the words alike (a refusal: "signal_channels do
    not have unique ids"). Here the neural stream ends before the first SY column, the -SYNC stream holds all of
    them (one series, named SY0, SY1, ... in file order). Streams with one SY word are left as neo reads them."""
    chans = rawio.header["signal_channels"]
    for (segment, stream), info in rawio.signals_info_dict.items():
        n_sync = int(str(info["meta"].get("snsApLfSy", "0,0,0")).split(",")[2])
        if segment != 0 or n_sync < 2 or "nidq" in stream:
            continue
        n = int(info["num_chan"])
        rawio._stream_buffer_slice[stream] = slice(0, n - n_sync)  # neo's map of a stream to its buffer columns
        rawio._stream_buffer_slice[f"{stream}-SYNC"] = slice(n - n_sync, None)
        words = np.flatnonzero(chans["stream_id"] == f"{stream}-SYNC")
        chans["gain"][words] = chans["gain"][words[-1]]  # neo scales all but its last column as neural channels
        for k, i in enumerate(words):
            chans["name"][i] = f"SY{k}"
            chans["id"][i] = f"{stream}#SY{k}"


@dataclass(frozen=True)
class _Run:
    """The headers of one read: every .meta of the run's folder, and those of the path given (one for a file)."""

    folder: tuple[Meta, ...]
    given: tuple[Meta, ...]


class SpikeGLXReader(NeoReader):
    name = "spikeglx"
    description = "SpikeGLX run (.bin + .meta: imec ap/lf, nidq)"
    suffixes = (".bin", ".meta")
    verified = "real-headers"  # tests/test_probes.py converts runs around real .meta files, samples generated
    input_kind = "file or folder"
    manufacturer = "IMEC / National Instruments"
    rawio_class = "SpikeGLXRawIO"
    rawio_path_argument = "dirname"

    def __init__(self, run: _Run | None = None) -> None:
        self._run = run  # the headers of the read under way (None on the registered reader)

    def probe(self, path: Path) -> Match:
        return Match.CONTENT if _metas(path) else Match.NO

    def rawio_path(self, path: Path) -> Path:
        return path if path.is_dir() else path.parent

    def read(self, path: Path, options: ReadOptions) -> Session:
        """NeoReader's template, run by a reader that holds the .meta files, each parsed once."""
        if self._run is not None:
            return super().read(path, options)
        with self.reading(path):
            folder = read_metas(self.rawio_path(path))
        given = folder if path.is_dir() else tuple(m for m in folder if m.path == path.with_suffix(".meta"))
        return SpikeGLXReader(_Run(folder, given)).read(path, options)

    @property
    def run(self) -> _Run:
        if self._run is None:
            raise RuntimeError("the .meta files are parsed by SpikeGLXReader.read before any hook runs")
        return self._run

    def policy(self, path: Path, rawio: BaseRawIO) -> StreamPolicy:
        geometry = _ProbeGeometry(self.run.folder)
        return StreamPolicy(kind=_kind, series_name=_series_name, channel=geometry.channel, unit=_unit)

    def header_metadata(self, path: Path, rawio: BaseRawIO) -> HeaderMetadata:
        created = self.run.given[0].fields.get("fileCreateTime")
        start = dt.datetime.fromisoformat(created) if created else None
        return HeaderMetadata(session_start_time=start)  # SpikeGLX writes local time, no zone

    def source_paths(self, path: Path) -> list[Path]:
        return [p for m in self.run.given for p in (m.path, m.path.with_suffix(".bin"))]

    def devices(self, path: Path, recordings: list[Recording]) -> tuple[Device, ...]:
        devices = {d.name: d for d in (_device(m) for m in self.run.given if m.stream)}
        return tuple(devices[k] for k in sorted(devices))

    def events(self, rawio: BaseRawIO) -> list[EventChannel]:
        """The NI-DAQ digital lines, read in one bounded pass per segment, on the clock of the series (see
        spikeglx_events.py)."""
        lines = nidq_lines(rawio)
        return events_from_rawio(rawio, lines.timestamps if lines is not None else None)

    def open_rawio(self, path: Path) -> BaseRawIO:
        """neo's SpikeGLX rawio, also for streams ending in several SY words (see `_split_sync_words`)."""
        from neo.rawio import SpikeGLXRawIO as NeoSpikeGLXRawIO

        class SpikeGLXRawIO(NeoSpikeGLXRawIO):  # named as neo's: the provenance names the rawio class
            def _parse_header(self) -> None:
                with _whole_values_only():
                    super()._parse_header()
                _split_sync_words(self)

        return SpikeGLXRawIO(dirname=str(self.rawio_path(path)))

    def finish(self, path: Path, session: Session) -> Session:
        """A single .bin/.meta keeps only its stream (and its sync channel); each series names its device."""
        stream = self.run.given[0].stream if path.is_file() and self.run.given else ""
        if stream:
            session = session.select_streams([stream, f"{stream}-SYNC"])
        recordings = tuple(replace(r, device=r.stream_id.split(".")[0].split("-")[0]) for r in session.recordings)
        return replace(session, recordings=recordings)


@contextmanager
def _whole_values_only() -> Iterator[None]:
    """neo sizes each .bin from its length and refuses one that ends inside an int16 (a copy cut at an odd byte).
    Such a copy is refused, or kept with --allow-incomplete, by readers/complete/spikeglx.py before neo opens it;
    while neo parses the headers, its sizing counts only the whole values, so what is there can be read."""
    import neo.rawio.spikeglxrawio as module

    exact = module.get_memmap_shape

    def whole(filename: str, dtype: Any, num_channels: int | None = None, offset: int = 0) -> tuple[int, ...]:
        values = (Path(filename).stat().st_size - offset) // np.dtype(dtype).itemsize
        return (values,) if num_channels is None else (values // num_channels, num_channels)

    module.get_memmap_shape = whole
    try:
        yield
    finally:
        module.get_memmap_shape = exact
