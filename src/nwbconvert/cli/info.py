"""`nwbconvert info FILE.nwb`: a readable summary of an NWB file."""

from __future__ import annotations

from pathlib import Path

import typer

from nwbconvert.cli.options import DEBUG, JSON


def command(
    path: Path = typer.Argument(..., help="NWB file (.nwb) or NWB Zarr store (.nwb.zarr) to summarise."),
    json_output: bool = JSON,
    debug: bool = DEBUG,
) -> None:
    """Summarise an NWB file or Zarr store: session, subject, devices, electrodes, series, units, events."""
    from nwbconvert.cli import render
    from nwbconvert.cli.guard import INTERRUPTED_READING, guarded
    from nwbconvert.summary import summarise

    with guarded(debug, INTERRUPTED_READING):
        render.summary(summarise(path), json_output)
