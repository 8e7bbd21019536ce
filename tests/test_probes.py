"""Probe geometry reaches the electrodes table: SpikeGLX runs around real headers, Open Ephys Neuropixels,
`--probe FILE` overrides, and brain-area locations per electrode group."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cli_runner import nwbconvert
from conftest import COMPLETE_METADATA, realdata
from helpers import assert_valid, provenance
from nwbconvert.errors import MetadataError, UsageError
from nwbconvert.pipeline import ConvertOptions, convert, read_session
from nwbconvert.synthetic.spikeglx import RealHeaderRun, write_spikeglx_from_meta, write_spikeglx_run

SECONDS = 0.5
HEADER_SETS = ["np1_3B_g0", "np24_4shank"]
OPENEPHYS = "openephys_binary/aind_np_multiexp"


@contextmanager
def opened(path: Path) -> Iterator[Any]:
    from pynwb import NWBHDF5IO

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with NWBHDF5IO(str(path), "r") as io:
            yield io.read()


def series_of(nwb: Any, name: str) -> Any:
    """A series from acquisition or from processing/ecephys/LFP."""
    if name in nwb.acquisition:
        return nwb.acquisition[name]
    return nwb.processing["ecephys"]["LFP"].electrical_series[name]


def electrode_rows(series: Any) -> list[int]:
    return [int(i) for i in series.electrodes.data[:]]


@dataclass(frozen=True)
class Converted:
    headers: Path  # the folder of real .meta files
    run: RealHeaderRun
    nwb: Path


@pytest.fixture(scope="module", params=HEADER_SETS)
def converted(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Converted:
    headers = realdata(f"spikeglx_meta/{request.param}")
    root = tmp_path_factory.mktemp(request.param)
    run = write_spikeglx_from_meta(root, sorted(headers.glob("*.meta")), seconds=SECONDS)
    out = root / "out.nwb"
    convert(run.folder, out, ConvertOptions(set_values=COMPLETE_METADATA))
    return Converted(headers, run, out)


def _neo(folder: Path) -> Any:
    from neo.rawio import SpikeGLXRawIO

    rawio = SpikeGLXRawIO(dirname=str(folder))
    rawio.parse_header()
    return rawio


def _ap_meta(c: Converted) -> Path:
    return c.run.bins["imec0.ap"].with_suffix(".meta")


# --- the generator --------------------------------------------------------------------------------------


def test_generated_run_keeps_the_real_headers_and_neo_reads_it(converted: Converted) -> None:
    rawio = _neo(converted.run.folder)
    streams = {str(s["name"]): i for i, s in enumerate(rawio.header["signal_streams"])}
    for stream, bin_path in converted.run.bins.items():
        source = next(converted.headers.glob(f"*{stream.split('.')[-1]}.meta"))
        original = dict(line.split("=", 1) for line in source.read_text().splitlines() if "=" in line)
        written = dict(line.split("=", 1) for line in bin_path.with_suffix(".meta").read_text().splitlines())
        assert {k.lstrip("~") for k in written} == {k.lstrip("~") for k in original}, stream
        changed = {k.lstrip("~") for k in written if written[k] != original.get(k, original.get(k.lstrip("~")))}
        assert changed == {"fileName", "fileSizeBytes", "fileSHA1", "fileTimeSecs"}, stream
        n_saved = int(original["nSavedChans"])
        rate = float(original.get("imSampRate") or original["niSampRate"])
        assert int(written["fileSizeBytes"]) == bin_path.stat().st_size == 2 * n_saved * round(SECONDS * rate)
        index = streams[stream]
        assert rawio.get_signal_size(0, 0, index) == round(SECONDS * rate)
        n_neo = sum(rawio.header["signal_channels"]["stream_id"] == rawio.header["signal_streams"][index]["id"])
        sync = streams.get(f"{stream}-SYNC")
        n_sync = 0 if sync is None else 1
        assert n_neo + n_sync == n_saved


# --- SpikeGLX from real headers ---------------------------------------------------------------------------


def test_series_have_stable_names_and_places(converted: Converted) -> None:
    with opened(converted.nwb) as nwb:
        acquisition = set(nwb.acquisition)
        lfp = set(nwb.processing["ecephys"]["LFP"].electrical_series) if "ecephys" in nwb.processing else set()
    assert {"ElectricalSeriesImec0AP", "TimeSeriesImec0APSync"} <= acquisition
    if "imec0.lf" in converted.run.bins:
        assert lfp == {"ElectricalSeriesImec0LF"}
        assert "TimeSeriesImec0LFSync" in acquisition
        assert "ElectricalSeriesImec0LF" not in acquisition
    if "nidq" in converted.run.bins:
        assert "TimeSeriesNIDQ" in acquisition


def test_electrodes_equal_probeinterface(converted: Converted) -> None:
    import probeinterface

    probe = probeinterface.read_spikeglx(_ap_meta(converted))
    with opened(converted.nwb) as nwb:
        table = nwb.electrodes.to_dataframe()
        rows = electrode_rows(nwb.acquisition["ElectricalSeriesImec0AP"])
        group = nwb.electrode_groups["imec0"]
        assert group.device.name == "imec0"
    ap = table.iloc[rows]
    assert len(ap) == probe.get_contact_count() == 384
    np.testing.assert_array_equal(np.column_stack([ap["rel_x"], ap["rel_y"]]), probe.contact_positions)
    assert list(ap["contact_id"]) == [str(c) for c in probe.contact_ids]
    assert list(ap["channel_name"]) == [f"AP{i}" for i in range(384)]
    assert set(ap["group_name"]) == {"imec0"}
    if probe.shank_ids is None:  # NP1.0: one shank, so no shank column
        assert "shank" not in table.columns
    else:
        assert list(ap["shank"]) == [str(s) for s in probe.shank_ids]
    if "np24" in converted.headers.name:
        assert sorted(set(ap["shank"])) == ["0", "1", "2", "3"]
        assert len(set(ap["contact_id"])) == 384 and str(ap["contact_id"].iloc[0]).startswith("s0e")


def test_ap_and_lf_share_electrode_rows(converted: Converted) -> None:
    with opened(converted.nwb) as nwb:
        ap = electrode_rows(nwb.acquisition["ElectricalSeriesImec0AP"])
        if "imec0.lf" in converted.run.bins:  # NP1.0: an lf band beside the ap band
            assert electrode_rows(series_of(nwb, "ElectricalSeriesImec0LF")) == ap
        assert len(nwb.electrodes) == 384
    assert ap == list(range(384))


def test_samples_equal_neo(converted: Converted) -> None:
    rawio = _neo(converted.run.folder)
    h = rawio.header
    streams = {
        str(s["name"]): (i, h["signal_channels"][h["signal_channels"]["stream_id"] == s["id"]])
        for i, s in enumerate(h["signal_streams"])
    }
    series = provenance(converted.nwb)["series"]
    assert {info["stream"] for info in series.values()} == set(streams)
    with opened(converted.nwb) as nwb:
        for name, info in series.items():
            index, chans = streams[info["stream"]]
            ids = [str(c) for c in chans["id"]]
            idx = np.array([ids.index(c) for c in info["channel_ids"]])
            expected = rawio.get_analogsignal_chunk(0, 0, None, None, index, idx)
            got = series_of(nwb, name)
            np.testing.assert_array_equal(got.data[:], expected, err_msg=name)
            assert got.rate == rawio.get_signal_sampling_rate(index), name
            assert got.starting_time == rawio.get_signal_t_start(0, 0, index), name


def test_output_validates(converted: Converted) -> None:
    assert_valid(converted.nwb)


# --- Open Ephys Neuropixels ----------------------------------------------------------------------------------


def test_openephys_neuropixels_geometry_equals_probeinterface(tmp_path: Path) -> None:
    import probeinterface

    source = realdata(OPENEPHYS)
    out = tmp_path / "oe.nwb"
    convert(source, out, ConvertOptions(set_values=COMPLETE_METADATA))
    settings = source / "Record Node 101" / "settings.xml"
    with opened(out) as nwb:
        table = nwb.electrodes.to_dataframe()
        for probe_name in ("ProbeB", "ProbeC"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                probe = probeinterface.read_openephys_neuropixels(settings, stream_name=probe_name)
            blocks = [electrode_rows(nwb.acquisition[f"ElectricalSeries{probe_name}Block{b}"]) for b in (1, 2, 3)]
            assert blocks[0] == blocks[1] == blocks[2]  # the three experiments record the same contacts
            rows = table.iloc[blocks[0]]
            order = np.argsort(probe.device_channel_indices)  # contact wired to channel 0, 1, ...
            np.testing.assert_array_equal(
                np.column_stack([rows["rel_x"], rows["rel_y"]]), probe.contact_positions[order]
            )
            assert list(rows["contact_id"]) == [str(c) for c in probe.contact_ids[order]]
            assert set(rows["group_name"]) == {probe_name}
            assert list(rows["channel_name"][:2]) == ["CH1", "CH2"]
        assert len(table) == 2 * 384
    assert_valid(out)


# --- --probe FILE --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_spikeglx_run(tmp_path_factory.mktemp("small"), seconds=0.2, n_channels=32).folder


def _linear_probe(n: int, wiring: np.ndarray) -> Any:
    import probeinterface

    probe = probeinterface.generate_linear_probe(num_elec=n, ypitch=25.0)
    probe.set_device_channel_indices(wiring)
    return probe


def test_probe_json_overrides_the_source_geometry(small_run: Path, tmp_path: Path) -> None:
    import probeinterface

    wiring = np.arange(32)[::-1]  # contact k records channel 31 - k
    probe = _linear_probe(32, wiring)
    probe.annotate(name="mylinear")
    path = tmp_path / "linear.json"
    probeinterface.write_probeinterface(path, probe)
    out = tmp_path / "o.nwb"
    convert(small_run, out, ConvertOptions(set_values=COMPLETE_METADATA, probe=path))
    with opened(out) as nwb:
        table = nwb.electrodes.to_dataframe()
        ap = table.iloc[electrode_rows(nwb.acquisition["ElectricalSeriesImec0AP"])]
        lf = electrode_rows(series_of(nwb, "ElectricalSeriesImec0LF"))
        assert lf == electrode_rows(nwb.acquisition["ElectricalSeriesImec0AP"])
    for channel in range(32):
        contact = int(np.flatnonzero(wiring == channel)[0])
        assert ap["rel_y"].iloc[channel] == probe.contact_positions[contact, 1]
        assert ap["contact_id"].iloc[channel] == str(probe.contact_ids[contact])
    assert set(ap["group_name"]) == {"imec0"}  # one probe for one source keeps the source's group
    assert len(table) == 32
    assert_valid(out)


def test_prb_with_several_probes_makes_one_group_per_probe(small_run: Path, tmp_path: Path) -> None:
    import probeinterface

    group = probeinterface.ProbeGroup()
    for t in range(8):  # eight tetrodes wired to channels 4t..4t+3 of the one stream
        tetrode = probeinterface.generate_tetrode()
        tetrode.move([100.0 * t, 0.0])
        tetrode.set_device_channel_indices(np.arange(4) + 4 * t)
        group.add_probe(tetrode)
    path = tmp_path / "tetrodes.prb"
    probeinterface.write_prb(path, group)
    session = read_session(small_run, ConvertOptions(probe=path))
    ap = next(r for r in session.recordings if r.name == "ElectricalSeriesImec0AP")
    assert [ch.group for ch in ap.channels] == [f"probe{c // 4}" for c in range(32)]
    expected = np.concatenate([p.contact_positions for p in probeinterface.read_prb(path).probes])
    np.testing.assert_array_equal(np.array([ch.position_um for ch in ap.channels]), expected)
    out = tmp_path / "o.nwb"
    convert(small_run, out, ConvertOptions(set_values=COMPLETE_METADATA, probe=path))
    with opened(out) as nwb:
        assert sorted(nwb.electrode_groups) == [f"probe{t}" for t in range(8)]
    assert_valid(out)


def test_two_probes_go_to_two_sources_in_order(tmp_path: Path) -> None:
    import probeinterface

    source = realdata(OPENEPHYS)
    group = probeinterface.ProbeGroup()
    for i, shift in enumerate((0.0, 1000.0)):  # probeinterface counts channels across probes: 0-383, 384-767
        probe = _linear_probe(384, np.arange(384) + 384 * i)
        probe.move([shift, 0.0])
        group.add_probe(probe)
    path = tmp_path / "two.json"
    probeinterface.write_probeinterface(path, group)
    session = read_session(source, ConvertOptions(probe=path))
    placed = {r.name: r.channels for r in session.recordings if r.is_electrical}
    assert {ch.position_um[0] for ch in placed["ElectricalSeriesProbeBBlock2"]} == {0.0}  # type: ignore[index]
    assert {ch.position_um[0] for ch in placed["ElectricalSeriesProbeCBlock1"]} == {1000.0}  # type: ignore[index]
    assert placed["ElectricalSeriesProbeCBlock3"][383].position_um == (1000.0, 383 * 25.0)
    assert {ch.group for ch in placed["ElectricalSeriesProbeCBlock3"]} == {"ProbeC"}


def test_probe_file_errors_are_usage_errors(small_run: Path, tmp_path: Path) -> None:
    import probeinterface

    short = tmp_path / "short.json"
    probeinterface.write_probeinterface(short, _linear_probe(16, np.arange(16)))
    with pytest.raises(UsageError, match=r"wires 16 contact\(s\) but .* has 32 electrode channel\(s\)"):
        read_session(small_run, ConvertOptions(probe=short))
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(UsageError, match=r"could not be read as a probeinterface \.json file"):
        read_session(small_run, ConvertOptions(probe=broken))
    table = tmp_path / "probe.csv"
    table.write_text("x,y\n0,0\n")
    with pytest.raises(UsageError, match=r"expected a probeinterface \.json or a \.prb file"):
        read_session(small_run, ConvertOptions(probe=table))
    two = tmp_path / "two.json"
    group = probeinterface.ProbeGroup()
    group.add_probe(_linear_probe(32, np.arange(32)))
    group.add_probe(_linear_probe(32, np.arange(32) + 32))
    probeinterface.write_probeinterface(two, group)
    with pytest.raises(UsageError, match=r"wires 64 contact\(s\) \(indices up to 63\)"):
        read_session(small_run, ConvertOptions(probe=two))

    result = nwbconvert("convert", small_run, "-o", tmp_path / "o.nwb", "--probe", short, "-q")
    assert result.returncode == 2, result.stderr
    assert "32 electrode channel(s)" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "o.nwb").exists()


def test_missing_probe_file_exits_2(small_run: Path, tmp_path: Path) -> None:
    result = nwbconvert("convert", small_run, "-o", tmp_path / "o.nwb", "--probe", tmp_path / "nope.json", "-q")
    assert result.returncode == 2
    assert "no such file" in result.stderr


# --- brain-area locations ------------------------------------------------------------------------------------


def test_locations_from_yaml_and_set_reach_groups_and_rows(small_run: Path, tmp_path: Path) -> None:
    config = tmp_path / "session.yaml"
    config.write_text("electrode_groups:\n  imec0:\n    location: CA3\n    description: left hippocampus probe\n")
    out = tmp_path / "o.nwb"
    sets = (*COMPLETE_METADATA, "electrode_groups.imec0.location=CA1")  # --set wins over the file
    convert(small_run, out, ConvertOptions(set_values=sets, metadata_files=(config,)))
    with opened(out) as nwb:
        group = nwb.electrode_groups["imec0"]
        assert group.location == "CA1"
        assert group.description == "left hippocampus probe"
        assert set(nwb.electrodes["location"].data[:]) == {"CA1"}
    assert provenance(out)["metadata"]["electrode_groups"]["imec0"]["location"] == "CA1"
    assert_valid(out)


def test_unknown_group_is_refused_naming_the_groups_there(small_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "o.nwb"
    sets = (*COMPLETE_METADATA, "electrode_groups.imec7.location=CA1")
    with pytest.raises(MetadataError, match=r"imec7 is not an electrode group.*Its groups are: imec0\."):
        convert(small_run, out, ConvertOptions(set_values=sets))
    assert not out.exists()
    result = nwbconvert("convert", small_run, "-o", out, *(f"--set={s}" for s in sets), "-q")
    assert result.returncode == 4 and "imec0" in result.stderr and not out.exists()
    bad_key = nwbconvert("convert", small_run, "-o", out, "--set=electrode_groups.imec0.area=CA1", "--dry-run")
    assert bad_key.returncode == 2 and "electrode_groups.<group>.location" in bad_key.stderr
