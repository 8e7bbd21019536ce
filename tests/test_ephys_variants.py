"""Real vendor files in variants another reader opens: Neuralynx recordings with timestamp gaps neo refuses by
default, SpikeGLX runs of older versions and NP2.x header variants. Built from the real files in
../shared/realdata; checked against neo (and probeinterface) and literal tables of what was written."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from cli_runner import nwbconvert
from conftest import COMPLETE_METADATA, realdata
from helpers import provenance, series_arrays
from nwbconvert.synthetic.signals import extracellular, square_wave
from nwbconvert.synthetic.spikeglx import RealHeaderRun, _meta, _meta_lines, _write_bin, write_spikeglx_from_meta

SET = [f"--set={kv}" for kv in COMPLETE_METADATA]

# --- Neuralynx: gaps -------------------------------------------------------------------------------------------
NCS_HEADER_BYTES = 16 * 1024
NCS_RECORD = np.dtype(
    [("timestamp", "<u8"), ("channel", "<u4"), ("rate", "<u4"), ("valid", "<u4"), ("samples", "<i2", (512,))]
)
GAPS_US = {8: 1_200_000, 14: 35_000, 19: 2_000}  # record index -> microseconds added from that record on


def _gapped_neuralynx(tmp_path: Path) -> Path:
    """The real 2 kHz ATLAS folder with three timestamp jumps (1.2 s, 35 ms, 2 ms) written into every .ncs."""
    folder = tmp_path / "nlx"
    folder.mkdir()
    for f in realdata("neuralynx/mne_testing_2kHz").iterdir():
        if f.suffix in (".ncs", ".nev"):
            shutil.copyfile(f, folder / f.name)
    for f in folder.glob("*.ncs"):
        records = np.memmap(f, dtype=NCS_RECORD, mode="r+", offset=NCS_HEADER_BYTES)
        for first, jump in GAPS_US.items():
            records["timestamp"][first:] += np.uint64(jump)
        records.flush()
        del records
    return folder


def test_neo_refuses_the_gapped_copy_by_default(tmp_path: Path) -> None:
    from neo.rawio import NeuralynxRawIO

    rawio = NeuralynxRawIO(dirname=str(_gapped_neuralynx(tmp_path)))
    with pytest.raises(ValueError, match="gap_tolerance_ms"):
        rawio.parse_header()


@pytest.mark.parametrize("single_file", [False, True], ids=["folder", "one-ncs"])
def test_neuralynx_gaps_are_written_as_timestamps(tmp_path: Path, single_file: bool) -> None:
    from neo.rawio import NeuralynxRawIO

    folder = _gapped_neuralynx(tmp_path)
    source = folder / "LAHC1.ncs" if single_file else folder
    out = tmp_path / "o.nwb"
    result = nwbconvert("convert", source, "-o", out, *SET, "--timezone", "UTC", "--no-validate")
    assert result.returncode == 0, result.stderr
    assert "3 gaps in the recording (longest 1.2 s); written with timestamps" in result.stdout + result.stderr
    notes = provenance(out)["notes"]
    assert [n["what"] for n in notes] == ["gaps"]

    if single_file:
        rawio = NeuralynxRawIO(dirname=str(folder), include_filenames=["LAHC1.ncs"], gap_tolerance_ms=0.25)
    else:
        rawio = NeuralynxRawIO(dirname=str(folder), gap_tolerance_ms=0.25)
    rawio.parse_header()
    assert rawio.segment_count(0) == 4
    sizes = [rawio.get_signal_size(0, s, 0) for s in range(4)]
    assert sizes == [8 * 512, 6 * 512, 5 * 512, 3 * 512 + 427]  # the real last record holds 427 samples
    expected = np.concatenate([rawio.get_analogsignal_chunk(0, s, stream_index=0) for s in range(4)])
    stamps = np.concatenate([rawio.get_signal_t_start(0, s, 0) + np.arange(n) / 2000.0 for s, n in enumerate(sizes)])
    with h5py.File(out, "r") as f:
        (name,) = list(f["acquisition"])
    series = series_arrays(out, name)
    assert series["rate"] is None
    np.testing.assert_array_equal(series["data"], expected)
    np.testing.assert_allclose(series["timestamps"], stamps, rtol=0, atol=1e-9)

    # the literal table: every record's first sample sits where its record timestamp (as written) says
    records = np.memmap(folder / "LAHC1.ncs", dtype=NCS_RECORD, mode="r", offset=NCS_HEADER_BYTES)
    written_s = (records["timestamp"].astype(np.int64) - int(records["timestamp"][0])) / 1e6
    at_records = series["timestamps"][np.arange(len(records)) * 512] - series["timestamps"][0]
    np.testing.assert_allclose(at_records, written_s, rtol=0, atol=2e-6)
    assert np.diff(series["timestamps"]).max() == pytest.approx(1.2 + 1 / 2000, abs=2e-6)


# --- SpikeGLX: runs of SpikeGLX before probe indexes, and a NP2020 quad-base probe ------------------------------
NP1 = "spikeglx_meta/np1_3B_g0"
NP24_AP = "spikeglx_meta/np24_4shank/sampleNP2.4_4shanks_g0_t0.imec.ap.meta"
QUAD_SHANKS, QUAD_PER_SHANK = 4, 384
QUAD_FIELDS = {  # a NP2020 quad-base probe (SpikeGLX 20250525-API4 and later): 12-bit, gain 100, +-0.62 V
    "imDatPrb_type": "2020",
    "imDatPrb_pn": "NP2020",
    "imMaxInt": "2048",
    "imAiRangeMax": "0.62",
    "imAiRangeMin": "-0.62",
    "appVersion": "20250525",
}


def _drop_probe_index(run: RealHeaderRun, in_header: bool) -> RealHeaderRun:
    """A one-probe run in the layout of SpikeGLX before probe indexes (phase 3A; no probe folders):
    `<run>_g0_t0.imec.ap.bin` beside the nidq files. With `in_header` the .meta's fileName says `.imec.` too, as
    SpikeGLX wrote it; without, only the files were renamed (like the IBL fixture of the NP2.4 header)."""
    bins: dict[str, Path] = {}
    for stream, bin_path in run.bins.items():
        if not stream.startswith("imec"):
            bins[stream] = bin_path
            continue
        target = run.folder / re.sub(r"\.imec\d+\.", ".imec.", bin_path.name)
        text = bin_path.with_suffix(".meta").read_text()
        if in_header:
            text = re.sub(r"(?m)^fileName=.*$", f"fileName=D:/data/{run.folder.name}/{target.name}", text)
        target.with_suffix(".meta").write_text(text)
        bin_path.rename(target)
        bin_path.with_suffix(".meta").unlink()
        if not any(bin_path.parent.iterdir()):
            bin_path.parent.rmdir()
        bins["imec." + stream.split(".")[1]] = target
    return RealHeaderRun(run.folder, bins)


def _quad_tables(sync_names: tuple[str, ...]) -> dict[str, str]:
    """imroTbl (type 2020: channel shank bank ref electrode), snsChanMap and snsGeomMap of a quad-base probe reading
    electrodes 0-383 of each shank: 1536 neural channels, shank-major, then one SY word per shank (the SpikeGLX
    quad-base quickstart: 'the full channel set for QB includes 1536 full-band neural channels, followed by 4 SY')."""
    n = QUAD_SHANKS * QUAD_PER_SHANK
    imro = "".join(f"({c} {c // QUAD_PER_SHANK} 0 0 {c % QUAD_PER_SHANK})" for c in range(n))
    chans = "".join(f"(AP{c};{c}:{c})" for c in range(n))
    syncs = "".join(f"({name};{n + k}:{n + k})" for k, name in enumerate(sync_names))
    geom = "".join(
        f"({c // QUAD_PER_SHANK}:{27 + 32 * (c % 2)}:{15 * ((c % QUAD_PER_SHANK) // 2)}:1)" for c in range(n)
    )
    return {
        "~imroTbl": f"(2020,{n}){imro}",
        "~snsChanMap": f"({n},0,{len(sync_names)}){chans}{syncs}",
        "~snsGeomMap": f"(NP2020,{QUAD_SHANKS},250,70){geom}",
    }


def _quad_base_run(root: Path, sync_names: tuple[str, ...], seconds: float = 0.05) -> RealHeaderRun:
    """<root>/Quad_g0/Quad_g0_imec0/Quad_g0_t0.imec0.ap.bin/.meta: one NP2020 quad-base probe, 1536 channels then
    four SY words, around the real NP2.4 .ap.meta with its probe fields and tables rewritten."""
    n_neural, n_sync = QUAD_SHANKS * QUAD_PER_SHANK, len(sync_names)
    fields = dict(_meta_lines(realdata(NP24_AP)))
    fields.pop("~snsShankMap", None)
    fields.update(QUAD_FIELDS)
    fields.update(_quad_tables(sync_names))
    counts = f"{n_neural},0,{n_sync}"
    fields.update(acqApLfSy=counts, snsApLfSy=counts, nSavedChans=str(n_neural + n_sync))
    fields["snsSaveChanSubset"] = f"0:{n_neural + n_sync - 1}"
    rate = float(fields["imSampRate"])
    n = round(seconds * rate)
    neural = extracellular(n, n_neural, rate, 0.62 / 2048 / 100 * 1e6, seed=5)
    syncs = [square_wave(n, rate, 0.01 * (k + 1), 64) for k in range(n_sync)]
    bin_path = root / "Quad_g0" / "Quad_g0_imec0" / "Quad_g0_t0.imec0.ap.bin"
    written = _write_bin(bin_path, iter([np.column_stack([neural, *syncs])]))
    fields.update(
        fileName=f"D:/data/{bin_path.relative_to(root).as_posix()}",
        fileSizeBytes=str(written.size),
        fileSHA1=written.sha1,
        fileTimeSecs=repr(written.n_samples / rate),
    )
    bin_path.with_suffix(".meta").write_text(_meta(fields))
    return RealHeaderRun(root / "Quad_g0", {"imec0.ap": bin_path})


def _convert(source: Path, out: Path) -> None:
    result = nwbconvert("convert", source, "-o", out, *SET, "--timezone", "UTC", "--no-validate")
    assert result.returncode == 0, result.stderr


def _series_names(path: Path) -> set[str]:
    with h5py.File(path, "r") as f:
        return set(f["acquisition"]) | set(f.get("processing/ecephys/LFP", {}))


def _electrodes(path: Path, series: str) -> dict[str, np.ndarray]:
    """The electrodes table's rel_x, rel_y, shank and channel_name, at the rows the series refers to."""
    with h5py.File(path, "r") as f:
        group = next(f[g] for g in (f"acquisition/{series}", f"processing/ecephys/LFP/{series}") if g in f)
        rows = group["electrodes"][()]
        table = f["general/extracellular_ephys/electrodes"]
        return {k: table[k][()][rows] for k in ("rel_x", "rel_y", "shank", "channel_name") if k in table}


