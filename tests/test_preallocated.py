"""Uncompressed traces written before pynwb writes the rest of the file (writer/preallocated.py)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from conftest import COMPLETE_METADATA, SAMPLE_DATA, realdata
from helpers import assert_valid, plan_of
from nwbconvert.pipeline import ConvertOptions, convert
from nwbconvert.synthetic.spikeglx import write_spikeglx_run
from nwbconvert.writer import preallocated
from nwbconvert.writer.compression import WriteOptions

SPIKEGLX = SAMPLE_DATA / "spikeglx" / "Sample_g0"
NONE = WriteOptions("none")


def _convert(tmp_path: Path, name: str, compression: str) -> Path:
    out = tmp_path / f"{name}.nwb"
    options = ConvertOptions(set_values=COMPLETE_METADATA, timezone="UTC", compression=compression, chunk_mb=0.25)
    convert(SPIKEGLX, out, options)
    return out


def _objects(path: Path) -> dict[str, tuple[str, ...]]:
    """Every object of the file and the names of its attributes."""
    found: dict[str, tuple[str, ...]] = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: found.setdefault(name, tuple(sorted(obj.attrs))))
    return found


def test_the_file_is_the_one_the_usual_order_writes(tmp_path: Path) -> None:
    """Every traces dataset holds the source's samples, unfiltered, with the attributes pynwb declared (values
    and HDF5 types equal to a file written in the usual order), and nothing of the private group is left."""
    plan = plan_of(SPIKEGLX)
    assert preallocated.suits(plan, NONE)
    planned = preallocated.planned_series(plan, WriteOptions("none", chunk_mb=0.25))  # as _convert writes
    assert len(planned) >= 3  # AP, LF and the NIDQ channels
    early = _convert(tmp_path, "early", "none")
    usual = _convert(tmp_path, "usual", "gzip")  # declared by pynwb, filled afterwards
    assert _objects(early) == _objects(usual)  # same objects and attribute names: no trace of the pending group
    with h5py.File(early, "r") as a, h5py.File(usual, "r") as b:
        assert preallocated.PENDING.strip("/") not in a
        for item in planned:
            ours, theirs = a[item.dataset], b[item.dataset]
            assert (ours.compression, ours.shuffle, ours.chunks) == (None, False, item.layout.chunk)
            assert ours.chunks == theirs.chunks and ours.dtype == theirs.dtype
            np.testing.assert_array_equal(ours[()], theirs[()])
            n = item.recording.n_samples
            np.testing.assert_array_equal(ours[()], item.recording.segments[0].traces.read(0, n, None))
            for name in theirs.attrs:
                assert ours.attrs.get_id(name).get_type() == theirs.attrs.get_id(name).get_type(), name
                np.testing.assert_array_equal(ours.attrs[name], theirs.attrs[name])
    assert_valid(early)


class _SlowProgress:
    """Counts the bytes the fill reports, slowly, so that the main thread fails while chunks are left."""

    def __init__(self) -> None:
        self.seen = 0

    def __call__(self, n_bytes: int) -> None:
        self.seen += n_bytes
        time.sleep(0.01)


def test_a_failure_beside_the_fill_stops_it(tmp_path: Path) -> None:
    run = write_spikeglx_run(tmp_path / "src", seconds=10.0, n_channels=96)
    plan = plan_of(run.folder, streams=("imec0.ap",))
    options = WriteOptions("none", chunk_mb=0.25)
    planned = preallocated.planned_series(plan, options)
    total = sum(p.recording.n_samples * len(p.recording.channels) * 2 for p in planned)
    progress = _SlowProgress()
    interval = sys.getswitchinterval()
    fill = preallocated.PreallocatedFill(tmp_path / "out.nwb", planned, options, progress)
    with pytest.raises(RuntimeError, match="pynwb failed"), fill:
        while progress.seen == 0:  # the fill is under way
            time.sleep(0.001)
        raise RuntimeError("pynwb failed")
    assert not fill._thread.is_alive()  # waited for before the temporary file is removed
    assert 0 < progress.seen < total / 2  # cancelled: it did not go on to the end
    assert sys.getswitchinterval() == interval


def test_a_failure_in_the_fill_reaches_the_caller(tmp_path: Path) -> None:
    planned = preallocated.planned_series(plan_of(SPIKEGLX), NONE)

    def broken(n_bytes: int) -> None:
        raise OSError(28, "No space left on device")

    fill = preallocated.PreallocatedFill(tmp_path / "out.nwb", planned, NONE, broken)
    with fill, pytest.raises(OSError, match="No space left"):
        fill.finish([])


def test_a_mismatch_with_what_pynwb_declared_is_refused(tmp_path: Path) -> None:
    planned = preallocated.planned_series(plan_of(SPIKEGLX), NONE)
    fill = preallocated.PreallocatedFill(tmp_path / "out.nwb", planned, NONE, None)
    with fill, pytest.raises(RuntimeError, match="declared traces datasets"):
        fill.finish(planned[1:])


def test_only_uncompressed_sessions_without_sweeps_are_written_first(tmp_path: Path) -> None:
    spikeglx = plan_of(SPIKEGLX)
    assert preallocated.suits(spikeglx, NONE)
    assert not preallocated.suits(spikeglx, WriteOptions("gzip"))
    abf = realdata("abf/16d22006_kim_gapfree.abf")
    assert not preallocated.suits(plan_of(abf), NONE)  # sweeps read while pynwb writes
    out = tmp_path / "abf.nwb"
    convert(abf, out, ConvertOptions(set_values=COMPLETE_METADATA, timezone="UTC", compression="none"))
    assert_valid(out)
