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


def _terminate(signum: int, frame: object) -> NoReturn:
    raise KeyboardInterrupt  # so cleanup (temporary files) runs exactly as for Ctrl-C


@contextmanager
def guarded(debug: bool) -> Iterator[None]:
    """Errors become `typer.Exit(code)` after a one-paragraph message; --debug adds the traceback."""
    signal.signal(signal.SIGTERM, _terminate)
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
            f"Unexpected error: {type(exc).__name__}: {exc}. This is a bug in nwbconvert or a library it "
            "uses; rerun with --debug and report the traceback.",
            INTERNAL_ERROR,
            debug,
        )


def _fail(message: str, code: int, debug: bool) -> NoReturn:
    if debug:
        stderr.print(traceback.format_exc(), markup=False)
    stderr.print("Error:", style="bold red", end=" ")
    stderr.print(message, markup=False)
    raise typer.Exit(code)
