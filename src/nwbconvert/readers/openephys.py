"""Open Ephys recordings: the binary format (structure.oebin) and the legacy format (.continuous)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nwbconvert.model import Channel, HeaderMetadata, Recording, SignalKind, Sorting, Unit
from nwbconvert.probes import Site, probe_sites, with_site
from nwbconvert.readers.base import Match, head, walk_files
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
        root = _oebin_root(path)
        units = _binary_spikes(root, recordings) if root is not None else None
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


def _structures(root: Path) -> list[tuple[Path, dict[str, Any]]]:
    """Each recording folder's structure.oebin, parsed, in experiment and recording order."""
    found = [p for p in walk_files(root, max_depth=6) if p.name == "structure.oebin"]
    numbers = [tuple(int(n) for n in re.findall(r"(\d+)", str(p.relative_to(root)))) for p in found]
    ordered = [p for _, p in sorted(zip(numbers, found))]
    return [(p.parent, json.loads(p.read_text(errors="replace"))) for p in ordered]


def _binary_spikes(root: Path, recordings: list[Recording]) -> Sorting | None:
    """The spike detector's output (spikes/<electrode>/: timestamps, waveforms, clusters), which neo does not
    read: one unit per electrode and cluster, named as neo's legacy reader names them ('Stereotrode 1#0')."""
    times: dict[str, list[np.ndarray]] = {}
    waves: dict[str, list[np.ndarray]] = {}
    meta: dict[str, dict[str, Any]] = {}
    for folder, structure in _structures(root):
        for electrode in structure.get("spikes", []):
            spikes = folder / "spikes" / str(electrode.get("folder", ""))
            stamps, wave = np.load(spikes / "timestamps.npy"), np.load(spikes / "waveforms.npy", mmap_mode="r")
            clusters = np.load(spikes / "clusters.npy") if (spikes / "clusters.npy").exists() else np.zeros(len(stamps))
            for cluster in np.unique(clusters):
                name = f"{electrode['name']}#{int(cluster)}"
                times.setdefault(name, []).append(np.asarray(stamps, dtype="float64")[clusters == cluster])
                waves.setdefault(name, []).append(_volts(np.asarray(wave[clusters == cluster]), electrode))
                meta[name] = electrode
    if not times:
        return None
    linker = _SpikeLinker(recordings)
    units = []
    for name, parts in times.items():
        order = np.argsort(np.concatenate(parts), kind="stable")
        wave = np.concatenate(waves[name])  # (spikes, channels, samples), volts
        sources = [str(c.get("name", "")) for c in meta[name].get("source_channels", [])]
        units.append(
            Unit(
                name=name,
                spike_times_s=np.concatenate(parts)[order],
                channel_ids=linker.link(sources),
                properties={"electrode": str(meta[name]["name"]), "source_channels": ", ".join(sources)},
                waveform_mean_v=wave.mean(axis=0).T if len(wave) else None,
                waveform_sd_v=wave.std(axis=0).T if len(wave) else None,
            )
        )
    rates = {float(e.get("sample_rate", 0)) for e in meta.values()}
    rate = rates.pop() if len(rates) == 1 else None
    sorting = Sorting(
        name="openephys-spikes",
        source=str(root),
        units=tuple(units),
        recording=linker.recording,
        waveform_rate_hz=rate,
        time_resolution_s=1.0 / rate if rate else None,
        description="Spikes detected online by the Open Ephys Spike Detector (spikes/ folders), one unit per "
        "electrode and cluster.",
    )
    return sorting if linker.recording is not None else _with_electrodes(sorting, list(meta.values()))


def _with_electrodes(sorting: Sorting, electrodes: list[dict[str, Any]]) -> Sorting:
    """Without a recorded series to link to, the units carry their electrodes' source channels (one electrode
    group per stereotrode or tetrode, as structure.oebin lists them)."""
    from nwbconvert.sorting.alone import SortingWithChannels

    channels: dict[str, Channel] = {}
    for electrode in electrodes:
        for source in electrode.get("source_channels", []):
            name = str(source.get("name", ""))
            gain = float(source.get("bit_volts", 1.0))
            channels.setdefault(name, Channel(name, name, gain, group=str(electrode.get("name", "spikes"))))
    units = tuple(
        replace(u, channel_ids=tuple(n for n in str(u.properties["source_channels"]).split(", ") if n in channels))
        for u in sorting.units
    )
    base = {f.name: getattr(sorting, f.name) for f in dataclasses.fields(sorting)} | {"units": units}
    return SortingWithChannels(**base, channels=tuple(channels.values()))


def _volts(raw: np.ndarray, electrode: dict[str, Any]) -> np.ndarray:
    """Raw waveforms (spikes, channels, samples) in volts: each source channel's bit_volts are microvolts."""
    gains = [float(c.get("bit_volts", 1.0)) for c in electrode.get("source_channels", [])]
    if len(gains) != raw.shape[1]:
        gains = [gains[0] if gains else 1.0] * raw.shape[1]
    return raw.astype("float64") * np.asarray(gains)[None, :, None] * 1e-6