def _assert_geometry(path: Path, series: str, meta: Path) -> None:
    import probeinterface

    probe = probeinterface.read_spikeglx(meta)
    rows = _electrodes(path, series)
    np.testing.assert_array_equal(np.column_stack([rows["rel_x"], rows["rel_y"]]), probe.contact_positions)
    if probe.shank_ids is not None and len(set(probe.shank_ids)) > 1:
        assert [s.decode() for s in rows["shank"]] == [str(s) for s in probe.shank_ids]


def _assert_equal_neo(path: Path, folder: Path, names: dict[str, str]) -> None:
    """Each series (name -> neo stream) holds neo's raw samples and its gains (stock neo reads these folders)."""
    from neo.rawio import SpikeGLXRawIO

    rawio = SpikeGLXRawIO(dirname=str(folder))
    rawio.parse_header()
    streams = [str(s) for s in rawio.header["signal_streams"]["name"]]
    for series, stream in names.items():
        index = streams.index(stream)
        got = series_arrays(path, series)
        np.testing.assert_array_equal(got["data"], rawio.get_analogsignal_chunk(0, 0, stream_index=index))
        assert got["rate"] == rawio.get_signal_sampling_rate(index)
        if not stream.endswith("SYNC"):  # neo's gains, in volts: conversion x channel_conversion
            chans = rawio.header["signal_channels"]
            mine = chans[chans["stream_id"] == stream]
            volts = mine["gain"] * np.array([1e-6 if u == "uV" else 1.0 for u in mine["units"]])
            factor = got["conversion"] * (1.0 if got["channel_conversion"] is None else got["channel_conversion"])
            assert got["unit"] == "volts"
            np.testing.assert_allclose(np.broadcast_to(factor, volts.shape), volts, rtol=1e-12)


