"""`nwbconvert preview FILE [-o report.html] [--png DIR]`: an offline HTML report with pictures of an NWB file."""

from __future__ import annotations

from pathlib import Path

import typer

from nwbconvert.cli.options import DEBUG


def command(
    path: Path = typer.Argument(..., help="NWB file (.nwb) or NWB Zarr store (.nwb.zarr) to preview."),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="The HTML report to write (default: <stem>.preview.html beside the file)."
    ),
    png: Path | None = typer.Option(None, "--png", help="Also write each figure as a PNG file into this folder."),
    validate: bool = typer.Option(
        True, "--validate/--no-validate", help="Include the findings of `nwbconvert validate` (default: include)."
    ),
    debug: bool = DEBUG,
) -> None:
    """Write one self-contained HTML page (figures embedded, no network, no script) showing what the file holds:
    session, subject, devices, provenance, validation findings, traces, probe map, units, events and trials,
    imaging ROIs, pose and behavior."""
    from nwbconvert.cli.guard import INTERRUPTED, guarded

    with guarded(debug, INTERRUPTED):
        from nwbconvert.preview.report import PreviewOptions, build, default_destination, write

        dest = output or default_destination(path)
        report = build(path, PreviewOptions(validate=validate))
        written = write(report, dest, png)
        typer.echo(f"Wrote {written[0]}" + (f" and {len(written) - 1} figures in {png}" if png else ""))
