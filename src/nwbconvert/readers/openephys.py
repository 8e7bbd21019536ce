"""Open Ephys recordings: the binary format (structure.oebin) and the legacy format (.continuous)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from nwbconvert.model import Channel, HeaderMetadata, Recording, Session, SignalKind, Sorting
from nwbconvert.probes import Site, probe_sites, with_site
from nwbconvert.readers.base import Match, ReadOptions, head, walk_files
from nwbconvert.readers.neo_adapter import StreamPolicy, default_series_name
from nwbconvert.readers.neo_reader import NeoReader

if TYPE_CHECKING:
    from neo.rawio.baserawio import BaseRawIO

LEGACY_HEADER = b"header.format = 'Open Ephys Data Format'"


def _oebin_root(path: Path) -> Path | None:
    """The folder neo should scan: the given folder, or the record node above a given file."""
    if path.is_dir():
        return path if any(p.name == "structure.oebin" for p in walk_files(path, max_depth=6)) else None
    for parent in path.parents:
        if parent.name.startswith("Record Node") or (parent / "settings.xml").exists():
            return parent if any(p.name == "structure.oebin" for p in walk_files(parent, 4)) else None
    return None


def _kind(stream_name: str, unit: str) -> SignalKind:
    # Acquisition boards (NI-DAQ, ADC) record analog inputs, not electrodes; Neuropixels 1.0 LFP bands end in -LFP.
    lowered = stream_name.lower()
    if any(tag in lowered for tag in ("ni-daq", "nidaq", "adc", "aux")):
        return SignalKind.ANALOG
    return SignalKind.LFP if lowered.endswith("-lfp") else SignalKind.EXTRACELLULAR


def _series_name(stream_name: str, kind: SignalKind) -> str:
    # "Record Node 101#Neuropix-PXI-100.ProbeB" -> "ElectricalSeriesProbeB"
    source = stream_name.split("#")[-1]
    return default_series_name(source.split(".")[-1] if "." in source else source, kind)


class OpenEphysBinaryReader(NeoReader):
    name = "openephys-binary"
    description = "Open Ephys binary recording (structure.oebin)"
    suffixes = (".oebin", ".dat")
    verified = "real"  # tests/test_roundtrip.py converts a real file
    input_kind = "file or folder"
    manufacturer = "Open Ephys"
    rawio_class = "OpenEphysBinaryRawIO"
    rawio_path_argument = "dirname"

    def probe(self, path: Path) -> Match:
        return Match.CONTENT if _oebin_root(path) is not None else Match.NO

    def rawio_path(self, path: Path) -> Path:
        return _oebin_root(path) or path

    def source_paths(self, path: Path) -> list[Path]:
        root = _oebin_root(path)
        return list(walk_files(root, max_depth=8)) if root else []

    def sortings(self, path: Path, rawio: BaseRawIO, recordings: list[Recording]) -> tuple[Sorting, ...]:
        from nwbconvert.readers.openephys_spikes import binary_sorting

        root = _oebin_root(path)
        units = binary_sorting(root, recordings) if root is not None else None
        return super().sortings(path, rawio, recordings) + ((units,) if units is not None else ())

    def policy(self, path: Path, rawio: BaseRawIO) -> StreamPolicy:
        root = _oebin_root(path)
        geometry = _NeuropixelsGeometry(root, rawio) if root is not None else None
        channel = geometry.channel if geometry is not None else (lambda stream, ch: ch)
        return StreamPolicy(kind=_kind, series_name=_series_name, channel=channel)

    def header_metadata(self, path: Path, rawio: BaseRawIO) -> HeaderMetadata:
        """The GUI's 'Software Time' (UTC) in the first recording's sync_messages.txt."""
        root = _oebin_root(path)
        messages = sorted(root.rglob("sync_messages.txt")) if root else []
        for message_file in messages[:1]:
            found = re.search(r"Software Time.*?:\s*(\d+)", message_file.read_text(errors="replace"))
            if found:
                start = dt.datetime.fromtimestamp(int(found.group(1)) / 1000, tz=dt.timezone.utc)
                return HeaderMetadata(session_start_time=start)
        return HeaderMetadata()


def _settings_file(root: Path, stream_name: str) -> Path | None:
    """The first experiment's settings.xml of the record node that recorded `stream_name` ("Record Node 101#...")."""
    node = stream_name.split("#")[0] if "#" in stream_name else ""
    folders = [root / node] if node and (root / node).is_dir() else []
    folders += [root, *list(root.parents)[:3]]
    for folder in folders:
        found = sorted(folder.glob("settings*.xml"), key=lambda p: (p.name != "settings.xml", p.name))
        if found:
            return found[0]
    return None


