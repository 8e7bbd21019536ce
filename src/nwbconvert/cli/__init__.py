"""The `nwbconvert` command: one small module per command; rendering lives in render.py."""

from __future__ import annotations


def main() -> None:
    import sys

    if sys.argv[1:2] == ["convert"]:  # its output's validators primed on another core while the rest starts
        from nwbconvert.validate.ahead import start_early

        start_early()
    elif sys.argv[1:2] == ["validate"]:  # its first worker loads the DANDI checks' libraries meanwhile
        from nwbconvert.validate.workers import start_early as start_worker

        start_worker()
    from nwbconvert.loading import collector_paused

    with collector_paused():  # typer and rich (loading.py)
        from nwbconvert.cli.app import app

    try:
        app()
    except SystemExit as exc:
        leave(exc.code)
    leave(0)


def leave(code: object) -> None:
    """Exit with `code` after the atexit handlers and flushed output, skipping the interpreter's teardown of
    every loaded module (~0.2 s once pynwb, h5py and neo are loaded: paid by every command of a batch script).
    With other threads still running, exit normally."""
    import atexit
    import os
    import sys
    import threading
    import warnings

    if isinstance(code, str):
        print(code, file=sys.stderr)
        code = 1
    status = code if isinstance(code, int) else 0
    if threading.active_count() > 1:
        raise SystemExit(status)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # as at a normal exit: handlers' deprecation notes are not for users
        atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            status = status or 120  # what Python exits with when it cannot flush (e.g. a reader of `| head` left)
    os._exit(status)
