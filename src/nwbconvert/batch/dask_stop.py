"""Ctrl-C on a Dask batch stops the sessions already running on the workers, not only the queued ones.

Dask cannot interrupt a running task, so the stop is cooperative: the client sets a named `distributed.Event`;
on each worker a thread beside the session waits on it and, once it is set, requests a stop
(`interrupts.request`), which the conversion honours at its next chunk or phase, removing its temporary file
as a local Ctrl-C does. Queued sessions then start, see the stop before converting anything and end at once.
The client waits for every session to end (at most STOP_WAIT_S; a second Ctrl-C stops waiting), so closing a
LocalCluster never kills a worker in the middle of its cleanup.

The stop request is per worker process: a worker running several sessions at once (`--nthreads` > 1) stops
them all, which is what Ctrl-C means when they belong to this batch (one batch per cluster is the usual case).
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from nwbconvert import interrupts

if TYPE_CHECKING:
    from distributed import Client, Event, Future

STOP_WAIT_S = 120.0  # for the running sessions to reach their next safe point and clean up
_POLL_S = 0.5  # how often a worker asks the scheduler whether the stop was set (one message each)
_REPEAT_S = 0.05  # a worker that saw the stop keeps requesting it: a session starting beside it may withdraw it


def stop_event(client: Client, token: str) -> Event:
    """The Event of one batch run (named by `token`, unique per run)."""
    from distributed import Event

    return Event(f"nwbconvert-stop-{token}", client=client)


def stop_sessions(client: Client, event: Event, futures: Sequence[Future]) -> None:
    """Ask every session of the batch to stop and wait for them to end (cleanup done)."""
    from distributed import as_completed

    running = [f for f in futures if not f.done()]
    if not running:
        return
    sys.stderr.write(
        f"\nStopping the {len(running)} session(s) not yet ended at their next safe point; nothing will be left "
        "of them. Press Ctrl-C again to stop waiting.\n"
    )
    try:
        event.set()
        for _ in as_completed(running, timeout=STOP_WAIT_S, loop=client.loop):
            pass
    except TimeoutError:
        left = sum(not f.done() for f in running)
        sys.stderr.write(f"{left} session(s) did not stop within {STOP_WAIT_S:.0f} s; the next run cleans up.\n")
    except Exception as exc:  # the scheduler went away: there is nothing left to wait for
        sys.stderr.write(f"Could not wait for the sessions to stop ({type(exc).__name__}: {exc}).\n")


@contextmanager
def stopped_by(name: str) -> Iterator[None]:
    """On a worker, around one session: request a stop of this process's conversion once Event `name` is set."""
    from distributed import Event

    event = Event(name)
    done = threading.Event()
    interrupts.withdraw()  # a stop of an earlier batch that this worker served
    if event.is_set():
        interrupts.request()

    def watch() -> None:
        try:
            while not event.wait(timeout=_POLL_S):
                if done.is_set():
                    return
        except Exception:  # the scheduler is gone: nothing left to watch
            return
        while not done.is_set():
            interrupts.request()
            done.wait(_REPEAT_S)

    thread = threading.Thread(target=watch, name="nwbconvert-stop-watch", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()  # not joined: its last wait on the scheduler may take _POLL_S


@contextmanager
def ignoring_ctrl_c() -> Iterator[None]:
    """Processes started inside the block ignore SIGINT (inherited through fork and exec): Ctrl-C in the terminal
    reaches a LocalCluster's workers too, which would print their own tracebacks and die mid-session; the
    client stops them through the Event instead."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)