def test_spikeglx_3a_layout_without_probe_index(tmp_path: Path) -> None:
    """ap, lf and nidq named `.imec.ap.bin` etc. in the run folder, fileName too: every stream, geometry kept."""
    run = write_spikeglx_from_meta(tmp_path, sorted(realdata(NP1).glob("*.meta")), seconds=0.2)
    run = _drop_probe_index(run, in_header=True)
    out = tmp_path / "o.nwb"
    _convert(run.folder, out)
    expected = {
        "ElectricalSeriesImecAP": "imec.ap",
        "ElectricalSeriesImecLF": "imec.lf",
        "TimeSeriesImecAPSync": "imec.ap-SYNC",
        "TimeSeriesImecLFSync": "imec.lf-SYNC",
        "TimeSeriesNIDQ": "nidq",
    }
    assert _series_names(out) == set(expected)
    _assert_equal_neo(out, run.folder, expected)
    _assert_geometry(out, "ElectricalSeriesImecAP", run.bins["imec.ap"].with_suffix(".meta"))
    one = tmp_path / "one.nwb"  # the .bin alone: its band and its sync word
    _convert(run.bins["imec.lf"], one)
    assert _series_names(one) == {"ElectricalSeriesImecLF", "TimeSeriesImecLFSync"}


def test_spikeglx_renamed_copy_without_probe_index(tmp_path: Path) -> None:
    """Files renamed `.imec.ap` while the header's fileName says imec0 (neo names the stream after the header):
    the four-shank geometry is kept, and the .bin given alone converts (an empty file before)."""
    run = _drop_probe_index(write_spikeglx_from_meta(tmp_path, [realdata(NP24_AP)], seconds=0.2), in_header=False)
    expected = {"ElectricalSeriesImec0AP": "imec0.ap", "TimeSeriesImec0APSync": "imec0.ap-SYNC"}
    for n, source in enumerate((run.folder, run.bins["imec.ap"])):
        out = tmp_path / f"o{n}.nwb"
        _convert(source, out)
        assert _series_names(out) == set(expected)
        _assert_equal_neo(out, run.folder, expected)
        _assert_geometry(out, "ElectricalSeriesImec0AP", run.bins["imec.ap"].with_suffix(".meta"))
        assert len({s.decode() for s in _electrodes(out, "ElectricalSeriesImec0AP")["shank"]}) == 4


