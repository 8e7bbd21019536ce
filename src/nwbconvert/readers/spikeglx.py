"""SpikeGLX runs: Neuropixels imec probes (ap, lf) and the NI-DAQ (nidq), as .bin + .meta pairs."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from nwbconvert.model import Channel, Device, EventChannel, HeaderMetadata, Recording, Session, SignalKind
from nwbconvert.probes import Site, probe_sites, with_site
from nwbconvert.readers.base import Match, ReadOptions, walk_files
from nwbconvert.readers.neo_adapter import StreamPolicy, series_prefix
from nwbconvert.readers.neo_events import events_from_rawio
from nwbconvert.readers.neo_reader import NeoReader
from nwbconvert.readers.spikeglx_events import nidq_lines

STREAM_RE = re.compile(r"\.(imec\d*\.(?:ap|lf)|nidq|obx\d*)\.(?:bin|meta)$")


def read_meta(path: Path) -> dict[str, str]:
    """A SpikeGLX .meta file as key -> value (table keys keep their leading '~')."""
    fields: dict[str, str] = {}
    for line in path.read_text(errors="replace").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            fields[key.strip()] = value.strip()
    return fields


def _is_meta(path: Path) -> bool:
    if path.suffix != ".meta" or not path.with_suffix(".bin").exists():
        return False
    with path.open("rb") as f:
        text = f.read(8192)
    return b"typeThis=" in text or b"imSampRate=" in text or b"niSampRate=" in text


def _metas(path: Path) -> list[Path]:
    if path.is_dir():
        return [p for p in walk_files(path, max_depth=3) if _is_meta(p)]
    meta = path.with_suffix(".meta")
    return [meta] if meta.exists() and _is_meta(meta) else []


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


def meta_sites(meta: Path) -> dict[int, Site]:
    """Readout channel number (the N of APN/LFN) -> site, from probeinterface.read_spikeglx; {} if it cannot tell.

    probeinterface returns the saved channels' contacts in the order of the .meta's channel map, which
    lists the saved neural channels (APN; or LFN;) in file order before the sync word.
    """
    import probeinterface

    try:
        probe = probeinterface.read_spikeglx(meta)
    except Exception:
        return {}  # geometry is optional (unknown part number, ...): the recording converts without x/y
    saved = [int(n) for n in re.findall(r"\((?:AP|LF)(\d+);", table(read_meta(meta), "snsChanMap"))]
    sites = probe_sites(probe)  # wired 0..n-1: the k-th saved channel
    if len(saved) != len(sites) or any(dci >= len(saved) for dci, _ in sites):
        return {}
    return {saved[dci]: site for dci, site in sites}


class _ProbeGeometry:
    """Contact ids, positions and shanks per probe, from its ap .meta (else its lf .meta) through probeinterface.

    AP and LF channels with the same readout number get the same contact, so they share an electrode row.
    """

    def __init__(self, metas: list[Path]) -> None:
        self.sites: dict[str, dict[int, Site]] = {}
        by_probe: dict[str, list[Path]] = {}
        for meta in sorted(metas, key=lambda m: not m.name.endswith(".ap.meta")):  # ap first
            match = STREAM_RE.search(meta.name)
            if match and match.group(1).startswith("imec"):
                by_probe.setdefault(match.group(1).split(".")[0], []).append(meta)
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


class SpikeGLXReader(NeoReader):
    name = "spikeglx"
    description = "SpikeGLX run (.bin + .meta: imec ap/lf, nidq)"
    suffixes = (".bin", ".meta")
    verified = "real"  # tests/test_roundtrip.py converts a real file
    input_kind = "file or folder"
    manufacturer = "IMEC / National Instruments"

    def probe(self, path: Path) -> Match:
        return Match.CONTENT if _metas(path) else Match.NO

    def open_rawio(self, path: Path) -> Any:
        from neo.rawio import SpikeGLXRawIO

        return SpikeGLXRawIO(dirname=str(path if path.is_dir() else path.parent))

    def policy(self, path: Path, rawio: Any) -> StreamPolicy:
        folder = path if path.is_dir() else path.parent
        geometry = _ProbeGeometry(_metas(folder))
        return StreamPolicy(kind=_kind, series_name=_series_name, channel=geometry.channel, unit=_unit)

    def header_metadata(self, path: Path, rawio: Any) -> HeaderMetadata:
        created = read_meta(_metas(path)[0]).get("fileCreateTime")
        start = dt.datetime.fromisoformat(created) if created else None
        return HeaderMetadata(session_start_time=start)  # SpikeGLX writes local time, no zone

    def source_paths(self, path: Path) -> list[Path]:
        return [p for m in _metas(path) for p in (m, m.with_suffix(".bin"))]

    def events(self, rawio: Any) -> list[EventChannel]:
        """The NI-DAQ digital lines, read in one bounded pass per segment, on the clock of the series (see
        spikeglx_events.py)."""
        lines = nidq_lines(rawio)
        return events_from_rawio(rawio, lines.timestamps if lines is not None else None)

    def read(self, path: Path, options: ReadOptions) -> Session:
        session = super().read(path, options)
        if path.is_file():
            match = STREAM_RE.search(path.name)
            if match:  # a single .bin/.meta: only its stream (and its sync channel)
                stream = match.group(1)
                session = session.select_streams([stream, f"{stream}-SYNC"])
        return replace(session, devices=self._devices(path), recordings=self._with_devices(session))

    def _devices(self, path: Path) -> tuple[Device, ...]:
        devices: dict[str, Device] = {}
        for meta in _metas(path):
            match = STREAM_RE.search(meta.name)
            if not match:
                continue
            fields = read_meta(meta)
            stream = match.group(1).split(".")[0]
            if stream.startswith("imec"):
                part = fields.get("imDatPrb_pn", "Neuropixels probe")
                serial = fields.get("imDatPrb_sn", "unknown")
                devices[stream] = Device(stream, f"Neuropixels probe {part}, serial number {serial}", "IMEC")
            else:
                product = fields.get("niDev1ProductName", "NI-DAQ")
                devices[stream] = Device(stream, f"National Instruments {product}", "National Instruments")
        return tuple(devices[k] for k in sorted(devices))

    @staticmethod
    def _with_devices(session: Session) -> tuple[Recording, ...]:
        return tuple(replace(r, device=r.stream_id.split(".")[0].split("-")[0]) for r in session.recordings)
