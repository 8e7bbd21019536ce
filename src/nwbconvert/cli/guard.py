"""Run a command body: turn errors into one paragraph on stderr and the documented exit code."""

from __future__ import annotations

import signal
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from rich.console import Console

from nwbconvert.errors import ExitCode, NwbConvertError

stderr = Console(stderr=True, highlight=False, soft_wrap=True)
INTERNAL_ERROR = 70


class _Stop:
    """SIGINT/SIGTERM while writing only set a flag; the write stops at the next chunk (a safe point).

    Raising straight from a signal handler can land inside a finaliser, where Python swallows it.
    """

    deferred = False
    requested = False


def _on_signal(signum: int, frame: object) -> None:
    if _Stop.deferred and not _Stop.requested:
        _Stop.requested = True
        return
    raise KeyboardInterrupt  # cleanup (temporary files) runs exactly as for Ctrl-C


def check_interrupt() -> None:
    """Raise KeyboardInterrupt if a signal arrived while writing."""
    if _Stop.requested:
        raise KeyboardInterrupt


@contextmanager
def deferred_interrupts() -> Iterator[None]:
    _Stop.deferred, _Stop.requested = True, False
    try:
        yield
    finally:
        _Stop.deferred = False


@contextmanager
def guarded(debug: bool) -> Iterator[None]:
    """Errors become `typer.Exit(code)` after a one-paragraph message; --debug adds the traceback."""
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        yield
    except NwbConvertError as exc:
        _fail(exc.message, int(exc.exit_code), debug)
    except KeyboardInterrupt:
        _fail("Interrupted; nothing was left at the destination.", int(ExitCode.INTERRUPTED), debug)
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:
        _fail(
            f"Unexpected error: {type(exc).__name__}: {str(exc).rstrip('.')}. This is a bug in nwbconvert or "
            "a library it uses; rerun with --debug and report the traceback.",
            INTERNAL_ERROR,
            debug,
        )


def _fail(message: str, code: int, debug: bool) -> NoReturn:
    if debug:
        stderr.print(traceback.format_exc(), markup=False)
    stderr.print("Error:", style="bold red", end=" ")
    stderr.print(message, markup=False)
    raise typer.Exit(code)