@pytest.mark.parametrize("sync_names", [("SY0",) * 4, ("SY0", "SY1", "SY2", "SY3")], ids=["SY0x4", "SY0-3"])
def test_spikeglx_quad_base_probe(tmp_path: Path, sync_names: tuple[str, ...]) -> None:
    """Stock neo cannot read a quad-base stream (duplicate SY names: not unique ids; distinct ones: only one SY
    column is cut off, reading the -SYNC stream fails). Checked against the .bin as its .meta lays it out."""
    from neo.rawio import SpikeGLXRawIO

    run = _quad_base_run(tmp_path, sync_names)
    rawio = SpikeGLXRawIO(dirname=str(run.folder))
    with pytest.raises((ValueError, KeyError)):
        rawio.parse_header()
        rawio.get_analogsignal_chunk(0, 0, 0, 10, stream_index=1)
    out = tmp_path / "o.nwb"
    _convert(run.folder, out)
    assert _series_names(out) == {"ElectricalSeriesImec0AP", "TimeSeriesImec0APSync"}
    raw = np.fromfile(run.bins["imec0.ap"], dtype="<i2").reshape(-1, 1540)
    ap, sync = series_arrays(out, "ElectricalSeriesImec0AP"), series_arrays(out, "TimeSeriesImec0APSync")
    np.testing.assert_array_equal(ap["data"], raw[:, :1536])
    np.testing.assert_array_equal(sync["data"], raw[:, 1536:])
    assert sync["unit"] == "n.a."
    np.testing.assert_allclose(ap["conversion"] * ap["channel_conversion"], 0.62 / 2048 / 100, rtol=1e-12)
    assert ap["rate"] == sync["rate"] == pytest.approx(29999.757983)
    _assert_geometry(out, "ElectricalSeriesImec0AP", run.bins["imec0.ap"].with_suffix(".meta"))
    rows = _electrodes(out, "ElectricalSeriesImec0AP")
    assert [s.decode() for s in rows["shank"]] == [str(c // 384) for c in range(1536)]
    assert provenance(out)["series"]["TimeSeriesImec0APSync"]["channel_ids"] == [f"imec0.ap#SY{k}" for k in range(4)]


NP2_TYPES = {  # fields of a NP2.0 header other than the real four-shank one (type 24), as SpikeGLX writes them
    "21": {  # single shank, 14-bit, gain 80; imroTbl (channel bank_mask ref electrode)
        "imDatPrb_type": "21",
        "imDatPrb_pn": "PRB2_1_2_0640_0",
        "~imroTbl": "(21,384)" + "".join(f"({c} 1 0 {c})" for c in range(384)),
        "~snsShankMap": "(1,2,480)" + "".join(f"(0:{c % 2}:{c // 2}:1)" for c in range(384)),
    },
    "2013": {  # four shanks, 12-bit, gain 100; imroTbl (channel shank bank ref electrode)
        "imDatPrb_type": "2013",
        "imDatPrb_pn": "NP2014",
        "imMaxInt": "2048",
        "imAiRangeMax": "0.62",
        "imAiRangeMin": "-0.62",
        "~imroTbl": "(2013,384)" + "".join(f"({c} {c // 96} 0 0 {c % 96})" for c in range(384)),
    },
}
NP2_VOLTS_PER_BIT = {"21": 0.5 / 8192 / 80, "2013": 0.62 / 2048 / 100}  # imAiRangeMax / imMaxInt / gain


@pytest.mark.parametrize("probe_type", NP2_TYPES)
def test_spikeglx_np2_header_variants(tmp_path: Path, probe_type: str) -> None:
    run = write_spikeglx_from_meta(tmp_path, [realdata(NP24_AP)], seconds=0.1)
    meta = run.bins["imec0.ap"].with_suffix(".meta")
    edits = dict(NP2_TYPES[probe_type])
    lines = []
    for line in meta.read_text().splitlines():
        key, _, value = line.partition("=")
        lines.append(f"{key}={edits.pop(key, value)}")
    assert not edits  # every edited field is in the real header
    meta.write_text("\n".join(lines) + "\n")
    out = tmp_path / "o.nwb"
    _convert(run.folder, out)
    _assert_equal_neo(
        out, run.folder, {"ElectricalSeriesImec0AP": "imec0.ap", "TimeSeriesImec0APSync": "imec0.ap-SYNC"}
    )
    ap = series_arrays(out, "ElectricalSeriesImec0AP")
    np.testing.assert_allclose(ap["conversion"] * ap["channel_conversion"], NP2_VOLTS_PER_BIT[probe_type], rtol=1e-12)
    _assert_geometry(out, "ElectricalSeriesImec0AP", meta)
