"""Get written bytes onto the disk: an output is renamed into place only once it is durable.

Without fsync a rename can reach the disk before the data does, and a power cut or kernel crash then leaves
a truncated file under the final name. `Writeback` starts the disk writes while the conversion still runs,
so the final fsync has little left to do.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

WRITEBACK_BYTES = 128 << 20  # start writing to disk every time this much more has been written
_datasync = getattr(os, "fdatasync", os.fsync)  # macOS has no fdatasync


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
