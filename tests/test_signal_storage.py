"""Behavioral signals are stored with the conversion's compression, as traces are: gzip by default, none, lzf, and
Zarr's codecs; the samples read back equal the source table (pandas reads it). A file with no sampled data to
count draws no empty "0/0 bytes" progress bar."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest

from cli_runner import nwbconvert
from conftest import COMPLETE_METADATA
from nwbconvert.synthetic import behavior_tables as synth

SETS = [f"--set={kv}" for kv in COMPLETE_METADATA] + ["--set", "source.unit=rad"]
WHEEL = "processing/behavior/Position/WheelPosition"
RUNNING = "processing/behavior/BehavioralTimeSeries/RunningSpeed"


@pytest.mark.parametrize(("compression", "expected"), [("none", None), ("lzf", "lzf"), ("gzip", "gzip")])
def test_hdf5_signals_take_the_chosen_compression(tmp_path: Path, compression: str, expected: str | None) -> None:
    wheel, running = synth.write_wheel(tmp_path / "wheel.csv"), synth.write_running_speed(tmp_path / "running.csv")
    for source in (wheel, running):
        out = tmp_path / f"{source.stem}.nwb"
        done = nwbconvert("convert", source, "-o", out, "--compression", compression, *SETS)
        assert done.returncode == 0, done.stderr
    with h5py.File(tmp_path / "wheel.nwb", "r") as f:
        assert f[f"{WHEEL}/data"].compression == expected
        np.testing.assert_array_equal(f[f"{WHEEL}/data"][:], pd.read_csv(wheel)["position"].to_numpy())
    with h5py.File(tmp_path / "running.nwb", "r") as f:
        assert f[f"{RUNNING}/data"].compression == f[f"{RUNNING}/timestamps"].compression == expected
        np.testing.assert_array_equal(f[f"{RUNNING}/timestamps"][:], pd.read_csv(running)["timestamps"].to_numpy())


def test_zarr_signals_take_the_chosen_codecs(tmp_path: Path) -> None:
    import zarr
    from numcodecs import GZip, Shuffle

    source = synth.write_wheel(tmp_path / "wheel.csv")
    out = tmp_path / "wheel.nwb.zarr"
    done = nwbconvert("convert", source, "-o", out, "--backend", "zarr", *SETS)
    assert done.returncode == 0, done.stderr
    array = zarr.open_group(str(out), mode="r")[f"{WHEEL}/data"]
    assert array.compressor == GZip(level=4) and array.filters == [Shuffle(elementsize=8)]
    np.testing.assert_array_equal(array[:], pd.read_csv(source)["position"].to_numpy())


def test_a_file_with_no_sampled_data_draws_no_empty_progress_bar(tmp_path: Path) -> None:
    source = tmp_path / "wheel.csv"
    source.write_text("times,position\n")  # a header alone: nothing to write but the metadata (and a warning)
    done = nwbconvert("convert", source, "-o", tmp_path / "empty.nwb", *SETS)
    assert done.returncode == 0, done.stderr
    assert "column position was not written" in " ".join(done.stderr.split())
    assert "Writing" not in done.stderr  # before: "Writing ... 0/0 bytes ? -:--:--"


class _Counted:
    """A progress sink that adds up what it is told."""

    def __init__(self) -> None:
        self.total = -1
        self.seen = 0

    def start(self, total_bytes: int) -> None:
        self.total = total_bytes

    def advance(self, n_bytes: int) -> None:
        self.seen += n_bytes


def test_the_progress_of_a_conversion_of_signals_reaches_its_total(tmp_path: Path) -> None:
    from nwbconvert.pipeline import ConvertOptions, convert

    source = synth.write_running_speed(tmp_path / "running.csv")
    sink = _Counted()
    convert(source, tmp_path / "running.nwb", ConvertOptions(set_values=COMPLETE_METADATA), sink)
    frame = pd.read_csv(source)
    assert sink.total >= frame["speed (cm/s)"].to_numpy().nbytes * 2  # speed and pupil diameter, at least
    assert sink.seen == sink.total  # before: 0 of it, the bar left at 0.0/40.0 kB
