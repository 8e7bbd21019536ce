"""`nwbconvert convert SOURCE -o OUT.nwb` (one recording) or `--config FILE.yaml` (a session's sources) to NWB."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from nwbconvert.cli.options import (
    AllowIncomplete,
    Backend,
    ChunkMb,
    CompressionLevel,
    CompressionOption,
    DandiLayout,
    Debug,
    DryRun,
    Format,
    Json,
    MetadataFiles,
    Output,
    Overwrite,
    Probe,
    Quiet,
    SetValues,
    Sortings,
    Streams,
    Stub,
    Timezone,
    Validate,
    VideoOption,
)

if TYPE_CHECKING:
    from nwbconvert.options import ConvertOptions
    from nwbconvert.pipeline import ConversionResult

Source = Annotated[
    Path | None,
    typer.Argument(
        metavar="SOURCE",
        help="Recording file or folder (SpikeGLX run, Open Ephys node, ...), or a session folder holding several "
        "sources (each found and converted into one file; --dry-run lists them); or give --config.",
    ),
]
Config = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Session config YAML naming the sources (see `nwbconvert config schema`)."),
]
Jobs = Annotated[int | None, typer.Option("--jobs", "-j", help="Cores that compress (default: all).")]


def command(
    source: Source = None,
    config: Config = None,
    output: Output = None,
    format: Format = None,
    stream: Streams = [],  # noqa: B006 (typer copies list defaults)
    sorting: Sortings = [],  # noqa: B006
    probe: Probe = None,
    metadata: MetadataFiles = [],  # noqa: B006
    set_values: SetValues = [],  # noqa: B006
    timezone: Timezone = None,
    stub: Stub = None,
    allow_incomplete: AllowIncomplete = False,
    dry_run: DryRun = False,
    overwrite: Overwrite = False,
    validate: Validate = None,
    backend: Backend = None,
    compression: CompressionOption = None,
    compression_level: CompressionLevel = None,
    jobs: Jobs = None,
    chunk_mb: ChunkMb = None,
    video: VideoOption = None,
    dandi_layout: DandiLayout = False,
    quiet: Quiet = False,
    json_output: Json = False,
    debug: Debug = False,
) -> None:
    """Convert a recording to NWB; the format is detected from the content. With --config, every source the
    config names goes into one file; options given here win over the config's."""
    from nwbconvert.cli import render
    from nwbconvert.cli.guard import guarded
    from nwbconvert.options import ConvertOptions

    with guarded(debug):
        _check_inputs(source, config, output, dry_run)
        options = ConvertOptions(  # None: not given, so a config's value applies
            format=format,
            streams=tuple(stream),
            sortings=tuple(sorting),
            probe=probe,
            metadata_files=tuple(metadata),
            set_values=tuple(set_values),
            timezone=timezone,
            stub_seconds=stub,
            allow_incomplete=allow_incomplete or None,
            dry_run=dry_run,
            overwrite=overwrite or None,
            validate=validate,
            backend=backend,
            compression=compression,
            compression_level=compression_level,
            jobs=jobs,
            chunk_mb=chunk_mb,
            video=video,
            dandi_layout=dandi_layout or None,
        )
        checks = validate is not False and not dry_run
        result = _convert(source, config, output, options, bar=not (quiet or dry_run or json_output), checks=checks)
        render.conversion(result, json_output)


def _convert(
    source: Path | None, config: Path | None, output: Path | None, options: ConvertOptions, bar: bool, checks: bool
) -> ConversionResult:
    """The conversion (of SOURCE, or of the config's sources) with a progress bar; Ctrl-C stops it safely. With
    `checks` the output's validators are primed in another process meanwhile (validate/ahead.py), forked before
    the progress bar starts its thread."""
    from nwbconvert import interrupts
    from nwbconvert.cli import render
    from nwbconvert.cli.guard import STOP_NOTICE
    from nwbconvert.validate.ahead import warming

    with warming(checks), render.progress_bar(enabled=bar) as progress, interrupts.deferred(STOP_NOTICE):
        if config is not None:
            from nwbconvert.config import convert_config

            return convert_config(config, options, output, progress)
        from nwbconvert.pipeline import convert

        assert source is not None
        return convert(source, output or Path("unused.nwb"), options, progress)


def _check_inputs(source: Path | None, config: Path | None, output: Path | None, dry_run: bool) -> None:
    from nwbconvert.errors import UsageError

    if (source is None) == (config is None):
        raise UsageError(
            "Give either SOURCE (a recording) or --config FILE.yaml (a session config), not "
            + ("both." if source is not None else "neither.")
        )
    if output is None and not dry_run and config is None:
        raise UsageError("Give the NWB file to write with -o/--output, e.g. -o sub-m1_ses-1_ecephys.nwb.")
