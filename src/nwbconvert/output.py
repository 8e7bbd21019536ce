"""Atomic output: write to a hidden temporary sibling, rename into place only when complete and on disk.

The output is a file (HDF5 `.nwb`) or a folder (a Zarr store, `.nwb.zarr`); both are written beside the
destination under a hidden name carrying the process id, and renamed into place only when complete.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

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
    interrupts.check()  # a stop requested (or raised and swallowed) while reading: before anything is created
    interrupts.output_begins()
    tmp = partial_path(dest)
    free_before = _free_bytes(dest.parent)
    try:
        with _quiet_hdf5_finalisers():
            yield tmp
            interrupts.check()  # a stop requested at the very end still leaves nothing
            if dest.exists() and not overwrite:  # appeared while we were writing
                raise OutputError(_appeared(dest))
            fsync_tree(tmp)  # durable before it takes the final name
            interrupts.check()  # the flush can take seconds: a stop requested meanwhile still leaves nothing
            _take_name(tmp, dest, overwrite)
            fsync_dir(dest.parent)
    except Exception as exc:
        full = _space_errno(exc)  # h5py reports a full disk as an OSError or as a RuntimeError
        grown = _allocated_bytes(tmp) if full is not None else 0
        remove(tmp)
        if full is not None:
            raise OutputError(_full_message(dest, full, grown, free_before)) from exc
        if isinstance(exc, OSError):
            raise _output_error(dest, exc) from exc
        raise
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
    reason = _plain_reason(exc)
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return OutputError(f"{dest}: permission denied ({reason}). Choose a writable folder.")
    return OutputError(f"{dest}: could not be written ({reason}). Nothing was left at the destination.")


_SPACE_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
# HDF5 reports a failed write(2) inside its message: "..., errno = 28, error message = 'No space left on device', ..."
_HDF5_ERRNO = re.compile(r"\berrno = (\d+)")
_HDF5_REASON = re.compile(r"error message = '([^']*)'")


def _space_errno(exc: BaseException) -> int | None:
    """ENOSPC or EDQUOT if `exc` (or an exception it was raised from) is a write that found no space: an OSError
    with that errno, or h5py's RuntimeError/OSError quoting HDF5's record of the failed write."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _SPACE_ERRNOS:
            return current.errno
        for found in _HDF5_ERRNO.findall(str(current)):
            if int(found) in _SPACE_ERRNOS:
                return int(found)
        current = current.__cause__ or current.__context__
    return None


def _plain_reason(exc: OSError) -> str:
    """What the system said, without HDF5's record of the write (file descriptor, buffer address, offset)."""
    quoted = _HDF5_REASON.search(str(exc))
    if quoted:
        return quoted.group(1)
    return exc.strerror or str(exc).split(" (", 1)[0]


def _full_message(dest: Path, code: int, grown: int, free_before: int | None) -> str:
    what = "your disk quota is used up" if code == errno.EDQUOT else "the disk is full"
    free = f", and {_size(free_before)} were free there when writing began" if free_before is not None else ""
    return (
        f"{dest}: could not be written: {what} (no space left on the file system holding {dest.parent}). When "
        f"writing stopped the output held {_size(grown)}{free}. The partial output was removed; nothing "
        "was left at the destination. Free some space there (or ask for a larger quota), or write to another disk "
        "with -o."
    )


def _free_bytes(folder: Path) -> int | None:
    """Bytes this user may still write on the file system holding `folder` (None where unknown)."""
    try:
        stat = os.statvfs(folder)
    except (OSError, AttributeError):  # no statvfs on Windows
        return None
    return stat.f_bavail * stat.f_frsize


def _allocated_bytes(path: Path) -> int:
    """Disk space taken by a file or a store (sparse regions not counted; the length where blocks are unknown)."""
    files = [path] if not path.is_dir() else [f for f in path.rglob("*") if f.is_file()]
    total = 0
    for f in files:
        try:
            stat = f.stat()
        except OSError:
            continue
        blocks = getattr(stat, "st_blocks", None)
        total += blocks * 512 if blocks is not None else stat.st_size
    return total


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


class _Finalisers:
    installed = False


@contextmanager
def _quiet_hdf5_finalisers() -> Iterator[None]:
    """Keep h5py's reports of objects it failed to close while they were garbage-collected off stderr.

    When a write fails (a full disk), every h5py object freed afterwards tries to flush into the broken file and
    h5py prints a traceback for each (hundreds of lines), beside the exception that reports the failure. While
    the output is written they are held back; if the write fails they are dropped for the rest of the process
    (objects freed later fail the same way); if it succeeds they are printed as usual.
    """
    held: list[tuple[str, Any]] = []
    hooks = sys.excepthook, sys.unraisablehook

    def on_exception(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        if _from_h5py_finaliser(tb):
            held.append(("exception", (kind, value, tb)))
        else:
            hooks[0](kind, value, tb)

    def on_unraisable(args: Any) -> None:
        if _from_h5py_finaliser(args.exc_traceback):
            held.append(("unraisable", args))
        else:
            hooks[1](args)

    sys.excepthook, sys.unraisablehook = on_exception, on_unraisable
    try:
        yield
    except BaseException:
        _drop_h5py_finaliser_reports(hooks)
        raise
    sys.excepthook, sys.unraisablehook = hooks
    for kind, args in held:
        if kind == "exception":
            hooks[0](*args)
        else:
            hooks[1](args)


def _drop_h5py_finaliser_reports(hooks: tuple[Any, Any]) -> None:
    """From now on, h5py's reports of failed closes are dropped; every other report goes to `hooks`."""
    if _Finalisers.installed:
        sys.excepthook, sys.unraisablehook = hooks
        return
    _Finalisers.installed = True

    def on_exception(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        if not _from_h5py_finaliser(tb):
            hooks[0](kind, value, tb)

    def on_unraisable(args: Any) -> None:
        if not _from_h5py_finaliser(args.exc_traceback):
            hooks[1](args)

    sys.excepthook, sys.unraisablehook = on_exception, on_unraisable


def _from_h5py_finaliser(tb: TracebackType | None) -> bool:
    """A traceback raised in h5py's ObjectID deallocation (the C code that closes an object when it is freed)."""
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename.endswith("_objects.pyx") and "dealloc" in code.co_name:
            return True
        tb = tb.tb_next
    return False
