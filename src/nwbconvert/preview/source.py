"""Open an NWB file (HDF5, or a Zarr store) lazily: datasets stay on disk until a figure slices them."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import IO, Any

from nwbconvert.errors import SourceError
from nwbconvert.output import is_zarr_store
from nwbconvert.readers.plain import explain

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def check_readable(path: Path) -> bool:
    """Whether `path` is a Zarr store (True) or an HDF5 file (False); anything else is a SourceError."""
    if is_zarr_store(path):
        return True
    if path.is_dir():
        raise SourceError(f"{path}: is a folder but not an NWB Zarr store. Give an .nwb file or a .nwb.zarr store.")
    if not path.is_file():
        raise SourceError(f"{path}: no such file. Give the path of an .nwb file or a .nwb.zarr store.")
    try:
        with path.open("rb") as f:
            head = f.read(8)
    except OSError as exc:
        raise SourceError(f"{path}: cannot be read ({exc.strerror or exc}). Check its permissions.") from None
    if head != HDF5_MAGIC:
        raise SourceError(
            f"{path}: is not an NWB file (it is neither HDF5 nor a Zarr store), so there is nothing to preview. "
            "Give the .nwb file that `nwbconvert convert` (or another NWB writer) produced."
        )
    return False


@contextmanager
def open_nwb(path: Path, fileobj: IO[bytes] | None = None) -> Iterator[Any]:
    """The NWBFile of `path`, read lazily with the namespaces cached in it; `fileobj` (an open binary file,
    e.g. one that counts the bytes read) is what h5py reads instead of opening `path` itself."""
    store = check_readable(path) if fileobj is None else False
    with ExitStack() as stack:
        stack.enter_context(warnings.catch_warnings())
        warnings.simplefilter("ignore")
        try:
            io = stack.enter_context(_io(path, store, fileobj))
            nwb = io.read()
        except Exception as exc:
            raise SourceError(
                f"{path}: could not be read as NWB ({explain(exc, path)}). The file may be damaged or truncated; "
                "`nwbconvert validate` tells more."
            ) from exc
        yield nwb


@contextmanager
def _io(path: Path, store: bool, fileobj: IO[bytes] | None) -> Iterator[Any]:
    if store:
        from nwbconvert.validate.zarr_store import open_io

        _register_extensions({p.name for p in (path / "specifications").glob("*")})

        with open_io(path) as io:
            yield io
        return
    import h5py
    from pynwb import NWBHDF5IO

    h5 = h5py.File(fileobj if fileobj is not None else str(path), "r")
    try:
        _register_extensions(set(h5["specifications"].keys()) if "specifications" in h5 else set())
        with NWBHDF5IO(file=h5, mode="r", load_namespaces=True) as io:
            yield io
    finally:
        h5.close()


def _register_extensions(cached: set[str]) -> None:
    """ndx-pose's Python classes (PoseEstimation, Skeleton) for a file that caches its namespace, when installed:
    without them its types read as generic containers. Imported only then (it takes seconds), and before the
    reader is made (the reader copies the type map it finds)."""
    if "ndx-pose" not in cached:
        return
    with suppress(ImportError):
        import ndx_pose  # noqa: F401
