"""Uncompressed chunks written around the page cache (writer/direct_io.py): aligned chunks go to the disk with
O_DIRECT, anything else through the page cache, and the file holds the same bytes either way."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from conftest import SAMPLE_DATA
from helpers import plan_of
from nwbconvert.writer import preallocated
from nwbconvert.writer.compression import WriteOptions, gathered
from nwbconvert.writer.direct_io import ALIGN, AlignedBuffers, ChunkWriter, aligned_empty

SPIKEGLX = SAMPLE_DATA / "spikeglx" / "Sample_g0"
OPTIONS = WriteOptions("none", chunk_mb=0.25)  # AP and LF chunks 256 KiB (aligned), NIDQ's 9 channels not


def test_aligned_chunks_go_around_the_page_cache_and_the_rest_through_it(tmp_path: Path) -> None:
    path = tmp_path / "chunks.bin"
    path.write_bytes(bytes(4 * ALIGN))
    rng = np.random.default_rng(0)
    aligned = aligned_empty((ALIGN // 4, 2), np.dtype("<i2"))  # one page
    aligned[...] = rng.integers(-(2**15), 2**15, aligned.shape)
    assert aligned.ctypes.data % ALIGN == 0
    unaligned = rng.integers(-(2**15), 2**15, 100, dtype="<i2").reshape(50, 2)
    with ChunkWriter(path) as writer:
        assert writer.write(aligned, ALIGN)  # O_DIRECT: this file system (the tests' tmp) accepts it
        assert not writer.write(aligned, ALIGN + 512)  # offset not on a page: through the page cache
        assert not writer.write(unaligned, 3 * ALIGN)  # length not a whole page
        assert writer.direct_bytes == ALIGN
    data = path.read_bytes()
    assert data[ALIGN + 512 : 2 * ALIGN + 512] == aligned.tobytes()
    assert data[ALIGN : ALIGN + 512] == aligned.tobytes()[:512]  # the direct write, the part not overwritten
    assert data[3 * ALIGN : 3 * ALIGN + 200] == unaligned.tobytes()
    assert data[:ALIGN] == bytes(ALIGN)


def test_a_reused_buffer_holds_only_the_new_chunk() -> None:
    """An edge chunk gathered into a buffer that held a full chunk is padded with zeros, not old samples."""
    buffers = AlignedBuffers((8, 4), np.dtype("<i2"))
    first = buffers.take()
    gathered([(0, np.full((8, 4), 7, "<i2"))], first)
    buffers.give(first)
    again = buffers.take()
    assert again is first and again.ctypes.data % ALIGN == 0
    edge = np.arange(6, dtype="<i2").reshape(3, 2)
    gathered([(0, edge[:2]), (2, edge[2:])], again)
    expected = np.zeros((8, 4), "<i2")
    expected[:3, :2] = edge
    np.testing.assert_array_equal(again, expected)
    with pytest.raises(RuntimeError, match="were not read"):
        gathered([(0, edge[:1]), (2, edge[2:])], again)  # a gap would leave the old samples in place


class Filled:
    """What the fill of the sample session wrote: bytes sent directly, and per dataset its samples, the byte
    offsets of its chunks and the size of one chunk."""

    def __init__(self, path: Path) -> None:
        planned = preallocated.planned_series(plan_of(SPIKEGLX), OPTIONS)
        with preallocated.PreallocatedFill(path, planned, OPTIONS, None) as fill:
            pass  # leaving waits for the fill (pynwb would write the rest of the file here)
        assert fill._error is None
        self.direct_bytes = fill.direct_bytes
        self.data: dict[str, np.ndarray] = {}
        self.offsets: dict[str, list[int]] = {}
        self.chunk_bytes: dict[str, int] = {}
        with h5py.File(path, "r") as f:
            for i, item in enumerate(planned):
                dataset = f[f"{preallocated.PENDING}/{i}"]  # where it is filled, until finish() moves it
                self.data[item.dataset] = dataset[()]
                found = [dataset.id.get_chunk_info(i) for i in range(dataset.id.get_num_chunks())]
                self.offsets[item.dataset] = [c.byte_offset for c in found]
                self.chunk_bytes[item.dataset] = int(np.prod(item.layout.chunk)) * dataset.dtype.itemsize
                n = item.recording.n_samples
                np.testing.assert_array_equal(self.data[item.dataset], item.recording.segments[0].traces.read(0, n))


def test_the_fill_writes_page_aligned_chunks_directly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    filled = Filled(tmp_path / "direct.nwb")
    on_pages = {name for name, found in filled.offsets.items() if all(o % ALIGN == 0 for o in found)}
    whole = {name for name, nbytes in filled.chunk_bytes.items() if nbytes % ALIGN == 0}
    assert {name for name in filled.data if "ElectricalSeries" in name} <= on_pages & whole  # AP, LF: HDF5 aligned them
    assert whole != set(filled.data)  # short sync and NIDQ series: chunks not whole pages, through the page cache
    assert filled.direct_bytes == sum(filled.chunk_bytes[name] * len(filled.offsets[name]) for name in whole)
    monkeypatch.setenv("NWBCONVERT_NO_DIRECT_IO", "1")  # the way out for a file system that misbehaves
    cached = Filled(tmp_path / "cached.nwb")
    assert cached.direct_bytes == 0
    for name, samples in filled.data.items():
        np.testing.assert_array_equal(cached.data[name], samples)
