"""Atomic output: write to a hidden temporary sibling, rename into place only when complete and on disk.

The output is a file (HDF5 `.nwb`) or a folder (a Zarr store, `.nwb.zarr`); both are written beside the
destination under a hidden name carrying the process id, and renamed into place only when complete.
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from nwbconvert import interrupts
from nwbconvert.backends import store_suffix
from nwbconvert.durable import fsync_dir, fsync_tree, rename_noreplace
from nwbconvert.errors import OutputError

PARTIAL_TAG = ".nwbconvert-partial"


def output_suffix(dest: Path) -> str:
    """A store's suffix (`.nwb.zarr`), else the last suffix (`.nwb`)."""
    return store_suffix(dest) or dest.suffix


def is_zarr_store(path: Path) -> bool:
    """A folder holding a Zarr (v2) group: what hdmf-zarr writes."""
    return path.is_dir() and (path / ".zgroup").is_file()


def partial_path(dest: Path) -> Path:
    """Where `dest` is written while incomplete; the process id lets a later run tell stale files."""
    return dest.parent / f".{dest.name}.{os.getpid()}{PARTIAL_TAG}{output_suffix(dest)}"


def remove(path: Path) -> None:
    """Delete a file or a folder (a store) if it is there."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def size_bytes(path: Path) -> int:
    """Bytes of a file, or of every file in a store."""
    if path.is_dir():
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return path.stat().st_size


def replace(src: Path, dest: Path) -> None:
    """Rename `src` to `dest`, replacing what is there; a folder in the way is moved aside first, then deleted."""
    if not dest.is_dir() or dest.is_symlink():
        os.replace(src, dest)
        return
    aside = dest.parent / f".{dest.name}.{os.getpid()}-replaced{PARTIAL_TAG}{output_suffix(dest)}"
    os.replace(dest, aside)
    try:
        os.replace(src, dest)
    except OSError:
        os.replace(aside, dest)
        raise
    remove(aside)


def stale_partials(dest: Path) -> list[Path]:
    """Temporary files (or stores) of `dest` left by runs that are no longer alive (killed, crashed)."""
    stale = []
    tail = f"{PARTIAL_TAG}{output_suffix(dest)}"
    for p in dest.parent.glob(f".{dest.name}.*{tail}"):
        pid_text = p.name[len(dest.name) + 2 : -len(tail)]
        if not pid_text.isdigit() or not _alive(int(pid_text)):
            stale.append(p)
    return stale


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not zombie(pid)


def zombie(pid: int) -> bool:
    """A killed process not yet reaped by its parent (or by a container's init): it writes nothing more."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False  # no /proc (macOS): trust kill(pid, 0)


def check_destination(dest: Path, overwrite: bool) -> None:
    """Refuse, before any work, a destination that cannot or must not be written."""
    if dest.is_dir() and store_suffix(dest) is None:
        raise OutputError(f"{dest}: is a folder; give the path of the .nwb file to write, e.g. {dest}/session.nwb.")
    if dest.is_dir() and not is_zarr_store(dest):
        raise OutputError(
            f"{dest}: is a folder but not a Zarr store, so it is not replaced. Remove it, or choose another name."
        )
    if dest.exists() and not overwrite:
        raise OutputError(f"{dest}: already exists. Pass --overwrite to replace it, or choose another name.")
    if not dest.parent.is_dir():
        raise OutputError(f"{dest}: the folder {dest.parent} does not exist. Create it first (mkdir -p).")
    if not os.access(dest.parent, os.W_OK):
        raise OutputError(f"{dest}: the folder {dest.parent} is not writable. Choose another output folder.")


@contextmanager
def atomic_output(dest: Path, overwrite: bool) -> Iterator[Path]:
    """Yield a temporary path (a file or a store); on success it replaces `dest`, on any failure it is removed."""
    for stale in stale_partials(dest):
        remove(stale)
    check_destination(dest, overwrite)
    tmp = partial_path(dest)
    try:
        yield tmp
        interrupts.check()  # a stop requested at the very end still leaves nothing
        if dest.exists() and not overwrite:  # appeared while we were writing
            raise OutputError(_appeared(dest))
        fsync_tree(tmp)  # durable before it takes the final name
        interrupts.check()  # the flush can take seconds: a stop requested meanwhile still leaves nothing
        _take_name(tmp, dest, overwrite)
        fsync_dir(dest.parent)
    except OSError as exc:
        remove(tmp)
        raise _output_error(dest, exc) from exc
    except BaseException:
        remove(tmp)
        raise


def _take_name(tmp: Path, dest: Path, overwrite: bool) -> None:
    """The final rename; without `overwrite` it cannot replace what appeared after the exists-check (another
    run finishing while this one flushed)."""
    if overwrite:
        replace(tmp, dest)
        return
    try:
        rename_noreplace(tmp, dest)
    except FileExistsError as exc:
        raise OutputError(_appeared(dest)) from exc


def _appeared(dest: Path) -> str:
    return (
        f"{dest}: was created by another program (or another nwbconvert run) while this conversion was "
        "finishing. It was not replaced, and this conversion's output was removed. Pass --overwrite to "
        "replace it, or choose another name."
    )


def _output_error(dest: Path, exc: OSError) -> OutputError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return OutputError(
            f"{dest}: the disk is full ({exc.strerror}). Free space or write elsewhere; nothing was written."
        )
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return OutputError(f"{dest}: permission denied ({exc.strerror}). Choose a writable folder.")
    return OutputError(f"{dest}: could not be written ({exc}). Nothing was left at the destination.")
