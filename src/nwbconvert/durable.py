"""Get written bytes onto the disk: an output is renamed into place only once it is durable.

Without fsync a rename can reach the disk before the data does, and a power cut or kernel crash then leaves
a truncated file under the final name. `Writeback` starts the disk writes while the conversion still runs,
so the final fsync has little left to do.
"""

from __future__ import annotations

import errno
import functools
import os
import threading
from collections.abc import Callable
from pathlib import Path

WRITEBACK_BYTES = 128 << 20  # start writing to disk every time this much more has been written
_datasync = getattr(os, "fdatasync", os.fsync)  # macOS has no fdatasync
_AT_FDCWD = -100  # Linux: paths relative to the working folder
_RENAME_NOREPLACE = 1


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Make a rename or a new entry in the folder durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on a folder; the rename is as durable as they make it
    finally:
        os.close(fd)


def fsync_tree(path: Path) -> None:
    """fsync a file, or every file and folder of a store (deepest first)."""
    if not path.is_dir():
        fsync_file(path)
        return
    for folder, _, files in os.walk(path, topdown=False):
        for name in files:
            fsync_file(Path(folder, name))
        fsync_dir(Path(folder))


def rename_noreplace(src: Path, dest: Path) -> None:
    """Rename `src` to `dest` unless `dest` exists (then FileExistsError, both untouched), in one atomic step.

    Linux: renameat2(RENAME_NOREPLACE). Where it is missing (other systems, old kernels, file systems without
    it): a file is hard-linked to `dest` (which fails if `dest` exists) and `src` unlinked; a folder (a Zarr
    store) is renamed after an exists-check, a best effort, since a rename can replace only an empty folder.
    """
    if _renameat2(src, dest):
        return
    if src.is_dir() and not src.is_symlink():
        _rename_folder(src, dest)
    else:
        link_noreplace(src, dest)


def link_noreplace(src: Path, dest: Path) -> None:
    """The fallback for a file: link, then unlink the temporary name; without hard links, check then rename."""
    try:
        os.link(src, dest, follow_symlinks=False)  # EEXIST: a FileExistsError, both names untouched
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS):
            raise
        _rename_folder(src, dest)  # no hard links here (FAT, some network mounts): the best effort
        return
    os.unlink(src)


def _rename_folder(src: Path, dest: Path) -> None:
    if os.path.lexists(dest):
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(dest))
    try:
        os.rename(src, dest)
    except OSError as exc:
        if exc.errno in (errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR, errno.EEXIST):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(dest)) from exc
        raise


def _renameat2(src: Path, dest: Path) -> bool:
    """True once renamed; False where renameat2 or RENAME_NOREPLACE is unavailable; raises what else fails."""
    call = _renameat2_function()
    if call is None:
        return False
    import ctypes

    if call(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dest), _RENAME_NOREPLACE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False  # an old kernel, or a file system that cannot rename without replacing
    raise OSError(code, os.strerror(code), str(dest))  # EEXIST makes it a FileExistsError


@functools.cache
def _renameat2_function() -> Callable[..., int] | None:
    import ctypes

    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2  # glibc >= 2.28, musl >= 1.2.3
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


class Writeback:
    """A thread that flushes a file being written each time `WRITEBACK_BYTES` more have been written.

    The writer calls `wrote(n)`; the flush runs beside it (fdatasync releases the GIL).
    """

    def __init__(self, path: Path, every: int = WRITEBACK_BYTES) -> None:
        self._fd = os.open(path, os.O_RDONLY)
        self._every = every
        self._pending = 0
        self._wake = threading.Event()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="writeback", daemon=True)
        self._thread.start()

    def wrote(self, n: int) -> None:
        self._pending += n
        if self._pending >= self._every:
            self._pending = 0
            self._wake.set()

    def close(self) -> None:
        self._closing = True
        self._wake.set()
        self._thread.join()
        os.close(self._fd)

    def __enter__(self) -> Writeback:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            if self._closing:
                return
            try:
                _datasync(self._fd)
            except OSError:
                return  # the final fsync reports what is wrong
