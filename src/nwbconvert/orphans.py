"""A helper process ends with the command that started it, even when that command is killed with SIGKILL (the OOM
killer, a scheduler's time limit, `kill -9`), which runs no cleanup: a helper left behind would keep its memory
and go on working, or wait on its pipe forever, for nothing.

`batch`'s pool workers arm `end_with_parent` themselves; `validate`'s workers and `convert`'s primed checker are
started by `fork_helper`.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

PARENT_POLL_S = 1.0
_PR_SET_PDEATHSIG = 1


def fork_helper(serve: Callable[..., None], args: tuple[Any, ...] = ()) -> tuple[Any, Connection]:
    """Fork a daemon process that runs `serve(its end of a new duplex pipe, *args)` and ends with this process;
    returns the started process and this process's end of the pipe. The fork gives the helper this end too: it
    closes it first (left open, the pipe would never close when this process dies, and a helper waiting on it would
    wait forever), then arms `end_with_parent`. A failure to start (OSError: no memory or process to spare) closes
    both ends and is raised."""
    context = multiprocessing.get_context("fork")
    conn, child = context.Pipe(duplex=True)
    proc = context.Process(target=_helper, args=(serve, child, conn, os.getpid(), args), daemon=True)
    try:
        proc.start()
    except BaseException:
        conn.close()
        raise
    finally:
        child.close()
    return proc, conn


def _helper(
    serve: Callable[..., None], conn: Connection, parent_end: Connection, parent_pid: int, args: tuple[Any, ...]
) -> None:
    parent_end.close()
    end_with_parent(parent_pid)
    serve(conn, *args)


def end_with_parent(parent_pid: int) -> None:
    """Make this process end when `parent_pid`, the process that started it, dies.

    On Linux the kernel SIGKILLs it then (prctl PR_SET_PDEATHSIG). The signal fires when the *thread* that started
    this process ends, so start helpers from a thread that lives as long as its process does: the main thread, or
    the thread that runs the whole batch. Where there is no prctl (macOS), a thread checks every PARENT_POLL_S that
    this process still has that parent. The parent may have died before either was armed: then this process ends
    now.
    """
    if not _die_with_parent():
        threading.Thread(target=_watch_parent, args=(parent_pid,), name="watch-parent", daemon=True).start()
    if os.getppid() != parent_pid:
        os.kill(os.getpid(), signal.SIGKILL)


def _die_with_parent() -> bool:
    """Ask Linux to SIGKILL this process when its parent dies; False where that is not available."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(PARENT_POLL_S)
    os.kill(os.getpid(), signal.SIGKILL)