class _NeuropixelsGeometry:
    """Contact ids, positions and shanks of Neuropixels streams, from settings.xml through probeinterface.

    probeinterface wires a probe's contacts 0..N-1 in the order of the stream's channels (after any
    Channel Map processor), so device channel index k is the k-th channel neo lists for the stream.
    Every channel of a probe gets the probe's name as its group, so AP and LFP bands share electrode rows.
    Geometry is optional: a stream probeinterface cannot place keeps its channels as they are.
    """

    def __init__(self, root: Path, rawio: BaseRawIO) -> None:
        self.sites: dict[tuple[str, str], tuple[Site, str]] = {}
        header = rawio.header
        for stream in header["signal_streams"]:
            name = str(stream["name"])
            if _kind(name, "") is SignalKind.ANALOG:
                continue
            chans = header["signal_channels"][header["signal_channels"]["stream_id"] == stream["id"]]
            self._add(root, name, [str(c) for c in chans["id"]])

    def _add(self, root: Path, stream_name: str, channel_ids: list[str]) -> None:
        import warnings

        import probeinterface

        settings = _settings_file(root, stream_name)
        if settings is None:
            return
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                probe = probeinterface.read_openephys_neuropixels(
                    settings, stream_name=stream_name.split("#")[-1], raise_error=False
                )
        except Exception:
            return
        if probe is None:
            return
        sites = probe_sites(probe)
        if len(sites) != len(channel_ids) or any(dci >= len(channel_ids) for dci, _ in sites):
            return
        group = str(probe.annotations.get("name") or stream_name.split("#")[-1].split(".")[-1])
        for dci, site in sites:
            self.sites[(stream_name, channel_ids[dci])] = (site, group)

    def channel(self, stream_name: str, ch: Channel) -> Channel:
        found = self.sites.get((stream_name, ch.id))
        return with_site(ch, *found) if found else ch


def _legacy_folder(path: Path) -> Path | None:
    folder = path if path.is_dir() else path.parent
    files = sorted(folder.glob("*.continuous"))
    if files and head(files[0], len(LEGACY_HEADER)) == LEGACY_HEADER:
        return folder
    return None


class OpenEphysLegacyReader(NeoReader):
    name = "openephys-legacy"
    description = "Open Ephys legacy recording (.continuous files)"
    suffixes = (".continuous",)
    verified = "real"  # tests/test_roundtrip.py converts a real file
    input_kind = "file or folder"
    manufacturer = "Open Ephys"
    rawio_class = "OpenEphysRawIO"
    rawio_path_argument = "dirname"

    def probe(self, path: Path) -> Match:
        if _legacy_folder(path) is not None:
            return Match.CONTENT
        return Match.SUFFIX if path.suffix == ".continuous" else Match.NO

    def rawio_path(self, path: Path) -> Path:
        return _legacy_folder(path) or path

    def source_paths(self, path: Path) -> list[Path]:
        folder = _legacy_folder(path)
        return sorted(folder.iterdir()) if folder else []

    def parse(self, path: Path) -> BaseRawIO:
        """neo's rawio of the folder, shown without its .spikes files: neo 0.14 reads none of them right (its
        default time window is in ticks times the rate, so every unit comes out empty and the read fails, and an
        electrode file without spikes fails the header), so `sortings` reads them in the vendor layout."""
        import tempfile
        import warnings

        from neo.rawio import OpenEphysRawIO

        folder = _legacy_folder(path) or path
        if not any(folder.glob("*.spikes")):
            return super().parse(path)
        with tempfile.TemporaryDirectory(prefix="nwbconvert-oe-") as view, self.reading(path):
            for entry in folder.iterdir():
                if entry.suffix != ".spikes":
                    (Path(view) / entry.name).symlink_to(entry.resolve())
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                rawio = OpenEphysRawIO(dirname=view)
                rawio.parse_header()  # neo maps every file while parsing: the view may go afterwards
        return rawio

    def read(self, path: Path, options: ReadOptions) -> Session:
        """neo's session and the .spikes files' units; a .spikes file cut inside a record is an incomplete copy."""
        from nwbconvert.readers.openephys_spikes import cut_spike_files

        notes = cut_spike_files(_legacy_folder(path) or path, options)
        session = super().read(path, options)
        return replace(session, notes=session.notes + tuple(notes)) if notes else session

    def sortings(self, path: Path, rawio: BaseRawIO, recordings: list[Recording]) -> tuple[Sorting, ...]:
        from nwbconvert.readers.openephys_spikes import legacy_sorting

        found = legacy_sorting(_legacy_folder(path) or path, self.name)
        return (found,) if found is not None else ()

    def header_metadata(self, path: Path, rawio: BaseRawIO) -> HeaderMetadata:
        # 'date_created' of the .continuous headers, e.g. '03-Apr-2025 13:38:45' (local time)
        created = rawio.raw_annotations["blocks"][0]["segments"][0].get("date_created", "")
        try:
            return HeaderMetadata(dt.datetime.strptime(str(created).strip("'\" "), "%d-%b-%Y %H:%M:%S"))
        except ValueError:
            return HeaderMetadata()
