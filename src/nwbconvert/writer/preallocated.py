"""Uncompressed traces written while pynwb is still being imported: the samples start at disk speed at once.

Uncompressed chunks have a known size, so their place in the file is known before any is written. h5py
creates the file with each traces dataset under a private group, its chunks allocated up front on page
boundaries (no fill values written), and a background thread writes every chunk at its file offset with
`os.pwrite`, around the page cache where it can (direct_io.py; no HDF5 call; the copy and the write release
the GIL) beside the main thread, which imports pynwb and appends the rest of the file (HDF5 allocates its
structures after the chunks, so the two never touch the same bytes). At the end each filled dataset takes
the place of the empty one pynwb declared, with its attributes: the file has the objects, attributes and
chunks the usual order writes; only the chunks sit before the structure."""

from __future__ import annotations

import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import numpy as np

from nwbconvert.durable import Writeback
from nwbconvert.plan import Plan
from nwbconvert.writer.compression import Encoded, WriteOptions
from nwbconvert.writer.direct_io import ALIGN, ChunkWriter
from nwbconvert.writer.parallel import DeferredSeries, Filler, Put
from nwbconvert.writer.samples import Progress, traces_layout

# While pynwb is imported (pure Python, holding the GIL), a copying thread waits up to the switch interval for
# the GIL after every read, copy and pwrite: at Python's 5 ms the copy ran 2-5x slower beside a busy thread.
SWITCH_INTERVAL_S = 0.0005
PENDING = "/nwbconvert_pending"  # private group of the datasets being filled; gone before the file is renamed


def suits(plan: Plan, options: WriteOptions) -> bool:
    """Uncompressed traces, and nothing else in the file reads samples while pynwb writes (intracellular sweeps
    do: vendor readers need not be thread-safe). Movies are filled after pynwb writes (writer/parallel.py)."""
    if options.compression != "none" or not plan.series or plan.imaging.movies:
        return False
    return not any(s.neurodata_type.is_clamp for s in plan.series)


def planned_series(plan: Plan, options: WriteOptions) -> list[DeferredSeries]:
    """The traces datasets pynwb will declare (see writer.nwbfile), with their chunk layout."""
    return [
        DeferredSeries.of_recording(s.data_path, s.recording, traces_layout(s.recording, options.chunk_bytes))
        for s in plan.series
        if not s.neurodata_type.is_clamp
    ]


@dataclass(frozen=True)
class _Slot:
    item: DeferredSeries
    pending: str  # where the dataset is filled
    offsets: dict[tuple[int, int], int]  # chunk offset (sample, channel) -> byte offset in the file
    chunk_nbytes: int


