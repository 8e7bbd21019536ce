"""Atomic output: write to a hidden temporary sibling, rename into place only when complete."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from nwbconvert.errors import OutputError

PARTIAL_TAG = ".nwbconvert-partial"


def partial_path(dest: Path) -> Path:
    """Where `dest` is written while incomplete; the process id lets a later run tell stale files."""
    return dest.parent / f".{dest.name}.{os.getpid()}{PARTIAL_TAG}{dest.suffix}"


def stale_partials(dest: Path) -> list[Path]:
    """Temporary files of `dest` left by runs that are no longer alive (killed, crashed)."""
    stale = []
    tail = f"{PARTIAL_TAG}{dest.suffix}"
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
    return True


def check_destination(dest: Path, overwrite: bool) -> None:
    """Refuse, before any work, a destination that cannot or must not be written."""
    if dest.is_dir():
        raise OutputError(f"{dest}: is a folder; give the path of the .nwb file to write, e.g. {dest}/session.nwb.")
    if dest.exists() and not overwrite:
        raise OutputError(f"{dest}: already exists. Pass --overwrite to replace it, or choose another name.")
    if not dest.parent.is_dir():
        raise OutputError(f"{dest}: the folder {dest.parent} does not exist. Create it first (mkdir -p).")
    if not os.access(dest.parent, os.W_OK):
        raise OutputError(f"{dest}: the folder {dest.parent} is not writable. Choose another output folder.")


@contextmanager
def atomic_output(dest: Path, overwrite: bool) -> Iterator[Path]:
    """Yield a temporary path; on success it replaces `dest`, on any failure it is removed."""
    for stale in stale_partials(dest):
        stale.unlink(missing_ok=True)
    check_destination(dest, overwrite)
    tmp = partial_path(dest)
    try:
        yield tmp
        if dest.exists() and not overwrite:  # appeared while we were writing
            raise OutputError(f"{dest}: was created by someone else during the conversion; nothing replaced.")
        os.replace(tmp, dest)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _output_error(dest, exc) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _output_error(dest: Path, exc: OSError) -> OutputError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return OutputError(
            f"{dest}: the disk is full ({exc.strerror}). Free space or write elsewhere; nothing was written."
        )
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return OutputError(f"{dest}: permission denied ({exc.strerror}). Choose a writable folder.")
    return OutputError(f"{dest}: could not be written ({exc}). Nothing was left at the destination.")
