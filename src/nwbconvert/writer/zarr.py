"""Write an NWBFile as a Zarr store (`.nwb.zarr` folder) through hdmf-zarr, traces chunks written on every core.

The structure (and small datasets: timestamps, sweeps, tables) is written by hdmf-zarr's NWBZarrIO. Traces arrays
are only declared there (full shape, the chunks of `writer/chunking.py`, the conversion's codecs); `fill` then
runs the HDF5 writer's chunk pipeline (`writer/parallel.py`): thread-pool tasks read one chunk each and let zarr
encode and store it (zlib and blosc release the GIL), so memory stays bounded and the progress sink sees every
chunk (where Ctrl-C/SIGTERM stops the write).

hdmf-zarr's own parallel write (`number_of_jobs`) is not used: it runs a process pool that pickles every data
iterator (ours hold open neo readers), reports no progress to the caller and cannot be interrupted between chunks.

Compression maps to numcodecs: gzip -> Shuffle + GZip(level) (HDF5's shuffle+deflate), blosc-zstd ->
Blosc(zstd, level, byte shuffle), none -> no codec. lzf has no numcodecs codec. Object datasets (references, e.g.
the electrodes' group column) are encoded as JSON, not hdmf-zarr's default Pickle, which numcodecs >= 0.15 refuses
to decode unless told to trust the file.
"""

from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from hdmf.data_utils import GenericDataChunkIterator

from nwbconvert.errors import UsageError
from nwbconvert.model import Recording
from nwbconvert.plan import Plan, SeriesPlan
from nwbconvert.plan_imaging import MoviePlan
from nwbconvert.provenance import Provenance
from nwbconvert.writer.compression import WriteOptions
from nwbconvert.writer.frames import MovieIterator, MovieRows
from nwbconvert.writer.parallel import Chunk, ChunkReader, DeferredSeries, chunk_grid, in_order
from nwbconvert.writer.samples import Progress
from nwbconvert.writer.traces import TimestampsIterator, TracesIterator

TIMESTAMPS_LEVEL = 4  # as the HDF5 writer's gzip level for timestamps
# what a store refuses (lzf, intracellular tables) is checked by nwbconvert.backends.Zarr before anything is read


@dataclass(frozen=True)
class Codecs:
    """numcodecs filters and compressor of a dataset (`compressor=False`: stored raw)."""

    filters: tuple[Any, ...]
    compressor: Any


def codecs(write: WriteOptions, dtype: np.dtype) -> Codecs:
    """The conversion's --compression as numcodecs objects for a dataset of `dtype`."""
    from numcodecs import GZip, Shuffle
    from numcodecs.blosc import Blosc

    level = write.effective_level
    if write.compression == "gzip":
        shuffle = (Shuffle(elementsize=dtype.itemsize),) if dtype.itemsize > 1 else ()
        return Codecs(shuffle, GZip(level=level if level is not None else 4))
    if write.compression == "blosc-zstd":
        return Codecs((), Blosc(cname="zstd", clevel=level or 5, shuffle=Blosc.SHUFFLE))
    if write.compression == "none":
        return Codecs((), False)
    raise UsageError(f"--compression {write.compression}: not available with --backend zarr.")


def _data_io(data: GenericDataChunkIterator | np.ndarray, chunks: tuple[int, ...] | None, found: Codecs) -> Any:
    """`data` stored with `found`'s codecs, in `chunks` (None: as zarr chooses)."""
    from hdmf_zarr import ZarrDataIO

    filters = list(found.filters) or None
    return ZarrDataIO(data, chunks=chunks, compressor=found.compressor, filters=filters)


