"""Sources holding units and events but no continuous samples become NWB files without acquisition series.

Oracles: neo (Plexon spikes, waveforms and events; Open Ephys events), the Open Ephys vendor tools
(open-ephys-python-tools: the binary format's spikes, which neo does not read), spikeinterface (Phy/Kilosort
folders read directly), h5py on the written files.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from cli_runner import nwbconvert
from conftest import COMPLETE_METADATA, realdata

PLX = "plexon/pyramid_plexon_sdk/16sp_lfp_with_2coords.plx"
OE_SPIKES = "openephys_binary/oe_tools_v067_spikes_events/Record Node 105"
SETS = [a for kv in COMPLETE_METADATA for a in ("--set", kv)]


def _convert(source: Path, out: Path, *extra: str) -> Any:
    done = nwbconvert("convert", source, "-o", out, *SETS, "--timezone", "UTC", *extra)
    assert done.returncode == 0, done.stderr
    return done


def _units(path: Path) -> dict[str, dict[str, Any]]:
    """unit_name -> spike times, mean and sd waveforms (as stored) and the other columns, by h5py."""
    with h5py.File(path, "r") as f:
        units = f["units"]
        index = units["spike_times_index"][()]
        times = np.split(units["spike_times"][()], index[:-1])
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in units["unit_name"][()]]
        out = {}
        for i, name in enumerate(names):
            out[name] = {"times": times[i], "sorting": units["sorting"][i]}
            for key in ("waveform_mean", "waveform_sd", "electrodes_index"):
                if key in units:
                    out[name][key] = units[key][i]
        return out


def _events(path: Path) -> dict[str, np.ndarray]:
    with h5py.File(path, "r") as f:
        return {name: table["timestamp"][()] for name, table in f["events"].items()} if "events" in f else {}


def _no_acquisition(path: Path) -> None:
    with h5py.File(path, "r") as f:
        assert len(f["acquisition"]) == 0
        assert "ecephys" not in f["processing"]


# ---- Plexon files without slow (continuous) channels, built from the real SDK file in the vendor layout


def _strip_plexon(src: Path, dst: Path, drop: set[str]) -> None:
    """A copy of a .plx without the channels of the kinds in `drop` ('slow', 'dsp'): their headers go, their count
    in the global header becomes 0 and their data blocks (type 5 slow, type 1 spike) are left out."""
    from neo.rawio import plexonrawio as layout

    raw = np.fromfile(src, dtype="u1")
    global_size = np.dtype(layout.GlobalHeader).itemsize
    header = raw[:global_size].view(layout.GlobalHeader)[0].copy()
    kinds = (
        ("dsp", "NumDSPChannels", layout.DspChannelHeader, 1),
        ("ev", "NumEventChannels", layout.EventChannelHeader, 4),
    )
    kinds += (("slow", "NumSlowChannels", layout.SlowChannelHeader, 5),)
    pos, parts, dropped_types = global_size, [], set()
    for kind, count, dtype, block_type in kinds:
        size = int(header[count]) * np.dtype(dtype).itemsize
        if kind in drop:
            header[count], dropped_types = 0, dropped_types | {block_type}
        else:
            parts.append(raw[pos : pos + size])
        pos += size
    while pos < raw.size:
        block = raw[pos : pos + 16].view(layout.DataBlockHeader)[0]
        length = 16 + int(block["NumberOfWaveforms"]) * int(block["NumberOfWordsInWaveform"]) * 2
        if int(block["Type"]) not in dropped_types:
            parts.append(raw[pos : pos + length])
        pos += length
    np.concatenate([np.frombuffer(header.tobytes(), "u1"), *parts]).tofile(dst)


def _neo_plexon(path: Path) -> Any:
    from neo.rawio import PlexonRawIO

    rawio = PlexonRawIO(filename=str(path), progress_bar=False)
    rawio.parse_header()
    return rawio


def test_plexon_spikes_without_slow_channels_become_units_with_waveforms_and_events(tmp_path: Path) -> None:
    original = realdata(PLX)
    plx = tmp_path / "spikes_only.plx"
    _strip_plexon(original, plx, {"slow"})
    rawio, full = _neo_plexon(plx), _neo_plexon(original)
    assert len(rawio.header["signal_channels"]) == 0 and len(full.header["signal_channels"]) == 16
    out = tmp_path / "spikes.nwb"
    _convert(plx, out)
    _no_acquisition(out)
    units = _units(out)
    names = [str(n) for n in rawio.header["spike_channels"]["name"]]
    assert sorted(units) == sorted(names) and len(names) == 8
    for i, name in enumerate(names):
        ts = full.get_spike_timestamps(0, 0, i, None, None)  # the original file: nothing lost in the copy
        np.testing.assert_allclose(units[name]["times"], full.rescale_spike_timestamp(ts, "float64"), atol=1e-9)
        raw = rawio.get_spike_raw_waveforms(0, 0, i, None, None)[:, 0, :].astype("float64")
        row = rawio.header["spike_channels"][i]
        millivolts = raw * float(row["wf_gain"]) + float(row["wf_offset"])  # file version 106: neo's gain gives mV
        np.testing.assert_allclose(units[name]["waveform_mean"], millivolts.mean(axis=0) * 1e-3, rtol=1e-6)
        np.testing.assert_allclose(units[name]["waveform_sd"], millivolts.std(axis=0) * 1e-3, rtol=1e-5, atol=1e-12)
    assert sum(len(u["times"]) for u in units.values()) == 9294
    with h5py.File(out, "r") as f:  # one electrode per DSP channel (neo's unit id 'ch3#0': channel 3)
        channel_names = [n.decode() for n in f["general/extracellular_ephys/electrodes/channel_name"][()]]
        unit_names = [n.decode() for n in f["units/unit_name"][()]]
        linked = [channel_names[row] for row in f["units/electrodes"][()]]
    dsp = {str(r["name"]): str(r["id"]).split("#")[0] for r in rawio.header["spike_channels"]}
    assert channel_names == [f"SPK0{i}" for i in range(1, 9)] and linked == unit_names
    assert [dsp[n] for n in unit_names] == [f"ch{i}" for i in range(1, 9)]
    strobed = list(rawio.header["event_channels"]["name"]).index("Strobed")
    times, _, _ = rawio.get_event_timestamps(0, 0, strobed)
    np.testing.assert_allclose(_events(out)["EventsStrobed"], rawio.rescale_event_timestamp(times, "float64"))
    assert len(_events(out)["EventsStrobed"]) == 1924


def test_plexon_strobed_events_alone_become_a_file_of_events(tmp_path: Path) -> None:
    plx = tmp_path / "events_only.plx"
    _strip_plexon(realdata(PLX), plx, {"slow", "dsp"})
    rawio = _neo_plexon(plx)
    assert len(rawio.header["spike_channels"]) == 0
    out = tmp_path / "events.nwb"
    _convert(plx, out)
    _no_acquisition(out)
    with h5py.File(out, "r") as f:
        assert "units" not in f
    found = _events(out)
    assert sorted(found) == ["EventsStart", "EventsStop", "EventsStrobed"]
    for index, name in enumerate(rawio.header["event_channels"]["name"]):
        times, _, _ = rawio.get_event_timestamps(0, 0, index)
        if len(times):
            expected = rawio.rescale_event_timestamp(times, "float64")
            np.testing.assert_allclose(found[f"Events{name}"], expected)


# ---- Open Ephys binary: spikes/ and events/ without continuous.dat (a real GUI 0.6.7 recording)


def test_openephys_binary_spikes_and_events_without_continuous(tmp_path: Path) -> None:
    from open_ephys.analysis import Session as OpenEphysSession

    node = realdata(OE_SPIKES)
    out = tmp_path / "oe.nwb"
    done = _convert(node, out)
    assert "no continuous/" in done.stderr  # the structure.oebin declares a stream the copy lacks: said, not silent
    _no_acquisition(out)
    units = _units(out)
    vendor = OpenEphysSession(str(node.parent)).recordnodes[0].recordings[0]
    assert len(vendor.spikes) == 8 and len(units) == 8
    for spikes in vendor.spikes:
        unit = units[f"{spikes.metadata.name}#0"]  # one cluster (0) per electrode in this recording
        np.testing.assert_array_equal(unit["times"], spikes.timestamps)
        waveforms = spikes.waveforms * 1e-6  # (spikes, channels, samples), microvolts (raw x bit_volts)
        assert unit["waveform_mean"].shape == (40, 2)
        np.testing.assert_allclose(unit["waveform_mean"], waveforms.mean(axis=0).T, rtol=1e-9, atol=1e-15)
    assert sum(len(u["times"]) for u in units.values()) == 1379
    with h5py.File(out, "r") as f:
        assert f["units/waveform_mean"].attrs["sampling_rate"] == 40000.0
        electrodes = f["general/extracellular_ephys/electrodes"]
        names = [n.decode() for n in electrodes["channel_name"][()]]
        groups = [g.decode() for g in electrodes["group_name"][()]]
        assert names == [f"CH{i}" for i in range(1, 17)]  # structure.oebin: Stereotrode k holds CH2k-1, CH2k
        assert groups == [f"Stereotrode {(i + 1) // 2}" for i in range(1, 17)]
        index, rows = f["units/electrodes_index"][()], f["units/electrodes"][()]
        unit_names = [n.decode() for n in f["units/unit_name"][()]]
        for i, name in enumerate(unit_names):
            k = int(name.split()[1].split("#")[0])
            assert [names[r] for r in rows[(index[i - 1] if i else 0) : index[i]]] == [f"CH{2 * k - 1}", f"CH{2 * k}"]
    _check_events_equal_neo(node, out)


def _check_events_equal_neo(node: Path, out: Path) -> None:
    from neo.rawio import OpenEphysBinaryRawIO

    rawio = OpenEphysBinaryRawIO(dirname=str(node))
    rawio.parse_header()
    found = _events(out)
    assert sorted(found) == ["EventsMessages", "EventsNetworkEventsOutput"]  # the File Reader's TTL file is empty
    for index, name in enumerate(["EventsAllTTLEvents", "EventsMessages", "EventsNetworkEventsOutput"]):
        times, _, _ = rawio.get_event_timestamps(0, 0, index)
        if len(times):
            np.testing.assert_allclose(found[name], np.sort(rawio.rescale_event_timestamp(times, "float64", index)))
    assert len(found["EventsMessages"]) == 14


def test_openephys_binary_units_only_info_and_zarr(tmp_path: Path) -> None:
    node = realdata(OE_SPIKES)
    out = tmp_path / "oe.nwb.zarr"
    _convert(node, out, "--backend", "zarr")
    info = nwbconvert("info", out, "--json")
    assert info.returncode == 0, info.stderr
    summary = json.loads(info.stdout)["result"]
    assert summary["series"] == [] and summary["n_units"] == 8 and summary["n_electrodes"] == 16
    assert len(summary["electrode_groups"]) == 8  # one per stereotrode
    assert {t["name"]: t["n_rows"] for t in summary["tables"]} == {
        "EventsMessages": 14,
        "EventsNetworkEventsOutput": 64,
    }


def test_a_source_with_no_samples_events_or_units_is_refused_in_plain_words(tmp_path: Path) -> None:
    node = tmp_path / "Record Node 105"
    shutil.copytree(realdata(OE_SPIKES), node)
    recording = node / "experiment1" / "recording1"
    shutil.rmtree(recording / "spikes")
    for folder in (recording / "events").glob("*/TTL"):
        for name in ("states", "sample_numbers", "full_words", "timestamps"):
            array = np.load(folder / f"{name}.npy")
            np.save(folder / f"{name}.npy", array[:0])
    shutil.rmtree(recording / "events" / "MessageCenter")
    structure = recording / "structure.oebin"
    doc = json.loads(structure.read_text())
    doc["events"] = [e for e in doc["events"] if e["folder_name"] != "MessageCenter/"]
    doc["spikes"] = []
    structure.write_text(json.dumps(doc))
    out = tmp_path / "none.nwb"
    done = nwbconvert("convert", node, "-o", out, *SETS, "--timezone", "UTC")
    assert done.returncode == 3, done.stderr
    assert "no sampled signal, no event and no sorted unit" in done.stderr
    assert "Traceback" not in done.stderr and not re.search(r"\b[A-Z]\w+(Error|Exception)\b", done.stderr)
    assert not out.exists()


# ---- Open Ephys legacy: stereotrode/tetrode .spikes files beside the real .continuous files

LEGACY = "openephys_legacy/v0.6.7_OpenEphys/Record Node 101"


def _spikes_file(path: Path, channels: int, count: int, first_timestamp: int, seed: int) -> None:
    """A .spikes file in the documented layout: a 1024-byte text header, then per spike uint8 eventType (4),
    int64 timestamp, int64 software timestamp, uint16 source id, channels, samples, sorted id, electrode id,
    channel, 3 uint8 colour, 2 float32 PCA, uint16 rate, channels x 40 uint16 samples (zero at 32768),
    channels float32 gains, channels uint16 thresholds, uint16 recording number."""
    header = (
        "header.format = 'Open Ephys Data Format'; \nheader.version = 0.6; \nheader.header_bytes = 1024;\n"
        "header.description = 'spike records'; \nheader.date_created = '03-Apr-2025 13:38:45';\n"
        f"header.electrode = '{path.stem}';\nheader.num_channels = {channels};\nheader.sampleRate = 40000;\n"
    ).encode()
    fields = [("type", "u1"), ("timestamp", "<i8"), ("software", "<i8"), ("source", "<u2"), ("n", "<u2")]
    fields += [("m", "<u2"), ("sorted", "<u2"), ("electrode", "<u2"), ("channel", "<u2"), ("color", "u1", 3)]
    fields += [("pca", "<f4", 2), ("rate", "<u2"), ("samples", "<u2", channels * 40), ("gains", "<f4", channels)]
    fields += [("thresholds", "<u2", channels), ("recording", "<u2")]
    rng = np.random.default_rng(seed)
    records = np.zeros(count, np.dtype(fields))
    records["type"], records["n"], records["m"], records["rate"] = 4, channels, 40, 40000
    records["timestamp"] = np.sort(first_timestamp + rng.integers(0, 120_000, count))
    records["sorted"] = rng.integers(0, 2, count)
    records["samples"] = 32768 + rng.integers(-2000, 2000, (count, channels * 40))
    records["gains"] = 20000.0  # 1000 / gain: 0.05 µV a step, the .continuous files' bitVolts
    path.write_bytes(header.ljust(1024, b" ") + (records.tobytes() if count else b""))


def test_openephys_legacy_spikes_beside_continuous_become_units(tmp_path: Path) -> None:
    from neo.rawio import OpenEphysRawIO

    folder = tmp_path / "Record Node 101"
    shutil.copytree(realdata(LEGACY), folder)
    first = int(np.fromfile(folder / "100_example-data_CH1.continuous", "<i8", count=1, offset=1024)[0])
    assert first > 0  # neo 0.14's default spike window (ticks x rate) then holds no spike
    _spikes_file(folder / "STp104.0n0.spikes", 2, 50, first, seed=1)
    _spikes_file(folder / "TTp104.0n1.spikes", 4, 30, first, seed=2)
    out = tmp_path / "legacy.nwb"
    _convert(folder, out)
    rawio = OpenEphysRawIO(dirname=str(folder))
    rawio.parse_header()
    names = [str(n) for n in rawio.header["spike_channels"]["name"]]
    assert names == ["STp104.0n0#0", "STp104.0n0#1", "TTp104.0n1#0", "TTp104.0n1#1"]
    units = _units(out)
    assert sorted(units) == names
    for i, name in enumerate(names):  # neo with an explicit window in seconds (its default one is wrong)
        ts = rawio.get_spike_timestamps(0, 0, i, 0.0, 1e6)
        np.testing.assert_allclose(units[name]["times"], rawio.rescale_spike_timestamp(ts, "float64"), atol=1e-12)
        row = rawio.header["spike_channels"][i]
        raw = rawio.get_spike_raw_waveforms(0, 0, i, 0.0, 1e6).astype("float64")  # (spikes, channels, samples)
        microvolts = raw * float(row["wf_gain"]) + float(row["wf_offset"])
        assert str(row["wf_units"]) == "uV" and len(ts) > 0
        mean, channels = units[name]["waveform_mean"], raw.shape[1]
        np.testing.assert_allclose(mean[:, :channels], microvolts.mean(axis=0).T * 1e-6, atol=1e-12)
        assert mean.shape == (40, 4) and np.isnan(mean[:, channels:]).all()  # a stereotrode beside tetrodes: NaN
    with h5py.File(out, "r") as f:
        assert f["acquisition"]["ElectricalSeriesSignalsCH"]["data"].shape == (133120, 16)
    # an electrode that detected nothing leaves a header-only file (neo's header parse fails on it)
    _spikes_file(folder / "STp104.0n2.spikes", 2, 0, first, seed=3)
    again = tmp_path / "again.nwb"
    _convert(folder, again)
    assert sorted(_units(again)) == names


def test_openephys_legacy_spikes_file_cut_inside_a_record_is_an_incomplete_copy(tmp_path: Path) -> None:
    folder = tmp_path / "Record Node 101"
    shutil.copytree(realdata(LEGACY), folder)
    first = int(np.fromfile(folder / "100_example-data_CH1.continuous", "<i8", count=1, offset=1024)[0])
    spikes = folder / "STp104.0n0.spikes"
    _spikes_file(spikes, 2, 50, first, seed=1)
    record = 42 + 2 * 2 * 40 + 4 * 2 + 2 * 2 + 2  # bytes of one 2-channel record (the layout above)
    assert (spikes.stat().st_size - 1024) == 50 * record
    with spikes.open("r+b") as f:
        f.truncate(1024 + 49 * record + 100)  # cut 100 bytes into the 50th record
    out = tmp_path / "cut.nwb"
    done = nwbconvert("convert", folder, "-o", out, *SETS, "--timezone", "UTC")
    assert done.returncode == 3, done.stderr
    assert "the copy looks incomplete" in done.stderr and "STp104.0n0.spikes" in done.stderr
    assert "50 whole spike records" in done.stderr and not out.exists()
    done = _convert(folder, out, "--allow-incomplete")
    assert "STp104.0n0.spikes" in done.stderr  # the warning
    assert sum(len(u["times"]) for u in _units(out).values()) == 49


def test_spike_waveform_statistics_read_in_chunks_equal_the_whole(tmp_path: Path, monkeypatch: Any) -> None:
    from nwbconvert.readers import openephys_spikes

    spikes = tmp_path / "TTp104.0n1.spikes"
    _spikes_file(spikes, 4, 101, 1000, seed=4)
    whole = {u.name: u for u in openephys_spikes._legacy_spikes(spikes)}
    monkeypatch.setattr(openephys_spikes, "CHUNK_SPIKES", 7)  # 101 spikes in chunks of 7
    chunked = {u.name: u for u in openephys_spikes._legacy_spikes(spikes)}
    assert sorted(whole) == sorted(chunked) == ["TTp104.0n1#0", "TTp104.0n1#1"]
    for name, unit in whole.items():
        np.testing.assert_allclose(chunked[name].waveform_mean_v, unit.waveform_mean_v, rtol=1e-12)
        np.testing.assert_allclose(chunked[name].waveform_sd_v, unit.waveform_sd_v, rtol=1e-9)
    records = np.fromfile(spikes, dtype="u1", offset=1024)
    assert len(records) == 101 * (42 + 2 * 4 * 40 + 4 * 4 + 2 * 4 + 2)
