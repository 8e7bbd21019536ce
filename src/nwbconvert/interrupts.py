"""Ctrl-C and SIGTERM stop a conversion at a safe point, so that nothing is left half-written.

While a conversion runs, the first signal only records the request (and says so on stderr); the conversion
checks it at every chunk it writes and between its phases (headers read, file written, file validated, just
before the output takes its final name) and stops there with KeyboardInterrupt, which removes the temporary
file. A second signal raises at once (cleanup still runs). Outside a conversion a signal raises at once, and so
it does for a command (`install(at_once_until_output=True)`) inside `deferred` until the output is begun
(`output_begins`): reading headers, metadata and configs and planning leave nothing to clean up, and may take
seconds in a library that never checks. Long reads of our own
(YAML parsing) also `check` as they go, for a batch worker, whose first signal is only ever a request.

Raising straight from a signal handler could land inside a finaliser (an h5py object's), where Python
swallows it and the write would go on.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class _State:
    deferring = False
    requested = False
    notice = b""
    at_once_until_output = False  # the policy `install` set for `deferred` blocks
    until_output = False  # inside `deferred` with that policy: a signal raises at once until the output is begun


_fence = threading.local()  # `fenced`: per thread (a Dask worker runs several sessions, each in its own thread)


def check() -> None:
    """Raise KeyboardInterrupt if a stop was requested, or inside `fenced` if the work is no longer ours (call
    where stopping leaves nothing half-done: the last call is just before the output takes its final name)."""
    still_ours = getattr(_fence, "still_ours", None)
    if _State.requested or (still_ours is not None and not still_ours()):
        raise KeyboardInterrupt


@contextmanager
def fenced(still_ours: Callable[[], bool]) -> Iterator[None]:
    """Inside the block every `check` of this thread also asks `still_ours` (a batch session's lock: lock.py), so
    a run whose session was taken over stops at its next safe point, at the latest just before its final rename;
    the other sessions of its process go on."""
    before = getattr(_fence, "still_ours", None)
    _fence.still_ours = still_ours
    try:
        yield
    finally:
        _fence.still_ours = before


def request() -> None:
    """Ask for a stop at the next safe point, as a first Ctrl-C would (from any thread; e.g. a Dask worker's
    conversion when the batch's client is interrupted)."""
    _State.requested = True


def withdraw() -> None:
    """Forget a stop requested earlier (a worker process that goes on to run other sessions)."""
    _State.requested = False


def install(defer: bool = False, at_once_until_output: bool = False) -> None:
    """Handle SIGINT and SIGTERM as described above (from the main thread); with `defer` the first signal only
    requests a stop for the rest of the process's life (a pool worker: its sessions check at their safe points);
    with `at_once_until_output` a `deferred` block defers only once its output is begun (a command's conversion)."""
    _State.deferring, _State.requested, _State.notice = defer, False, b""
    _State.at_once_until_output, _State.until_output = at_once_until_output, False
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)


@contextmanager
def deferred(notice: str = "") -> Iterator[None]:
    """Inside the block the first signal only requests a stop; `notice` is written to stderr when it comes. With
    `install(at_once_until_output=True)`, only once the output is begun: before, a signal raises at once."""
    before = _State.deferring, _State.notice, _State.until_output
    _State.deferring, _State.notice, _State.until_output = True, notice.encode(), _State.at_once_until_output
    try:
        yield
    finally:
        _State.deferring, _State.notice, _State.until_output = before


def output_begins() -> None:
    """The temporary output is about to be created: from now on a stop waits for a safe point (see `deferred`)."""
    _State.until_output = False


def _on_signal(signum: int, frame: object) -> None:
    if _State.deferring and not _State.until_output and not _State.requested:
        _State.requested = True
        if _State.notice:
            os.write(2, _State.notice)  # not through rich: the handler may run in the middle of a print
        return
    _State.requested = True
    raise KeyboardInterrupt
