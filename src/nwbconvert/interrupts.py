"""Ctrl-C and SIGTERM stop a conversion at a safe point, so that nothing is left half-written.

While a conversion runs, the first signal only records the request (and says so on stderr); the conversion
checks it at every chunk it writes and between its phases (headers read, file written, file validated, just
before the output takes its final name) and stops there with KeyboardInterrupt, which removes the temporary
file. A second signal raises at once (cleanup still runs). Outside a conversion a signal raises at once.

Raising straight from a signal handler could land inside a finaliser (an h5py object's), where Python
swallows it and the write would go on.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager


class _State:
    deferring = False
    requested = False
    notice = b""


def check() -> None:
    """Raise KeyboardInterrupt if a stop was requested (call where stopping leaves nothing half-done)."""
    if _State.requested:
        raise KeyboardInterrupt


def request() -> None:
    """Ask for a stop at the next safe point, as a first Ctrl-C would (from any thread; e.g. a Dask worker's
    conversion when the batch's client is interrupted)."""
    _State.requested = True


def withdraw() -> None:
    """Forget a stop requested earlier (a worker process that goes on to run other sessions)."""
    _State.requested = False


def install(defer: bool = False) -> None:
    """Handle SIGINT and SIGTERM as described above (from the main thread); with `defer` the first signal only
    requests a stop for the rest of the process's life (a pool worker: its sessions check at their safe points)."""
    _State.deferring, _State.requested, _State.notice = defer, False, b""
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)


@contextmanager
def deferred(notice: str = "") -> Iterator[None]:
    """Inside the block the first signal only requests a stop; `notice` is written to stderr when it comes."""
    before = _State.deferring, _State.notice
    _State.deferring, _State.notice = True, notice.encode()
    try:
        yield
    finally:
        _State.deferring, _State.notice = before


def _on_signal(signum: int, frame: object) -> None:
    if _State.deferring and not _State.requested:
        _State.requested = True
        if _State.notice:
            os.write(2, _State.notice)  # not through rich: the handler may run in the middle of a print
        return
    _State.requested = True
    raise KeyboardInterrupt