class _SpikeLinker:
    """The channels of the one electrical recording whose channel names are an electrode's source channels."""

    def __init__(self, recordings: list[Recording]) -> None:
        self.electrical = [r for r in recordings if r.is_electrical]
        self.recording: str | None = None

    def link(self, names: list[str]) -> tuple[str, ...]:
        for rec in self.electrical:
            by_name = {ch.name: ch.id for ch in rec.channels}
            if self.recording in (None, rec.name) and names and all(n in by_name for n in names):
                self.recording = rec.name
                return tuple(by_name[n] for n in names)
        return ()


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

    def sortings(self, path: Path, rawio: BaseRawIO, recordings: list[Recording]) -> tuple[Sorting, ...]:
        folder = _legacy_folder(path) or path
        units = [u for f in sorted(folder.glob("*.spikes"), key=_legacy_spike_order) for u in _legacy_spikes(f)]
        merged: dict[str, list[Unit]] = {}
        for unit in units:  # a unit's spikes in each segment's file (name_2.spikes, ...) are one unit
            merged.setdefault(unit.name, []).append(unit)
        if not merged:
            return ()
        rates = {_legacy_header(f).get("sampleRate", "") for f in folder.glob("*.spikes")}
        text = rates.pop() if len(rates) == 1 else ""
        rate = float(text) if text.replace(".", "", 1).isdigit() and float(text) > 0 else None
        return (
            Sorting(
                name=self.name,
                source=str(folder),
                units=tuple(_merged(parts) for parts in merged.values()),
                waveform_rate_hz=rate,
                time_resolution_s=1.0 / rate if rate else None,
                description="Spikes of the Open Ephys legacy .spikes files (one unit per electrode file and sorted "
                "id), read in the vendor layout.",
            ),
        )

    def header_metadata(self, path: Path, rawio: BaseRawIO) -> HeaderMetadata:
        # 'date_created' of the .continuous headers, e.g. '03-Apr-2025 13:38:45' (local time)
        created = rawio.raw_annotations["blocks"][0]["segments"][0].get("date_created", "")
        try:
            return HeaderMetadata(dt.datetime.strptime(str(created).strip("'\" "), "%d-%b-%Y %H:%M:%S"))
        except ValueError:
            return HeaderMetadata()


def _legacy_spike_order(path: Path) -> tuple[int, str]:
    """Segment (the '_2' of 'STp106.0n0_2.spikes' is the second), then electrode name."""
    found = re.search(r"_(\d+)$", path.stem)
    return (int(found.group(1)) if found else 1, re.sub(r"_\d+$", "", path.stem))


def _legacy_header(path: Path) -> dict[str, str]:
    """The text header (1024 bytes of `header.key = value;`) of a legacy Open Ephys file."""
    pairs = (item.partition("=") for item in head(path, 1024).decode("latin-1").split(";"))
    return {k.strip().removeprefix("header."): v.strip().strip("'\"") for k, eq, v in pairs if eq}


def _legacy_spikes(path: Path) -> list[Unit]:
    """The records of one .spikes file: eventType, timestamp, software timestamp, source id, channels N,
    samples M, sorted id, electrode id, channel, color, 2 PCA floats, rate, N*M uint16 samples (offset 32768),
    N float32 gains, N uint16 thresholds, recording number. Times are timestamp / rate (the .continuous clock)."""
    header = _legacy_header(path)
    raw = np.fromfile(path, dtype="u1", offset=1024)
    if len(raw) < 23:
        return []  # an electrode that detected no spike: a header alone
    n, m = (int(v) for v in raw[19:23].view("<u2"))
    record = np.dtype(
        [
            *[("type", "u1"), ("timestamp", "<i8"), ("software", "<i8"), ("source", "<u2"), ("n", "<u2")],
            *[("m", "<u2"), ("sorted_id", "<u2"), ("electrode", "<u2"), ("channel", "<u2"), ("color", "u1", 3)],
            *[("pca", "<f4", 2), ("rate", "<u2"), ("samples", "<u2", (n, m)), ("gains", "<f4", n)],
            *[("thresholds", "<u2", n), ("recording", "<u2")],
        ]
    )
    records = raw[: len(raw) // record.itemsize * record.itemsize].view(record)
    rate = float(header.get("sampleRate") or (records["rate"][0] if len(records) else 0) or 1.0)
    name = re.sub(r"_\d+$", "", path.stem)
    units = []
    for sorted_id in np.unique(records["sorted_id"]):
        keep = records[records["sorted_id"] == sorted_id]
        microvolts = (keep["samples"].astype("float64") - 32768.0) * (1000.0 / keep["gains"][:, :, None])
        volts = microvolts * 1e-6  # (spikes, channels, samples)
        units.append(
            Unit(
                name=f"{name}#{int(sorted_id)}",
                spike_times_s=keep["timestamp"].astype("float64") / rate,
                properties={"electrode": header.get("electrode", name), "electrode_id": int(keep["electrode"][0])},
                waveform_mean_v=volts.mean(axis=0).T,
                waveform_sd_v=volts.std(axis=0).T,
            )
        )
    return units


def _merged(parts: list[Unit]) -> Unit:
    """One unit from its parts in several segments' files (times in order, waveform statistics pooled by count)."""
    if len(parts) == 1:
        return parts[0]
    counts = np.array([len(u.spike_times_s) for u in parts], dtype="float64")[:, None, None]
    means = np.stack([np.asarray(u.waveform_mean_v, dtype="float64") for u in parts])
    sds = np.stack([np.asarray(u.waveform_sd_v, dtype="float64") for u in parts])
    mean = (means * counts).sum(axis=0) / counts.sum()
    sd = np.sqrt(((sds**2 + means**2) * counts).sum(axis=0) / counts.sum() - mean**2)
    times = np.sort(np.concatenate([u.spike_times_s for u in parts]))
    return replace(parts[0], spike_times_s=times, waveform_mean_v=mean, waveform_sd_v=np.nan_to_num(sd))
