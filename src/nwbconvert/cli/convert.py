"""`nwbconvert convert SOURCE -o OUT.nwb` (one recording) or `--config FILE.yaml` (a session's sources) to NWB."""

from __future__ import annotations

from pathlib import Path

import typer

from nwbconvert.cli.options import CHUNK_MB, COMPRESSION, COMPRESSION_LEVEL, DEBUG, JSON, TIMEZONE


def command(
    source: Path | None = typer.Argument(
        None, help="Recording file or folder (SpikeGLX run, Open Ephys node, ...); or give --config."
    ),
    config: Path | None = typer.Option(
        None, "--config", "-c", help="Session config YAML naming the sources (see `nwbconvert config schema`)."
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="NWB file to write (e.g. sub-m1_ses-1_ecephys.nwb; .nwb.zarr with zarr)."
    ),
    format: str | None = typer.Option(None, "--format", "-f", help="Reader name; skips detection (see `formats`)."),
    stream: list[str] = typer.Option([], "--stream", help="Write only this stream or series (repeatable)."),
    sorting: list[Path] = typer.Option(
        [], "--sorting", help="Spike-sorting output to add as units (Phy/Kilosort folder, ...; repeatable)."
    ),
    probe: Path | None = typer.Option(
        None, "--probe", help="Probe geometry (probeinterface .json or .prb) overriding the source's."
    ),
    metadata: list[Path] = typer.Option([], "--metadata", "-m", help="Metadata YAML file (repeatable; later wins)."),
    set_values: list[str] = typer.Option([], "--set", help="KEY=VALUE metadata, e.g. subject.sex=F (wins over files)."),
    timezone: str | None = TIMEZONE,
    stub: float | None = typer.Option(None, "--stub", min=0.001, help="Write only the first SECONDS of each stream."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be written; write nothing."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing output file."),
    validate: bool | None = typer.Option(
        None, "--validate/--no-validate", help="Validate the output before moving it in place (default: validate)."
    ),
    backend: str | None = typer.Option(
        None, "--backend", help="hdf5 (an .nwb file) or zarr (an .nwb.zarr store, through hdmf-zarr) (default: hdf5)."
    ),
    compression: str | None = COMPRESSION,
    compression_level: int | None = COMPRESSION_LEVEL,
    jobs: int | None = typer.Option(None, "--jobs", "-j", help="Cores that compress (default: all)."),
    chunk_mb: float | None = CHUNK_MB,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    json_output: bool = JSON,
    debug: bool = DEBUG,
) -> None:
    """Convert a recording to NWB; the format is detected from the content. With --config, every source the
    config names goes into one file; options given here win over the config's."""
    from nwbconvert import interrupts
    from nwbconvert.cli import render
    from nwbconvert.cli.guard import STOP_NOTICE, guarded
    from nwbconvert.errors import UsageError

    with guarded(debug):
        if (source is None) == (config is None):
            raise UsageError(
                "Give either SOURCE (a recording) or --config FILE.yaml (a session config), not "
                + ("both." if source is not None else "neither.")
            )
        if output is None and not dry_run and config is None:
            raise UsageError("Give the NWB file to write with -o/--output, e.g. -o sub-m1_ses-1_ecephys.nwb.")
        from nwbconvert.pipeline import ConvertOptions, convert

        default = ConvertOptions()
        options = ConvertOptions(
            format=format,
            streams=tuple(stream),
            sortings=tuple(sorting),
            probe=probe,
            metadata_files=tuple(metadata),
            set_values=tuple(set_values),
            timezone=timezone,
            stub_seconds=stub,
            dry_run=dry_run,
            overwrite=overwrite,
            validate=validate is not False,
            backend=backend if backend is not None else default.backend,
            compression=compression if compression is not None else default.compression,
            compression_level=compression_level,
            jobs=jobs,
            chunk_mb=chunk_mb if chunk_mb is not None else default.chunk_mb,
        )
        write_flags: dict[str, object] = {"backend": backend, "compression": compression, "jobs": jobs}
        write_flags |= {"compression_level": compression_level, "chunk_mb": chunk_mb}
        given = frozenset(name for name, value in write_flags.items() if value is not None)  # win over a config
        bar = not (quiet or dry_run or json_output)
        with render.progress_bar(enabled=bar) as progress, interrupts.deferred(STOP_NOTICE):
            if config is not None:
                from nwbconvert.config import convert_config

                result = convert_config(config, options, output, validate, progress, given)
            else:
                assert source is not None
                result = convert(source, output or Path("unused.nwb"), options, progress)
        render.conversion(result, json_output)
