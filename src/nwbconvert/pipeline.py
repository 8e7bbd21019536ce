"""convert(): detect -> read -> metadata -> plan -> write to a temporary sibling -> rename."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from nwbconvert import interrupts
from nwbconvert.errors import SourceError, UsageError, ValidationFailed
from nwbconvert.metadata.dandi import resolve
from nwbconvert.metadata.layers import Layer, load_yaml, merge, parse_set
from nwbconvert.metadata.model import MetadataLayer, NwbMetadata, SubjectLayer
from nwbconvert.model import Session
from nwbconvert.output import ZARR_SUFFIX, atomic_output, check_destination, output_suffix, size_bytes
from nwbconvert.output import replace as replace_output
from nwbconvert.plan import Plan, make_plan
from nwbconvert.provenance import Provenance
from nwbconvert.readers import registry
from nwbconvert.readers.base import ReadOptions, split_source_settings
from nwbconvert.validate.findings import Finding, Severity
from nwbconvert.writer.chunking import READ_AHEAD_BYTES
from nwbconvert.writer.compression import WriteOptions
from nwbconvert.writer.compression import check as check_write_options


class ProgressSink(Protocol):
    """Receives write progress in raw source bytes (the CLI draws a bar from it)."""

    def start(self, total_bytes: int) -> None: ...

    def advance(self, n_bytes: int) -> None: ...


@dataclass(frozen=True)
class ConvertOptions:
    format: str | None = None
    streams: tuple[str, ...] = ()
    sortings: tuple[Path, ...] = ()  # sorter output folders (Phy, Kilosort, ...) to add as units
    probe: Path | None = None  # probeinterface JSON or .prb: geometry that overrides the source's
    metadata_files: tuple[Path, ...] = ()
    set_values: tuple[str, ...] = ()
    timezone: str | None = None
    stub_seconds: float | None = None
    dry_run: bool = False
    overwrite: bool = False
    validate: bool = True
    backend: str = "hdf5"  # hdf5 (a .nwb file) | zarr (a .nwb.zarr store, through hdmf-zarr)
    compression: str = "gzip"  # gzip | lzf | blosc-zstd | none
    compression_level: int | None = None  # None: gzip 4, blosc-zstd 5
    jobs: int | None = None  # cores that compress; None: all
    chunk_mb: float = 10.0

    @property
    def write(self) -> WriteOptions:
        return WriteOptions(self.compression, self.compression_level, self.jobs, self.chunk_mb)


@dataclass(frozen=True)
class ConversionResult:
    plan: Plan
    output: Path | None  # None for a dry run
    seconds: float = 0.0
    written_bytes: int = 0
    findings: tuple[Finding, ...] = ()  # what validating the output found (no errors, or it was rejected)


def read_session(source: Path, options: ConvertOptions) -> Session:
    """Detect (or take --format), check optional dependencies, read headers, select streams."""
    if not source.exists():
        raise SourceError(f"{source}: no such file or folder. Check the path and try again.")
    reader = registry.get(options.format) if options.format else registry.detect(source)
    registry.ensure_available(reader, source)
    reader_options, _ = split_source_settings(options.set_values)  # `--set source.KEY=VALUE`
    registry.check_reader_options(reader, reader_options)
    session = reader.read(source, ReadOptions(stub_seconds=options.stub_seconds, reader_options=reader_options))
    if options.streams:
        known = {r.stream_id for r in session.recordings} | {r.name for r in session.recordings}
        unknown = [s for s in options.streams if s not in known]
        if unknown:
            raise UsageError(
                f"--stream {', '.join(unknown)}: not in {source}. Streams there: " + ", ".join(sorted(known)) + "."
            )
        session = session.select_streams(list(options.streams))
    if options.probe is not None:
        from nwbconvert.probes import apply_probe

        session = apply_probe(session, options.probe)
    if options.sortings:
        from nwbconvert.sorting import attach_sortings

        session = attach_sortings(session, options.sortings)
    return session


def resolve_metadata(session: Session, options: ConvertOptions, layers: Sequence[Layer] = ()) -> NwbMetadata:
    """Headers < `layers` (a session config's) < each --metadata file < --set; DANDI's requirements checked."""
    header = session.header
    header_layer = [
        Layer(
            f"the {session.reader} headers",
            MetadataLayer(
                session_start_time=header.session_start_time,
                session_description=header.session_description,
                subject=SubjectLayer(subject_id=header.subject_id, sex=header.sex),
            ),
        )
    ]
    stack = [*header_layer, *layers, *(load_yaml(p) for p in options.metadata_files)]
    _, metadata_pairs = split_source_settings(options.set_values)
    if metadata_pairs:
        stack.append(parse_set(list(metadata_pairs)))
    merged, origins = merge(stack)
    return resolve(merged, origins, options.timezone, f"Recording converted from {session.reader} by nwbconvert.")


@dataclass(frozen=True)
class SourceSpec:
    """One input of a conversion and how to read it; a session config lists several (see merge.py)."""

    path: Path
    format: str | None = None
    streams: tuple[str, ...] = ()
    sortings: tuple[Path, ...] = ()
    probe: Path | None = None
    set_values: tuple[str, ...] = ()  # this source's `source.KEY=VALUE` reader settings
    name: str | None = None  # appended to the source's series/table names to keep sources apart
    start_time: dt.datetime | None = None  # replaces the header start time of this source


def convert(
    source: Path, output: Path, options: ConvertOptions, progress: ProgressSink | None = None
) -> ConversionResult:
    """Convert one recording to NWB. Nothing appears at `output` unless the file is complete."""
    spec = SourceSpec(source, options.format, options.streams, options.sortings, options.probe)
    return convert_sources((spec,), output, options, progress)


def convert_sources(
    sources: Sequence[SourceSpec],
    output: Path,
    options: ConvertOptions,
    progress: ProgressSink | None = None,
    layers: Sequence[Layer] = (),
) -> ConversionResult:
    """Convert one or more sources into one NWB file on one clock (merge.py); `layers` (e.g. from a session
    config) go between the headers and `options`' metadata files. Nothing appears at `output` unless complete."""
    from nwbconvert.merge import Part, merge_sessions

    started = time.perf_counter()
    check_backend(options, output)
    if not options.dry_run:
        check_destination(output, options.overwrite)
    parts = []
    for s in sources:
        parts.append(Part(read_session(s.path, _source_options(s, options)), s.name, s.start_time))
        interrupts.check()  # a stop requested while the headers were read: before anything is written
    merged = merge_sessions(parts, options.timezone)
    session = merged.session
    if options.backend == "zarr":
        from nwbconvert.writer.zarr import check_session

        check_session(session)
    metadata = resolve_metadata(session, options, layers)  # before any sample is written
    from nwbconvert.writer.places import check_electrode_groups

    check_electrode_groups(session, metadata)  # electrode_groups.<name> must name a group of the recording
    plan = make_plan(session, metadata)
    if options.dry_run:
        return ConversionResult(plan=plan, output=None)
    _read_ahead(session)
    provenance = Provenance(
        reader=session.reader,
        reader_version=session.reader_version,
        source=session.source if len(sources) > 1 else str(sources[0].path.resolve()),
        files=session.source_files,
        metadata=metadata.model_dump(mode="json"),
        options={k: v for k, v in asdict(options).items() if k not in ("dry_run", "overwrite", "validate")},
        series={r.name: {"stream": r.stream_id, "channel_ids": [c.id for c in r.channels]} for r in session.recordings},
        event_channels={
            e.name: {"source_index": i, "source_name": e.source_name, "events": len(e)}
            for i, e in enumerate(session.events)
        },
        sortings={s.name: {"source": s.source, "units": len(s.units)} for s in session.sortings},
        sources=tuple(
            _source_provenance(spec, part.session, offset)
            for spec, part, offset in zip(sources, parts, merged.offsets_s)
        ),
    )
    from nwbconvert.writer.memory import map_large_buffers

    if progress is not None:
        progress.start(plan.raw_bytes)
    advance = progress.advance if progress is not None else None
    findings: tuple[Finding, ...] = ()
    map_large_buffers()  # freed sample buffers go back to the system (see writer/memory.py)
    with atomic_output(output, options.overwrite) as tmp:
        if options.backend == "zarr":
            from nwbconvert.writer.zarr import write_zarr

            write_zarr(session, metadata, provenance.to_json(), tmp, options.write, advance)
        else:
            _write_hdf5(session, metadata, provenance.to_json(), tmp, options, advance)
        interrupts.check()
        if options.validate:
            findings = _validate_output(tmp, output)
    return ConversionResult(
        plan=plan,
        output=output,
        seconds=time.perf_counter() - started,
        written_bytes=size_bytes(output),
        findings=findings,
    )


def _read_ahead(session: Session) -> None:
    """Have the disk read the first READ_AHEAD_BYTES of samples (in write order) while the writer is imported
    and the file's structure is built."""
    budget = READ_AHEAD_BYTES
    for rec in session.recordings:
        rows = min(rec.n_samples, budget // rec.row_bytes)
        if rows <= 0:
            return
        rec.prefetch(0, rows)
        budget -= rows * rec.row_bytes


BACKENDS = ("hdf5", "zarr")


def check_backend(options: ConvertOptions, output: Path) -> None:
    """The backend exists, can write the chosen compression, and the output's suffix matches it (UsageError)."""
    if options.backend not in BACKENDS:
        raise UsageError(f"--backend {options.backend}: choose one of {', '.join(BACKENDS)}.")
    if options.backend == "zarr":
        from nwbconvert.writer.zarr import check

        check(options.write)
    else:
        check_write_options(options.write)
    if options.dry_run:
        return  # nothing is written
    base = output.name.removesuffix(".zarr").removesuffix(".nwb")
    if options.backend == "zarr" and not output.name.endswith(ZARR_SUFFIX):
        raise UsageError(
            f"-o {output}: --backend zarr writes a Zarr store (a folder) whose name ends in {ZARR_SUFFIX}; "
            f"use e.g. -o {output.with_name(base + ZARR_SUFFIX)}."
        )
    if options.backend == "hdf5" and output.name.endswith(".zarr"):
        raise UsageError(
            f"-o {output}: a name ending in .zarr is a Zarr store; add --backend zarr to write one, "
            f"or write an HDF5 file, e.g. -o {output.with_name(base + '.nwb')}."
        )


def _write_hdf5(
    session: Session, metadata: NwbMetadata, provenance_json: str, tmp: Path, options: ConvertOptions, advance: Any
) -> None:
    """pynwb writes the file (traces datasets only declared), then their chunks are compressed on every core.
    Uncompressed samples are written first instead, while pynwb is imported (writer/preallocated.py)."""
    from nwbconvert.writer import preallocated
    from nwbconvert.writer.parallel import DeferredSeries

    deferred: list[DeferredSeries] = []
    if preallocated.suits(session, options.write):
        planned = preallocated.planned_series(session, options.write)
        with preallocated.PreallocatedFill(tmp, planned, options.write, advance) as early:
            from nwbconvert.writer.hdf5 import write_hdf5  # pynwb is imported while the samples are written
            from nwbconvert.writer.nwbfile import build_nwbfile

            nwbfile = build_nwbfile(session, metadata, provenance_json, advance, options.write, deferred)
            write_hdf5(nwbfile, tmp, mode="a")
            early.finish(deferred)
        return
    from nwbconvert.writer.hdf5 import write_hdf5
    from nwbconvert.writer.nwbfile import build_nwbfile
    from nwbconvert.writer.parallel import fill

    write_hdf5(build_nwbfile(session, metadata, provenance_json, advance, options.write, deferred), tmp)
    fill(tmp, deferred, options.write, advance)


def _source_options(spec: SourceSpec, options: ConvertOptions) -> ConvertOptions:
    """The options `read_session` uses for one source: its own format, streams, sortings, probe, settings."""
    return replace(
        options,
        format=spec.format,
        streams=spec.streams,
        sortings=spec.sortings,
        probe=spec.probe,
        set_values=options.set_values + spec.set_values,
    )


def _source_provenance(spec: SourceSpec, session: Session, offset_s: float) -> dict[str, Any]:
    """What provenance records about one source: reader, options, its series and the shift of its times."""
    return {
        "path": str(spec.path.resolve()),
        "reader": session.reader,
        "reader_version": session.reader_version,
        "format": spec.format,
        "streams": list(spec.streams),
        "sortings": [str(p) for p in spec.sortings],
        "probe": str(spec.probe) if spec.probe else None,
        "name": spec.name,
        "header_start_time": session.header.session_start_time,
        "start_time": spec.start_time,
        "time_offset_s": offset_s,
        "series": [r.name + (spec.name or "") for r in session.recordings],
    }


def rejected_path(output: Path) -> Path:
    suffix = output_suffix(output)
    return output.with_name(f"{output.name[: len(output.name) - len(suffix)]}.rejected{suffix}")


def _validate_output(tmp: Path, output: Path) -> tuple[Finding, ...]:
    """Validate the finished temporary file; on errors keep it as NAME.rejected.nwb and fail."""
    from nwbconvert.validate.checker import check_file

    report = check_file(tmp, report_as=output)
    if report.has_errors:
        rejected = rejected_path(output)
        replace_output(tmp, rejected)
        errors = [f for f in report.findings if f.severity is Severity.ERROR]
        lines = "\n".join(f"  - {f.check_id} at {f.location}: {f.message} Fix: {f.fix}" for f in errors)
        raise ValidationFailed(
            f"{output}: the converted file has {len(errors)} error-level finding(s), so it was not moved into "
            f"place; it is kept as {rejected} for inspection (`nwbconvert validate {rejected}`):\n{lines}"
        )
    return report.findings
