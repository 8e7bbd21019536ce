"""Storage backends: HDF5 (an `.nwb` file) and Zarr (an `.nwb.zarr` store, through hdmf-zarr).

A backend owns its output suffix, what it refuses before anything is read (compression it cannot write, an
output name of another backend, session data it cannot hold) and its write path; the pipeline looks it up once
(`get`) and nothing else compares backend names. Adding a backend: a `BackendName`, a `Backend` subclass, an
entry in `BACKENDS`. Stdlib only at import (the command line lists the names); the writers load when writing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from nwbconvert.choice import Choice
from nwbconvert.errors import UsageError

if TYPE_CHECKING:
    from nwbconvert.model import Session
    from nwbconvert.plan import Plan
    from nwbconvert.provenance import Provenance
    from nwbconvert.writer.compression import WriteOptions
    from nwbconvert.writer.samples import Progress


class BackendName(Choice):
    HDF5 = "hdf5"
    ZARR = "zarr"


DEFAULT_BACKEND = BackendName.HDF5


class Backend(ABC):
    name: ClassVar[BackendName]
    suffix: ClassVar[str]  # of the files (or stores) it writes
    marker: ClassVar[str]  # a name ending in it is meant for this backend (and refused by the others)
    libraries: ClassVar[tuple[str, ...]]  # the packages that store its data (NWB's general/was_generated_by)
    help: ClassVar[str]
    folder: ClassVar[bool] = False  # it writes a folder (a store), not one file

    def check(self, write: WriteOptions, output: Path | None) -> None:
        """Refuse, before anything is read, what this backend cannot write (a UsageError, exit 2); `output` is
        None for a dry run (nothing is written, so any name goes)."""
        self.check_write(write)
        if output is None or output.name.endswith(self.suffix):
            return
        default = BACKENDS[DEFAULT_BACKEND]
        claims = [b for b in BACKENDS.values() if b not in (self, default) and output.name.endswith(b.marker)]
        example = output.with_name(_stem(output) + self.suffix)
        if claims:
            other = claims[0]
            raise UsageError(
                f"-o {output}: a name ending in {other.marker} is {other.help}; add --backend {other.name} to write "
                f"one, or write {self.help}, e.g. -o {example}."
            )
        if self is not default:  # the default backend writes any name that no other backend claims
            raise UsageError(
                f"-o {output}: --backend {self.name} writes {self.help} whose name ends in {self.suffix}; "
                f"use e.g. -o {example}."
            )

    def check_write(self, write: WriteOptions) -> None:
        from nwbconvert.writer.compression import check

        check(write)

    def check_session(self, session: Session) -> None:  # noqa: B027 (most backends store everything)
        """Refuse session data this backend cannot store (a UsageError, before any sample is written)."""

    @abstractmethod
    def write(
        self,
        plan: Plan,
        provenance: Provenance,
        tmp: Path,
        write: WriteOptions,
        advance: Progress | None,
    ) -> None:
        """Write the plan's file (or store) at `tmp`: the one place each backend calls the writer."""


class Hdf5(Backend):
    name = BackendName.HDF5
    suffix = ".nwb"
    marker = ".nwb"
    libraries = ("h5py",)
    help = "an HDF5 file"

    def write(
        self,
        plan: Plan,
        provenance: Provenance,
        tmp: Path,
        write: WriteOptions,
        advance: Progress | None,
    ) -> None:
        """pynwb writes the file (traces datasets only declared), then their chunks are compressed on every core.
        Uncompressed samples are written first instead, while pynwb is imported (writer/preallocated.py)."""
        from nwbconvert.loading import collector_paused
        from nwbconvert.writer import preallocated
        from nwbconvert.writer.parallel import DeferredSeries

        deferred: list[DeferredSeries] = []
        if preallocated.suits(plan, write):
            planned = preallocated.planned_series(plan, write)
            with preallocated.PreallocatedFill(tmp, planned, write, advance) as early:
                with collector_paused():  # pynwb is imported (loading.py) while the samples are written
                    from nwbconvert.writer.hdf5 import write_hdf5
                    from nwbconvert.writer.nwbfile import build_nwbfile

                nwbfile = build_nwbfile(plan, provenance, advance, write, deferred)
                write_hdf5(nwbfile, tmp, mode="a")
                early.finish(deferred)
            return
        with collector_paused():  # pynwb's import (loading.py)
            from nwbconvert.writer.hdf5 import write_hdf5
            from nwbconvert.writer.nwbfile import build_nwbfile
            from nwbconvert.writer.parallel import fill

        write_hdf5(build_nwbfile(plan, provenance, advance, write, deferred), tmp)
        fill(tmp, deferred, write, advance)


