"""`nwbconvert batch STUDY.yaml -o DANDISET/` or `--source "raw/{subject_id}/{session_id}"`: convert a whole study."""

from __future__ import annotations

from pathlib import Path

import typer

from nwbconvert.cli.options import CHUNK_MB, COMPRESSION, COMPRESSION_LEVEL, DEBUG, JSON, TIMEZONE


def command(
    study_config: Path | None = typer.Argument(
        None, help="Study config YAML (sessions, path template, per-subject metadata) or a CSV manifest of sessions."
    ),
    source: str | None = typer.Option(
        None,
        "--source",
        help='Path template of the sessions, e.g. "raw/{subject_id}/{session_id}" (fields fill metadata).',
    ),
    output: Path | None = typer.Option(None, "--output", "-o", help="Output folder (DANDI layout: sub-<id>/...)."),
    metadata: list[Path] = typer.Option(
        [], "--metadata", "-m", help="Lab-wide metadata YAML, under per-subject/session values (repeatable)."
    ),
    set_values: list[str] = typer.Option([], "--set", help="KEY=VALUE metadata for every session (wins over files)."),
    jobs: int | None = typer.Option(
        None, "--jobs", "-j", min=1, help="Sessions converted at once on this machine (default: half the cores)."
    ),
    scheduler: str | None = typer.Option(
        None, "--scheduler", help="Run on an existing Dask cluster, e.g. tcp://head-node:8786 (see docs/cluster.md)."
    ),
    dask_workers: int | None = typer.Option(
        None, "--dask-workers", min=1, help="Run on a Dask LocalCluster of N single-threaded worker processes."
    ),
    force: bool = typer.Option(False, "--force", help="Convert every session again, even those up to date."),
    dry_run: bool = typer.Option(False, "--dry-run", help="List sessions, targets and what would be skipped."),
    timezone: str | None = TIMEZONE,
    validate: bool | None = typer.Option(
        None, "--validate/--no-validate", help="Validate each output before moving it in place (default: validate)."
    ),
    compression: str | None = COMPRESSION,
    compression_level: int | None = COMPRESSION_LEVEL,
    chunk_mb: float | None = CHUNK_MB,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress on stderr."),
    json_output: bool = JSON,
    debug: bool = DEBUG,
) -> None:
    """Convert every session of a study, each exactly as `convert` would, into a DANDI-layout folder. Resumable:
    sessions already converted (same inputs and options) are skipped; one failing session never stops the others.
    Exit code 0 only if every session was converted or skipped, else 1; the summary says which failed and why."""
    from nwbconvert.cli.guard import guarded
    from nwbconvert.errors import UsageError

    with guarded(debug):
        if output is None:
            raise UsageError("Give the output folder with -o/--output, e.g. -o dandiset/.")
        if (study_config is None) == (source is None):
            raise UsageError(
                "Give either STUDY_CONFIG (a study YAML or CSV manifest) or --source TEMPLATE (e.g. "
                '"raw/{subject_id}/{session_id}"), not ' + ("both." if source is not None else "neither.")
            )
        if scheduler and dask_workers:
            raise UsageError("Give --scheduler ADDRESS (an existing Dask cluster) or --dask-workers N, not both.")
        if jobs is not None and (scheduler or dask_workers):
            raise UsageError(
                "-j/--jobs sets the local process pool; with Dask the workers' threads decide how many sessions "
                "run at once. Drop -j, or drop --scheduler/--dask-workers."
            )
        _run(
            study_config, source, output, metadata, set_values, jobs, scheduler, dask_workers, force, dry_run,
            timezone, validate is not False, compression, compression_level, chunk_mb, quiet, json_output,
        )  # fmt: skip


def _run(
    study_config: Path | None,
    source: str | None,
    output: Path,
    metadata: list[Path],
    set_values: list[str],
    jobs: int | None,
    scheduler: str | None,
    dask_workers: int | None,
    force: bool,
    dry_run: bool,
    timezone: str | None,
    validate: bool,
    compression: str | None,
    compression_level: int | None,
    chunk_mb: float | None,
    quiet: bool,
    json_output: bool,
) -> None:
    from nwbconvert.batch.discover import StudyRequest, discover
    from nwbconvert.batch.engines import DaskCluster, Engine, ProcessPool, default_sessions, threads_per_session
    from nwbconvert.cli import render_batch
    from nwbconvert.pipeline import ConvertOptions
    from nwbconvert.writer.compression import check

    engine: Engine
    if scheduler or dask_workers:
        engine = DaskCluster(scheduler, dask_workers)
        threads = None  # each worker works out its share of its host's cores
    else:
        engine = ProcessPool(jobs or default_sessions())
        threads = threads_per_session(engine.sessions)
    default = ConvertOptions()
    options = ConvertOptions(
        set_values=tuple(set_values),
        timezone=timezone,
        validate=validate,
        compression=compression if compression is not None else default.compression,
        compression_level=compression_level,
        jobs=threads,
        chunk_mb=chunk_mb if chunk_mb is not None else default.chunk_mb,
    )
    check(options.write)  # a bad --compression is a usage error before any session runs
    root = output.expanduser().resolve()
    found = discover(StudyRequest(root, options, study_config, source, tuple(metadata)))
    if dry_run:
        from nwbconvert.batch.manifest import decide

        render_batch.dry_run(found, [decide(j, force) for j in found], root, json_output)
        return
    from nwbconvert.batch.runner import run_batch

    root.mkdir(parents=True, exist_ok=True)
    with render_batch.batch_progress(enabled=not quiet) as progress:
        result = run_batch(found, engine, force, progress)
    render_batch.summary(result, found, root, engine.describe(), json_output)
    raise typer.Exit(0 if result.ok else 1)
