"""Can the file be opened at all? Empty, not HDF5, truncated: found without touching the HDF5 library.
(A Zarr store, a folder, has its own checks in `zarr_store.py`.)"""

from __future__ import annotations

import struct
from pathlib import Path

from nwbconvert.validate.findings import Finding, ValidationLayer

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def hdf5_end_address(path: Path) -> int | None:
    """The end-of-file address the HDF5 superblock records (None when it cannot be read)."""
    with path.open("rb") as f:
        head = f.read(96)
    if not head.startswith(HDF5_MAGIC) or len(head) < 48:
        return None
    version = head[8]
    if version in (0, 1):
        size_of_offsets = head[13]
        start = (24 if version == 0 else 28) + 2 * size_of_offsets
    else:
        size_of_offsets = head[9]
        start = 12 + 2 * size_of_offsets
    fmt = {4: "<I", 8: "<Q"}.get(size_of_offsets)
    if fmt is None or len(head) < start + size_of_offsets:
        return None
    return int(struct.unpack(fmt, head[start : start + size_of_offsets])[0])


def open_problem(path: Path) -> Finding | None:
    """An error finding when the file cannot be an intact HDF5/NWB file (or Zarr store), else None."""
    if path.is_dir():
        from nwbconvert.validate.zarr_store import store_problem

        return store_problem(path)

    def error(check: str, message: str, fix: str) -> Finding:
        return Finding.error(str(path), check, ValidationLayer.FILE, message, fix)

    with path.open("rb") as f:  # blocks on a stalled mount or pipe: the worker's timeout handles that
        head = f.read(512)
    size = path.stat().st_size
    if size == 0:
        return error("file.empty", "The file is empty (0 bytes).", "Convert or copy the file again.")
    if not head.startswith(HDF5_MAGIC):
        kind = "a text file" if _looks_like_text(head) else "not an HDF5 file"
        return error(
            "file.not_hdf5",
            f"The file is {kind}, not NWB (HDF5 signature missing).",
            "Check that this is the file you meant; NWB files are written by pynwb or nwbconvert.",
        )
    expected = hdf5_end_address(path)
    if expected is not None and size < expected:
        return error(
            "file.truncated",
            f"The file is truncated: the HDF5 superblock expects {expected} bytes, the file has {size} "
            f"({expected - size} missing).",
            "The copy or conversion was interrupted; copy or convert the file again.",
        )
    return None


def _looks_like_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