class Zarr(Backend):
    name = BackendName.ZARR
    suffix = ".nwb.zarr"
    marker = ".zarr"
    libraries = ("hdmf-zarr", "zarr")
    help = "a Zarr store (a folder, through hdmf-zarr)"
    folder = True

    def check_write(self, write: WriteOptions) -> None:
        """Refuse what zarr cannot write (lzf) and what `compression.check` refuses."""
        from dataclasses import replace

        from nwbconvert.options import LEVELS, Compression
        from nwbconvert.writer.compression import check

        if write.compression == Compression.LZF:
            raise UsageError(
                "--compression lzf: Zarr has no lzf codec. With --backend zarr use gzip (readable everywhere), "
                "blosc-zstd (faster, smaller) or none."
            )
        if write.compression == Compression.BLOSC_ZSTD:  # numcodecs has blosc built in: no hdf5plugin needed
            levels = LEVELS[Compression.BLOSC_ZSTD]
            if write.level is not None and write.level not in levels:
                raise UsageError(
                    f"--compression-level {write.level}: for blosc-zstd use {levels.start}-{levels.stop - 1}."
                )
            check(replace(write, compression=Compression.NONE, level=None))
            return
        check(write)

    def check_session(self, session: Session) -> None:
        """The intracellular tables reference their series in compound rows, which only numcodecs' Pickle can
        encode (JSON cannot: zarr-developers/numcodecs#333), and a pickled dataset is code that readers must
        refuse to run (numcodecs >= 0.15 does by default)."""
        from nwbconvert.model import SignalKind

        intracellular = [r.name for r in session.recordings if r.kind is SignalKind.INTRACELLULAR]
        if intracellular:
            raise UsageError(
                f"--backend zarr: {session.source} has intracellular recordings ({', '.join(intracellular[:3])}), "
                "whose NWB tables cannot be stored in Zarr without pickled (unsafe to read) data. Use --backend hdf5."
            )

    def write(
        self,
        plan: Plan,
        provenance: Provenance,
        tmp: Path,
        write: WriteOptions,
        advance: Progress | None,
    ) -> None:
        from nwbconvert.writer.zarr import write_zarr

        write_zarr(plan, provenance, tmp, write, advance)


BACKENDS: dict[BackendName, Backend] = {b.name: b for b in (Hdf5(), Zarr())}
BACKEND_HELP = "; ".join(f"{b.name}: {b.help} named *{b.suffix}" for b in BACKENDS.values()) + (
    f" (default: {DEFAULT_BACKEND})"
)


def get(name: str) -> Backend:
    """The backend called `name`, or a UsageError listing those that exist."""
    try:
        return BACKENDS[BackendName(name)]
    except ValueError:
        raise UsageError(f"--backend {name}: choose one of {', '.join(BACKENDS)}.") from None


def store_suffix(path: Path) -> str | None:
    """The suffix of the backend that writes folders named like `path` (a store), or None."""
    return next((b.suffix for b in BACKENDS.values() if b.folder and path.name.endswith(b.suffix)), None)


def _stem(output: Path) -> str:
    name = output.name
    for backend in BACKENDS.values():
        name = name.removesuffix(backend.marker)
    return name.removesuffix(BACKENDS[DEFAULT_BACKEND].suffix)
