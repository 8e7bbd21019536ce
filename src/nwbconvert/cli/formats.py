"""`nwbconvert formats`: the registered readers and whether they can run here."""

from __future__ import annotations

from nwbconvert.cli.options import DEBUG, JSON


def command(json_output: bool = JSON, debug: bool = DEBUG) -> None:
    """List the formats nwbconvert reads, their suffixes and optional dependencies."""
    from nwbconvert.cli import render
    from nwbconvert.cli.guard import INTERRUPTED_READING, guarded
    from nwbconvert.readers.registry import describe

    with guarded(debug, INTERRUPTED_READING):
        render.formats(describe(), json_output)
