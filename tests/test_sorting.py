"""--sorting: sorter outputs become units on the paired recording's clock, linked to its electrodes."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from cli_runner import nwbconvert
from conftest import COMPLETE_METADATA, SAMPLE_DATA, realdata
from helpers import assert_valid
from nwbconvert.pipeline import ConvertOptions, convert
from nwbconvert.synthetic.phy import PhyFolder, write_phy_folder

SPIKEGLX = SAMPLE_DATA / "spikeglx" / "Sample_g0"
AP_BIN = SPIKEGLX / "Sample_g0_imec0" / "Sample_g0_t0.imec0.ap.bin"
AP_RATE = 30000.0
AP_SAMPLES = AP_BIN.stat().st_size // (33 * 2)


def _neo_ap() -> tuple[list[str], float]:
    """Names of the AP channels and the AP stream's start (SpikeGLX: firstSample / rate) as neo reads them."""
    from neo.rawio import SpikeGLXRawIO

    rawio = SpikeGLXRawIO(dirname=str(SPIKEGLX))
    rawio.parse_header()
    chans = rawio.header["signal_channels"]
    stream = list(rawio.header["signal_streams"]["id"]).index("imec0.ap")
    names = [str(n) for n in chans[chans["stream_id"] == "imec0.ap"]["name"]]
    return names, float(rawio.get_signal_t_start(0, 0, stream))


def _sorter_output(folder: Path, kilosort: bool, seed: int = 0) -> PhyFolder:
    return write_phy_folder(folder, AP_BIN, 32, 33, AP_SAMPLES, AP_RATE, seed=seed, kilosort=kilosort)


def _convert(out: Path, *sortings: Path) -> None:
    convert(SPIKEGLX, out, ConvertOptions(sortings=sortings, set_values=COMPLETE_METADATA, timezone="UTC"))


def _units(path: Path):  # type: ignore[no-untyped-def]
    from pynwb import NWBHDF5IO

    io = NWBHDF5IO(str(path), "r")
    return io, io.read().units


@pytest.mark.parametrize("kilosort", [True, False], ids=["kilosort", "phy"])
def test_sorter_units_on_the_recording_clock_and_linked_to_their_peak_channel(tmp_path: Path, kilosort: bool) -> None:
    made = _sorter_output(tmp_path / "sorting", kilosort)
    out = tmp_path / "s.nwb"
    _convert(out, made.folder)
    names, t_start = _neo_ap()
    assert t_start > 0  # frames count from the file's first sample, which is not the session's
    io, units = _units(out)
    with io:
        ids = sorted(made.peak_channels)
        assert list(units["unit_name"][:]) == [str(c) for c in ids]
        assert set(units["sorting"][:]) == {"kilosort" if kilosort else "phy"}
        for row, cluster in enumerate(ids):
            expected = t_start + np.sort(made.spike_times[made.spike_clusters == cluster]) / AP_RATE
            np.testing.assert_allclose(units["spike_times"][row], expected, rtol=0, atol=1e-9)
            linked = units["electrodes"][row]
            assert list(linked["channel_name"]) == [names[made.peak_channels[cluster]]]
            assert units["quality"][row] == made.labels[cluster]
        assert list(units["KSLabel"][:]) == ["good" if i % 2 == 0 else "mua" for i in range(len(ids))]
        assert list(units["ContamPct"][:]) == [2.5 * i for i in range(len(ids))]
        assert units.resolution == pytest.approx(1 / AP_RATE)
    assert_valid(out)


def test_two_sortings_of_one_recording_never_collide(tmp_path: Path) -> None:
    first = _sorter_output(tmp_path / "ks", kilosort=True, seed=1)
    second = _sorter_output(tmp_path / "phy", kilosort=False, seed=2)  # the same cluster ids
    out = tmp_path / "two.nwb"
    _convert(out, first.folder, second.folder)
    io, units = _units(out)
    with io:
        df = units.to_dataframe()
        assert len(df) == 12 and df.index.is_unique
        for made, name in ((first, "kilosort"), (second, "phy")):
            rows = df[df["sorting"] == name]
            assert list(rows["unit_name"]) == [str(c) for c in sorted(made.peak_channels)]
            total = sum(len(t) for t in rows["spike_times"])
            assert total == len(made.spike_times)


def test_real_phy_folder(tmp_path: Path) -> None:
    """The real MountainSort export (4 channels, 30 kHz) paired with the sample's AP stream."""
    import spikeinterface.extractors as se

    folder = realdata("phy/changlab_ms4_export")
    out = tmp_path / "real.nwb"
    _convert(out, folder)
    reference = se.read_phy(folder)
    names, t_start = _neo_ap()
    io, units = _units(out)
    with io:
        assert len(units) == 10
        assert sum(len(units["spike_times"][i]) for i in range(10)) == 241
        for row, unit_id in enumerate(reference.unit_ids):
            frames = reference.get_unit_spike_train(unit_id, segment_index=0)
            expected = t_start + np.sort(frames) / AP_RATE
            np.testing.assert_allclose(units["spike_times"][row], expected, rtol=0, atol=1e-9)
        assert set(units["quality"][:]) == {"unsorted"}
        channel_map = np.load(folder / "channel_map.npy").ravel()
        linked = {units["electrodes"][i]["channel_name"].iloc[0] for i in range(10)}
        assert linked <= {names[c] for c in channel_map}  # the peak of each unit's template
    assert_valid(out)


