"""`nwbconvert batch STUDY.yaml -o DANDISET/` or `--source "raw/{subject_id}/{session_id}"`: convert a whole study."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from nwbconvert.cli.options import (
    AllowIncomplete,
    ChunkMb,
    CompressionLevel,
    CompressionOption,
    Debug,
    DryRun,
    Json,
    Quiet,
    Timezone,
    Validate,
)

if TYPE_CHECKING:
    from nwbconvert.batch.discover import StudyRequest
    from nwbconvert.batch.engines import Engine

StudyConfig = Annotated[
    Path | None,
    typer.Argument(
        metavar="STUDY_CONFIG",
        help="Study config YAML (sessions, path template, per-subject metadata) or a CSV manifest of sessions.",
    ),
]
Template = Annotated[
    str | None,
    typer.Option(
        "--source", help='Path template of the sessions, e.g. "raw/{subject_id}/{session_id}" (fields fill metadata).'
    ),
]
OutputDir = Annotated[Path | None, typer.Option("--output", "-o", help="Output folder (DANDI layout: sub-<id>/...).")]
LabMetadata = Annotated[
    list[Path],
    typer.Option("--metadata", "-m", help="Lab-wide metadata YAML, under per-subject/session values (repeatable)."),
]
SetAll = Annotated[list[str], typer.Option("--set", help="KEY=VALUE metadata for every session (wins over files).")]
Sessions = Annotated[
    int | None,
    typer.Option("--jobs", "-j", min=1, help="Sessions converted at once on this machine (default: half the cores)."),
]
Scheduler = Annotated[
    str | None,
    typer.Option(
        "--scheduler", help="Run on an existing Dask cluster, e.g. tcp://head-node:8786 (see docs/cluster.md)."
    ),
]
DaskWorkers = Annotated[
    int | None,
    typer.Option("--dask-workers", min=1, help="Run on a Dask LocalCluster of N single-threaded worker processes."),
]
Force = Annotated[bool, typer.Option("--force", help="Convert every session again, even those up to date.")]
Preview = Annotated[
    bool, typer.Option("--preview", help="Also write each session's HTML report (nwbconvert preview) and an index.")
]


def command(
    study_config: StudyConfig = None,
    source: Template = None,
    output: OutputDir = None,
    metadata: LabMetadata = [],  # noqa: B006 (typer copies list defaults)
    set_values: SetAll = [],  # noqa: B006
    jobs: Sessions = None,
    scheduler: Scheduler = None,
    dask_workers: DaskWorkers = None,
    force: Force = False,
    preview: Preview = False,
    dry_run: DryRun = False,
    timezone: Timezone = None,
    allow_incomplete: AllowIncomplete = False,
    validate: Validate = None,
    compression: CompressionOption = None,
    compression_level: CompressionLevel = None,
    chunk_mb: ChunkMb = None,
    quiet: Quiet = False,
    json_output: Json = False,
    debug: Debug = False,
) -> None:
    """Convert every session of a study, each exactly as `convert` would, into a DANDI-layout folder. Resumable:
    sessions already converted (same inputs and options) are skipped; one failing session never stops the others.
    Exit code 0 only if every session was converted or skipped, else 1; the summary says which failed and why."""
    from nwbconvert.batch.discover import StudyRequest
    from nwbconvert.cli.guard import guarded
    from nwbconvert.options import ConvertOptions

    with guarded(debug):
        output = _check_args(study_config, source, output, jobs, scheduler, dask_workers)
        engine, threads = _engine(jobs, scheduler, dask_workers)
        options = ConvertOptions(
            set_values=tuple(set_values),
            timezone=timezone,
            allow_incomplete=allow_incomplete or None,
            validate=validate,
            compression=compression,
            compression_level=compression_level,
            jobs=threads,
            chunk_mb=chunk_mb,
        )
        _run(
            StudyRequest(output, options, study_config, source, tuple(metadata)),
            engine,
            force,
            dry_run,
            quiet,
            json_output,
            preview,
        )


def _check_args(
    study_config: Path | None,
    source: str | None,
    output: Path | None,
    jobs: int | None,
    scheduler: str | None,
    dask_workers: int | None,
) -> Path:
    """The output folder, once the arguments are known to fit together (else a UsageError)."""
    from nwbconvert.errors import UsageError

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
    return output


def _engine(jobs: int | None, scheduler: str | None, dask_workers: int | None) -> tuple[Engine, int | None]:
    """Where the sessions run, and the cores that compress in each (None: each Dask worker works out its share)."""
    from nwbconvert.batch.engines import DaskCluster, ProcessPool, default_sessions, threads_per_session

    if scheduler or dask_workers:
        return DaskCluster(scheduler, dask_workers), None
    pool = ProcessPool(jobs or default_sessions())
    return pool, threads_per_session(pool.sessions)


def _run(
    request: StudyRequest, engine: Engine, force: bool, dry_run: bool, quiet: bool, json_output: bool, preview: bool
) -> None:
    from nwbconvert.batch.discover import discover
    from nwbconvert.cli import render_batch
    from nwbconvert.pipeline import checked

    checked(request.options, (), None)  # a bad --compression-level is a usage error before any session runs
    root = request.output_dir.expanduser().resolve()
    found = discover(replace(request, output_dir=root))
    if dry_run:
        from nwbconvert.batch.manifest import decide, known_output

        shown = [replace(j, output=known_output(j)) for j in found]  # a converted session: the name it was given
        render_batch.dry_run(shown, [decide(j, force) for j in found], root, json_output)
        return
    from nwbconvert.batch.runner import run_batch

    root.mkdir(parents=True, exist_ok=True)
    with render_batch.batch_progress(enabled=not quiet) as progress:
        result = run_batch(found, engine, force, progress)
    render_batch.summary(result, found, root, engine.describe(), json_output)
    if preview:
        from nwbconvert.cli.guard import stderr
        from nwbconvert.preview.study import study_previews

        index = study_previews(result, root, validate=request.options.validate is not False)
        stderr.print(f"Previews: {index}")
    raise typer.Exit(0 if result.ok else 1)