class PreallocatedFill:
    """Creates the file at `path` with the traces datasets of `series` allocated, and fills them in a thread.

    Use as a context manager around pynwb's write of the rest of the file (mode "a"), then call `finish` with
    the datasets pynwb declared. Leaving the block on an error cancels the fill and waits for it.
    """

    def __init__(
        self, path: Path, series: list[DeferredSeries], options: WriteOptions, progress: Progress | None
    ) -> None:
        self.path, self.options, self.progress = path, options, progress
        self._slots = _allocate(path, series)
        self._cancel = threading.Event()
        self._error: BaseException | None = None
        self.direct_bytes = 0  # of the chunks written with O_DIRECT (see direct_io.py)
        self._thread = threading.Thread(target=self._run, name="preallocated-fill", daemon=True)

    def __enter__(self) -> PreallocatedFill:
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is not None:
            self._cancel.set()
        self._thread.join()
        sys.setswitchinterval(self._switch_interval)

    def finish(self, declared: list[DeferredSeries]) -> None:
        """Wait for the samples, then move each filled dataset to the place pynwb declared for it."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        expected = [slot.item.dataset for slot in self._slots]
        if [d.dataset for d in declared] != expected:
            raise RuntimeError(f"pynwb declared traces datasets {[d.dataset for d in declared]}, not {expected}")
        _adopt(self.path, self._slots)

    def _run(self) -> None:
        try:
            with (
                ChunkWriter(self.path) as writer,
                ThreadPoolExecutor(self.options.threads, thread_name_prefix="copy") as pool,
                Writeback(self.path) as writeback,
            ):
                filler = Filler(self.options, pool, writeback, self.progress, aligned=True)
                for slot in self._slots:
                    filler.fill(slot.item, slot.item.recording.dtype, self._writer(writer, slot))
                self.direct_bytes = writer.direct_bytes
        except BaseException as exc:  # handed to the main thread by finish()
            self._error = exc

    def _writer(self, writer: ChunkWriter, slot: _Slot) -> Put:
        def put(offset: tuple[int, int], encoded: Encoded) -> None:
            if self._cancel.is_set():
                raise _Cancelled
            assert isinstance(encoded, np.ndarray) and encoded.flags.c_contiguous  # raw samples (compression none)
            if encoded.nbytes != slot.chunk_nbytes:
                nbytes = f"{encoded.nbytes} bytes, not {slot.chunk_nbytes}"
                raise RuntimeError(f"chunk {offset} of {slot.item.dataset}: {nbytes}")
            writer.write(encoded, slot.offsets[offset])

        return put


class _Cancelled(Exception):
    """The main thread failed: stop filling."""


def _allocate(path: Path, series: list[DeferredSeries]) -> list[_Slot]:
    """Create the file with one chunked, unfiltered dataset per series under PENDING, every chunk allocated
    (no fill values written: the chunks are sparse until filled) and its byte offset read back."""
    import h5py

    slots = []
    with h5py.File(path, "w", alignment_threshold=ALIGN, alignment_interval=ALIGN) as f:  # chunks on pages
        group = f.create_group(PENDING)
        for i, item in enumerate(series):
            rec = item.recording
            dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
            dcpl.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)
            dataset = group.create_dataset(
                str(i),
                shape=(rec.n_samples, len(rec.channels)),
                dtype=rec.dtype,
                chunks=item.layout.chunk,
                dcpl=dcpl,
                fill_time="never",
            )
            nbytes = int(np.prod(item.layout.chunk)) * rec.dtype.itemsize
            slots.append(_Slot(item, dataset.name, _chunk_offsets(dataset.id), nbytes))
    return slots


def _chunk_offsets(dsid: object) -> dict[tuple[int, int], int]:
    offsets: dict[tuple[int, int], int] = {}

    def visit(info: object) -> None:
        offsets[tuple(info.chunk_offset)] = info.byte_offset  # type: ignore[attr-defined]

    chunk_iter = getattr(dsid, "chunk_iter", None)
    if chunk_iter is not None:  # HDF5 >= 1.12.3: one pass over the chunk index
        chunk_iter(visit)
    else:
        for i in range(dsid.get_num_chunks()):  # type: ignore[attr-defined]
            visit(dsid.get_chunk_info(i))  # type: ignore[attr-defined]
    return offsets


def _adopt(path: Path, slots: list[_Slot]) -> None:
    """Put each filled dataset where pynwb declared the empty one, with the declared dataset's attributes."""
    import h5py

    with h5py.File(path, "r+") as f:
        for slot in slots:
            declared, filled = f[slot.item.dataset], f[slot.pending]
            shape = (declared.shape, declared.dtype, declared.chunks, declared.maxshape, declared.compression)
            if shape != (filled.shape, filled.dtype, filled.chunks, filled.maxshape, filled.compression):
                raise RuntimeError(f"{slot.item.dataset}: pynwb declared {shape}, unlike the dataset filled")
            for name in declared.attrs:
                attr = declared.attrs.get_id(name)
                filled.attrs.create(name, declared.attrs[name], shape=attr.shape, dtype=attr.dtype)
            del f[slot.item.dataset]
            f.move(slot.pending, slot.item.dataset)
        del f[PENDING]