def test_frames_map_across_gaps_between_segments(tmp_path: Path) -> None:
    """Neuralynx: 3 segments with gaps; frames index the concatenated samples, times keep the gaps."""
    from neo.rawio import NeuralynxRawIO

    source = realdata("neuralynx/mne_testing_2kHz")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rawio = NeuralynxRawIO(dirname=str(source))
        rawio.parse_header()
    sizes = [rawio.get_signal_size(0, s, 0) for s in range(rawio.segment_count(0))]
    starts = [rawio.get_signal_t_start(0, s, 0) for s in range(rawio.segment_count(0))]
    made = write_phy_folder(tmp_path / "ks", Path("x.dat"), 5, 5, sum(sizes), 2000.0, kilosort=True)
    out = tmp_path / "nlx.nwb"
    convert(source, out, ConvertOptions(sortings=(made.folder,), set_values=COMPLETE_METADATA))
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    io, units = _units(out)
    with io:
        for row, cluster in enumerate(sorted(made.peak_channels)):
            frames = np.sort(made.spike_times[made.spike_clusters == cluster]).astype("int64")
            seg = np.searchsorted(offsets, frames, side="right") - 1
            expected = np.array(starts)[seg] + (frames - offsets[seg]) / 2000.0
            np.testing.assert_allclose(units["spike_times"][row], expected, rtol=0, atol=1e-9)


def test_sorting_errors_are_clear(tmp_path: Path) -> None:
    made = _sorter_output(tmp_path / "ks", kilosort=True)
    (tmp_path / "empty").mkdir()
    out = tmp_path / "o.nwb"
    not_sorting = nwbconvert("convert", SPIKEGLX, "-o", out, "--sorting", tmp_path / "empty", "--timezone", "UTC")
    assert not_sorting.returncode == 3
    assert "not a spike-sorting output" in not_sorting.stderr and "kilosort" in not_sorting.stderr
    wrong = nwbconvert("convert", SPIKEGLX, "-o", out, "--sorting", f"imec7.ap={made.folder}", "--timezone", "UTC")
    assert wrong.returncode == 2 and "ElectricalSeriesImec0AP" in wrong.stderr
    assert "Traceback" not in wrong.stderr + not_sorting.stderr
    assert not out.exists()
    explicit = nwbconvert(
        "convert", SPIKEGLX, "-o", out, "--sorting", f"imec0.ap={made.folder}", "--timezone", "UTC",
        *[a for pair in COMPLETE_METADATA for a in ("--set", pair)], "-q",
    )  # fmt: skip
    assert explicit.returncode == 0, explicit.stderr


def test_kilosort_paired_with_a_four_shank_run_from_real_headers(tmp_path: Path) -> None:
    """A run built around the real Neuropixels 2.4 headers: units land on the shank of their peak contact."""
    from pynwb import NWBHDF5IO

    from nwbconvert.readers.spikeglx import read_meta
    from nwbconvert.synthetic.spikeglx import write_spikeglx_from_meta

    headers = realdata("spikeglx_meta/np24_4shank")
    run = write_spikeglx_from_meta(tmp_path / "run", sorted(headers.glob("*.meta")), seconds=0.5)
    ap_bin = run.bins["imec0.ap"]
    fields = read_meta(ap_bin.with_suffix(".meta"))
    n_saved, rate = int(fields["nSavedChans"]), float(fields["imSampRate"])
    n_samples = ap_bin.stat().st_size // (2 * n_saved)
    made = write_phy_folder(ap_bin.parent / "kilosort4", ap_bin, n_saved - 1, n_saved, n_samples, rate, kilosort=True)
    out = tmp_path / "np24.nwb"
    convert(run.folder, out, ConvertOptions(sortings=(made.folder,), set_values=COMPLETE_METADATA))
    with NWBHDF5IO(str(out), "r") as io:
        nwb = io.read()
        units = nwb.units
        series = nwb.acquisition["ElectricalSeriesImec0AP"]
        rows = list(series.electrodes.data[:])
        t_start = series.starting_time
        assert len(units) == len(made.peak_channels)
        for row, cluster in enumerate(sorted(made.peak_channels)):
            linked = units["electrodes"][row]
            assert list(linked.index) == [rows[made.peak_channels[cluster]]]  # the AP series' row of that channel
            assert linked["shank"].iloc[0] in {"0", "1", "2", "3"}
            frames = np.sort(made.spike_times[made.spike_clusters == cluster])
            np.testing.assert_allclose(units["spike_times"][row], t_start + frames / rate, rtol=0, atol=1e-9)
    assert_valid(out)