class ZarrWrapping:
    """`writer.nwbfile.DataWrapping` for zarr: traces declared for `fill`, the rest streamed by hdmf-zarr."""

    def __init__(self, progress: Progress | None, write: WriteOptions, deferred: list[DeferredSeries]) -> None:
        self.progress, self.write, self.deferred = progress, write, deferred

    def traces(self, entry: SeriesPlan) -> Any:
        rec = entry.recording
        iterator = TracesIterator(rec, self.progress, self.write.chunk_bytes, deferred=True)
        self.deferred.append(DeferredSeries.of_recording(entry.data_path, rec, iterator.layout))
        return _data_io(iterator, iterator.layout.chunk, codecs(self.write, rec.dtype))

    def timestamps(self, rec: Recording) -> Any:
        from numcodecs import GZip

        iterator = TimestampsIterator(rec)
        return _data_io(iterator, iterator.chunk_shape, Codecs((), GZip(level=TIMESTAMPS_LEVEL)))

    def sweep(self, iterator: GenericDataChunkIterator) -> Any:
        return _data_io(iterator, iterator.chunk_shape, codecs(self.write, iterator.dtype))

    def movie(self, entry: MoviePlan) -> Any:
        iterator = MovieIterator(entry.movie, self.progress, self.write.chunk_bytes, deferred=True)
        self.deferred.append(
            DeferredSeries(entry.data_path, MovieRows(entry.movie), iterator.layout, entry.frame_shape)
        )
        return _data_io(iterator, iterator.chunk_shape, codecs(self.write, entry.movie.dtype))

    def signal(self, values: np.ndarray) -> Any:
        return _data_io(values, None, codecs(self.write, values.dtype))


def write_zarr(plan: Plan, provenance: Provenance, path: Path, write: WriteOptions, progress: Progress | None) -> None:
    """Build the plan's NWBFile, write its structure to the store at `path`, then fill its traces."""
    from hdmf_zarr import ZarrIO
    from numcodecs import JSON

    from nwbconvert.writer.manager import current
    from nwbconvert.writer.nwbfile import build_nwbfile

    deferred: list[DeferredSeries] = []
    wrapping = ZarrWrapping(progress, write, deferred)
    nwbfile = build_nwbfile(plan, provenance, progress, write, deferred, wrapping)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        # ZarrIO with pynwb's manager is NWBZarrIO's write path; NWBZarrIO (0.13) drops `object_codec_class`
        with ZarrIO(str(path), manager=current().manager(), mode="w", object_codec_class=JSON) as io:
            io.write(nwbfile)
    fill(path, deferred, write, progress)


def fill(path: Path, series: list[DeferredSeries], write: WriteOptions, progress: Progress | None) -> None:
    """Write every declared traces array of the store at `path`, chunk by chunk on `write.threads` threads."""
    if not series:
        return
    import zarr

    root = zarr.open_group(str(path), mode="r+")
    with ThreadPoolExecutor(max_workers=write.threads, thread_name_prefix="zarr-encode") as pool:
        for item in series:
            _fill_one(root[item.dataset], item, write.threads, pool, progress)


def _fill_one(
    array: Any, item: DeferredSeries, threads: int, pool: ThreadPoolExecutor, progress: Progress | None
) -> None:
    """The HDF5 writer's chunk pipeline (`writer.parallel`): each task reads one chunk in pieces and lets zarr
    encode and store it; at most `threads + 1` chunks are in flight, whatever the recording's length or width."""
    reader = ChunkReader(item)

    def store(chunk: Chunk) -> None:
        data = np.empty((chunk.rows, chunk.cols), dtype=item.rows.dtype)
        for row, part in reader.pieces(chunk):
            data[row : row + len(part)] = part
        t0, c0 = chunk.offset
        if item.frame_shape:  # a movie's chunk: whole frames
            array[t0 : t0 + chunk.rows] = item.chunk_block(data)
        else:  # one whole chunk (or an edge): zarr encodes it
            array[t0 : t0 + chunk.rows, c0 : c0 + chunk.cols] = data

    def stored(chunk: Chunk, _: None) -> None:
        if progress is not None:
            progress(chunk.rows * chunk.cols * item.rows.dtype.itemsize)  # where Ctrl-C/SIGTERM stops

    in_order(((chunk, partial(store, chunk)) for chunk in chunk_grid(item)), pool, threads + 1, stored)
