"""A Phy / Kilosort output folder alone (its recording absent) becomes a units-only file; one written beside its
recording leaves the folder to the recording's reader. Oracle: spikeinterface's Phy/KiloSort extractors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from cli_runner import nwbconvert
from conftest import COMPLETE_METADATA, SAMPLE_DATA, realdata
from test_units_only import SETS, _convert, _no_acquisition, _units

PHY = "phy/changlab_ms4_export"


def _phy_copy(tmp_path: Path, kilosort: bool = False) -> Path:
    folder = tmp_path / "sorting"
    shutil.copytree(realdata(PHY), folder)
    if kilosort:  # Kilosort's own label file, in its layout: cluster_id <tab> KSLabel
        labels = ["good" if i % 3 else "mua" for i in range(10)]
        (folder / "cluster_KSLabel.tsv").write_text(
            "cluster_id\tKSLabel\n" + "".join(f"{i}\t{k}\n" for i, k in enumerate(labels))
        )
    return folder


@pytest.mark.parametrize("kilosort", [False, True], ids=["phy", "kilosort"])
def test_a_sorting_folder_alone_becomes_a_units_only_file(tmp_path: Path, kilosort: bool) -> None:
    from spikeinterface.extractors.phykilosortextractors import KiloSortSortingExtractor, PhySortingExtractor

    folder = _phy_copy(tmp_path, kilosort)
    out = tmp_path / "units.nwb"
    done = _convert(folder, out)
    _no_acquisition(out)
    assert "no sampled series" in done.stdout and "MB/s" not in done.stdout
    info = nwbconvert("info", out)
    assert info.returncode == 0 and "series    none" in info.stdout and "units     10" in info.stdout
    if kilosort:
        oracle = KiloSortSortingExtractor(folder, keep_good_only=False, remove_empty_units=False)
    else:
        oracle = PhySortingExtractor(folder, load_all_cluster_properties=True)
    assert oracle.get_sampling_frequency() == 30000.0
    units = _units(out)
    assert sorted(units, key=int) == [str(u) for u in oracle.unit_ids] and len(units) == 10
    for uid in oracle.unit_ids:
        frames = oracle.get_unit_spike_train(uid)
        np.testing.assert_allclose(units[str(uid)]["times"], np.sort(frames) / 30000.0, rtol=0, atol=1e-12)
    assert sum(len(u["times"]) for u in units.values()) == 241
    with h5py.File(out, "r") as f:
        table = f["units"]
        names = [n.decode() for n in table["unit_name"][()]]
        column = "KSLabel" if kilosort else "quality"
        expected = oracle.get_property(column)
        assert [v.decode() for v in table[column][()]] == [
            str(expected[list(oracle.unit_ids).index(int(n))]) for n in names
        ]
        electrodes = f["general/extracellular_ephys/electrodes"]
        assert list(electrodes["rel_x"][()]) == [1.0, 2.0, 3.0, 4.0]  # channel_positions.npy
        assert list(electrodes["rel_y"][()]) == [0.0, 0.0, 0.0, 0.0]
        assert [c.decode() for c in electrodes["channel_name"][()]] == ["ch0", "ch1", "ch2", "ch3"]
        assert list(table["electrodes"][()]) == [0] * 10  # every template peaks on channel 0 of this export
        assert (table["sorting"][()] == (b"kilosort" if kilosort else b"phy")).all()


def test_a_sorting_folder_needs_a_start_time_and_a_sample_rate(tmp_path: Path) -> None:
    folder = _phy_copy(tmp_path)
    sets = [a for kv in COMPLETE_METADATA if not kv.startswith("session_start_time") for a in ("--set", kv)]
    done = nwbconvert("convert", folder, "-o", tmp_path / "a.nwb", *sets, "--timezone", "UTC")
    assert done.returncode == 4 and "session_start_time: is missing" in done.stderr
    params = folder / "params.py"
    params.write_text("".join(line + "\n" for line in params.read_text().splitlines() if "sample_rate" not in line))
    done = nwbconvert("convert", folder, "-o", tmp_path / "b.nwb", *SETS, "--timezone", "UTC")
    assert done.returncode == 3, done.stderr
    assert "params.py: 'sample_rate' is missing" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "a.nwb").exists() and not (tmp_path / "b.nwb").exists()


def test_a_sorting_written_beside_its_recording_leaves_the_folder_to_the_recording_reader(tmp_path: Path) -> None:
    folder = tmp_path / "run_imec0"
    shutil.copytree(SAMPLE_DATA / "spikeglx" / "Sample_g0" / "Sample_g0_imec0", folder)
    for item in realdata(PHY).iterdir():
        shutil.copy(item, folder / item.name)
    # Kilosort writes the sorting machine's absolute path of the data file it sorted
    (folder / "params.py").write_text("dat_path = r'D:\\sorting\\Sample_g0_t0.imec0.ap.bin'\nsample_rate = 30000.0\n")
    done = nwbconvert("convert", folder, "-o", tmp_path / "x.nwb", "--dry-run", "--json", *SETS, "--timezone", "UTC")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["result"]["plan"]["reader"] == "spikeglx"
    (folder / "params.py").write_text("dat_path = 'elsewhere.bin'\nsample_rate = 30000.0\n")  # the .bin files decide
    done = nwbconvert("convert", folder, "-o", tmp_path / "x.nwb", "--dry-run", "--json", *SETS, "--timezone", "UTC")
    assert json.loads(done.stdout)["result"]["plan"]["reader"] == "spikeglx"
    done = nwbconvert(
        "convert", folder, "-o", tmp_path / "y.nwb", "--format", "sorting-folder", *SETS, "--timezone", "UTC"
    )
    assert done.returncode == 0, done.stderr  # --format still takes the sorting alone
    assert len(_units(tmp_path / "y.nwb")) == 10
