"""Run a command body: turn errors into one paragraph on stderr and the documented exit code."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, NoReturn

import typer
from rich.console import Console

from nwbconvert import interrupts
from nwbconvert.errors import ExitCode, NwbConvertError

stderr = Console(stderr=True, highlight=False, markup=False, soft_wrap=True)  # messages print as they are
INTERNAL_ERROR = 70


INTERRUPTED = "Interrupted; nothing was left at the destination."  # commands that write an output
INTERRUPTED_READING = "Interrupted; no file was written or changed."  # commands that only read (validate, info)
STOP_NOTICE = (
    "\nStopping at the next safe point; nothing will be left at the destination. Press Ctrl-C again to stop at once.\n"
)


@contextmanager
def guarded(debug: bool, interrupted: str = INTERRUPTED) -> Iterator[None]:
    """Errors become `typer.Exit(code)` after a one-paragraph message; --debug adds the traceback. `interrupted`
    is what Ctrl-C or SIGTERM says (what the command leaves behind). Until a conversion begins its output, a
    signal stops it at once (nothing to clean up; see interrupts.py)."""
    interrupts.install(at_once_until_output=True)
    try:
        yield
    except NwbConvertError as exc:
        _fail(exc.message, int(exc.exit_code), debug)
    except KeyboardInterrupt:
        _fail(interrupted, int(ExitCode.INTERRUPTED), debug)
    except (typer.Exit, typer.Abort):
        raise
    except BrokenPipeError as exc:  # render's output goes on quietly (see render.py); this is any other print
        if not reader_left(sys.stdout):
            _unexpected(exc, debug)
        discard(sys.stdout)
        raise typer.Exit(0) from None
    except Exception as exc:
        _unexpected(exc, debug)


def reader_left(stream: IO[str]) -> bool:
    """Whether `stream` is a pipe whose reader has closed it (`| head` has read its lines)."""
    import select

    if not hasattr(select, "poll"):
        return True  # Windows: a BrokenPipeError there is a closed pipe
    try:
        poller = select.poll()
        poller.register(stream.fileno(), 0)  # errors and hang-ups are reported whatever the mask
        return any(events & select.POLLERR for _, events in poller.poll(0))
    except (OSError, ValueError):
        return False


def discard(stream: IO[str]) -> None:
    """Point a stream whose reader left at /dev/null: what is still written (and the final flush) goes nowhere,
    without an error, as `| head` expects."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, stream.fileno())
    finally:
        os.close(devnull)


def _unexpected(exc: Exception, debug: bool) -> NoReturn:
    _fail(
        f"Unexpected error: {type(exc).__name__}: {str(exc).rstrip('.')}. This is a bug in nwbconvert or "
        "a library it uses; rerun with --debug and report the traceback.",
        INTERNAL_ERROR,
        debug,
    )


def _fail(message: str, code: int, debug: bool) -> NoReturn:
    if debug:
        stderr.print(traceback.format_exc())
    stderr.print("Error:", style="bold red", end=" ")
    stderr.print(message)
    raise typer.Exit(code)
