"""The typer application: global options and the list of commands."""

from __future__ import annotations

import typer

from nwbconvert.cli import batch, config, convert, formats, info, preview, validate

app = typer.Typer(
    name="nwbconvert",
    help="Convert neurophysiology recordings to DANDI-ready NWB files, and check NWB files before upload.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        import sys

        from nwbconvert import __version__
        from nwbconvert.cli.guard import discard

        try:
            print(f"nwbconvert {__version__}", flush=True)
        except BrokenPipeError:
            discard(sys.stdout)  # `| head -0`: nothing to say
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """Exit codes: 0 ok, 1 validation errors, 2 usage, 3 source, 4 metadata, 5 output, 6 missing
    dependency, 130 interrupted."""


app.command("convert")(convert.command)
app.command("info")(info.command)
app.command("formats")(formats.command)
app.command("validate")(validate.command)
app.command("preview")(preview.command)
app.command("batch")(batch.command)
app.add_typer(config.app, name="config")
