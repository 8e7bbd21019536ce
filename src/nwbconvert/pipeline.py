"""convert(): detect -> read -> metadata -> plan -> write to a temporary sibling -> validate -> rename."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from dataclasses import replace as dataclass_replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from nwbconvert import backends, interrupts
from nwbconvert.errors import SourceError, UsageError, ValidationFailed
from nwbconvert.loading import collector_paused
from nwbconvert.metadata.dandi import resolve as resolve_header
from nwbconvert.metadata.layers import Layer, load_yaml, merge, parse_set
from nwbconvert.metadata.model import MetadataLayer, NwbMetadata, SubjectLayer
from nwbconvert.model import Session
from nwbconvert.options import ConvertOptions, OutputOptions, SourceSpec, resolve
from nwbconvert.output import atomic_output, check_destination, output_suffix, size_bytes
from nwbconvert.output import replace as replace_output
from nwbconvert.plan import Plan, make_plan
from nwbconvert.plan_behavior import VideoStorage
from nwbconvert.provenance import EventChannelRecord, Provenance, SeriesRecord, SortingRecord, SourceRecord
from nwbconvert.readers import registry
from nwbconvert.readers.complete import read_checked
from nwbconvert.validate.findings import Finding, Severity
from nwbconvert.writer.chunking import READ_AHEAD_BYTES

if TYPE_CHECKING:
    from nwbconvert.align import Alignment
    from nwbconvert.merge import Merged
    from nwbconvert.session_folder import SessionFolder

__all__ = ["ConversionResult", "ConvertOptions", "SourceSpec", "convert", "convert_sources", "read_session"]


class ProgressSink(Protocol):
    """Receives write progress in raw source bytes (the CLI draws a bar from it)."""

    def start(self, total_bytes: int) -> None: ...

    def advance(self, n_bytes: int) -> None: ...


@dataclass(frozen=True)
class ConversionResult:
    plan: Plan
    output: Path | None  # None for a dry run
    seconds: float = 0.0
    written_bytes: int = 0
    findings: tuple[Finding, ...] = ()  # what validating the output found (no errors, or it was rejected)
    folder: SessionFolder | None = None  # a session folder's sources, how each is timed, what was not placed


def convert(
    source: Path, output: Path, options: ConvertOptions, progress: ProgressSink | None = None
) -> ConversionResult:
    """Convert one recording, or every source of a session folder (session_folder.py), to NWB. Nothing appears at
    `output` unless the file is complete."""
    if options.format is None:
        from nwbconvert.session_folder import several_sources

        folder = several_sources(source, None if options.dry_run else output)
        if folder is not None:
            return convert_sources(folder.specs(), output, options, progress, folder=folder)
    return convert_sources((SourceSpec(source),), output, options, progress)


def convert_sources(
    sources: Sequence[SourceSpec],
    output: Path,
    options: ConvertOptions,
    progress: ProgressSink | None = None,
    layers: Sequence[Layer] = (),
    alignments: Sequence[Alignment] = (),
    folder: SessionFolder | None = None,
    name: Callable[[Plan], Path] | None = None,
) -> ConversionResult:
    """Convert one or more sources into one NWB file on one clock (merge.py); `layers` (e.g. from a session
    config) go between the headers and `options`' metadata files; `alignments` time series by another source's
    pulses (align.py); `folder`: the session folder the sources were found in (sources without a start time are
    placed at the session's start); `name`: the output named from the plan instead (batch: its DANDI modality,
    dandi_naming.py), in `output`'s folder. Nothing appears at the output unless complete."""
    started = time.perf_counter()
    specs, out, backend = checked(options, sources, output)
    if not out.dry_run:
        check_destination(output, out.overwrite)
    with collector_paused():  # the readers' libraries are imported (loading.py)
        merged = read_sources(specs, out.timezone, alignments, folder)
    backend.check_session(merged.session)
    metadata = resolve_metadata(merged.session, out, layers)  # before any sample is written
    session = merged.session
    if folder is not None:
        from nwbconvert.session_timing import reported

        folder, session = reported(folder, merged, alignments, metadata, out.dry_run)
    plan = make_plan(session, metadata, VideoStorage(out.video.value))
    if name is not None:
        output = name(plan)
    behavior = dataclass_replace(plan.behavior, output=str(output), dandi_layout=out.dandi_layout)  # writer/video.py
    plan = dataclass_replace(plan, behavior=behavior)
    if out.dry_run:
        return ConversionResult(plan=plan, output=None, folder=folder)
    provenance = _provenance(specs, merged, metadata, out)
    findings = _write(backend, plan, provenance, output, out, progress)
    seconds = time.perf_counter() - started
    return ConversionResult(plan, output, seconds, size_bytes(output), findings, folder)


def checked(
    options: ConvertOptions, sources: Sequence[SourceSpec], output: Path | None
) -> tuple[tuple[SourceSpec, ...], OutputOptions, backends.Backend]:
    """What to read and how to write, and the backend, checked before anything is read (a UsageError): the
    compression it can write, `output`'s name (unless None or a dry run)."""
    specs, out = resolve(options, sources)
    backend = backends.get(out.backend)
    backend.check(out.write, None if out.dry_run else output)
    return specs, out, backend


def read_session(source: Path, options: ConvertOptions) -> Session:
    """Read one recording as `convert` would (detect or --format, streams, probe, sortings, stub, settings)."""
    (spec,), _ = resolve(options, (SourceSpec(source),))
    return read_source(spec)


def read_source(spec: SourceSpec) -> Session:
    """Detect (or take the format), check optional dependencies, read headers, select streams, add probe and
    sortings."""
    if not spec.path.exists():
        raise SourceError(f"{spec.path}: no such file or folder. Check the path and try again.")
    reader, path = (registry.get(spec.format), spec.path) if spec.format else registry.detect_source(spec.path)
    registry.ensure_available(reader, path)
    registry.check_reader_options(reader, spec.settings)
    session = read_checked(reader, path, spec.read_options(), spec.streams)  # an incomplete copy: exit 3 or notes
    if spec.streams:
        known = {r.stream_id for r in session.recordings} | {r.name for r in session.recordings}
        unknown = [s for s in spec.streams if s not in known]
        if unknown:
            raise UsageError(
                f"--stream {', '.join(unknown)}: not in {spec.path}. Streams there: " + ", ".join(sorted(known)) + "."
            )
        session = session.select_streams(list(spec.streams))
    if spec.probe is not None:
        from nwbconvert.probes import apply_probe

        session = apply_probe(session, spec.probe)
    if spec.sortings:
        from nwbconvert.sorting import attach_sortings

        session = attach_sortings(session, spec.sortings)
    return session


def read_sources(
    specs: Sequence[SourceSpec],
    timezone: str | None,
    alignments: Sequence[Alignment] = (),
    folder: SessionFolder | None = None,
) -> Merged:
    """Every source read, then merged into one session on one clock; series timed by `alignments` get their
    pulses' times (align.py); the sources of a session `folder` are prepared and paired (session_timing.py)."""
    from nwbconvert import align
    from nwbconvert.merge import Part, merge_sessions

    parts = []
    for spec in specs:
        parts.append(Part(read_source(spec), spec.name, spec.start_time))
        interrupts.check()  # a stop requested while the headers were read: before anything is written
    placed = align.placed(parts, alignments)
    if folder is not None:
        from nwbconvert import session_timing

        placed = session_timing.prepared(placed)
    merged = merge_sessions(placed, timezone)
    stubbed = any(spec.stub_seconds is not None for spec in specs)
    aligned = align.apply(merged.session, alignments, align.source_series(parts), stubbed)
    if folder is not None:
        aligned = session_timing.linked(aligned, placed, folder.sources)
    return dataclass_replace(merged, session=aligned)


def resolve_metadata(session: Session, options: OutputOptions, layers: Sequence[Layer] = ()) -> NwbMetadata:
    """Headers < `layers` (a session config's) < each --metadata file < --set; DANDI's requirements checked."""
    header = session.header
    header_layer = Layer(
        f"the {session.reader} headers",
        MetadataLayer(
            session_start_time=header.session_start_time,
            session_description=header.session_description,
            subject=SubjectLayer(subject_id=header.subject_id, sex=header.sex),
        ),
    )
    stack = [header_layer, *layers, *(load_yaml(p) for p in options.metadata_files)]
    if options.metadata_values:
        stack.append(parse_set(list(options.metadata_values)))
    merged, origins = merge(stack)
    description = f"Recording converted from {session.reader} by nwbconvert."
    return resolve_header(merged, origins, options.timezone, description)


def _provenance(specs: Sequence[SourceSpec], merged: Merged, metadata: NwbMetadata, out: OutputOptions) -> Provenance:
    """What the file records of its making: reader, files, metadata, options, each series' and source's origin."""
    session = merged.session
    return Provenance(
        reader=session.reader,
        reader_version=session.reader_version,
        source=session.source if len(specs) > 1 else str(specs[0].path.resolve()),
        files=session.source_files,
        metadata=metadata.model_dump(mode="json"),
        options=out.recorded,
        series={r.name: SeriesRecord(r.stream_id, tuple(c.id for c in r.channels)) for r in session.recordings},
        event_channels={e.name: EventChannelRecord(i, e.source_name, len(e)) for i, e in enumerate(session.events)},
        sortings={s.name: SortingRecord(s.source, len(s.units)) for s in session.sortings},
        notes=session.notes,
        sources=tuple(
            _source_record(spec, read, offset) for spec, read, offset in zip(specs, merged.parts, merged.offsets_s)
        ),
    )


def _source_record(spec: SourceSpec, session: Session, offset_s: float) -> SourceRecord:
    return SourceRecord(
        path=str(spec.path.resolve()),
        reader=session.reader,
        reader_version=session.reader_version,
        format=spec.format,
        streams=spec.streams,
        sortings=tuple(str(p) for p in spec.sortings),
        probe=str(spec.probe) if spec.probe else None,
        name=spec.name,
        header_start_time=session.header.session_start_time,
        start_time=spec.start_time,
        time_offset_s=offset_s,
        series=tuple(
            name + (spec.name or "") for name in (*(r.name for r in session.recordings), *_imaging_names(session))
        ),
    )


def _imaging_names(session: Session) -> tuple[str, ...]:
    """The movies and segmentations a source brings, as its provenance record names them."""
    imaging = session.imaging
    return tuple(m.name for m in imaging.movies) + tuple(g.name for g in imaging.segmentations)


def _write(
    backend: backends.Backend,
    plan: Plan,
    provenance: Provenance,
    output: Path,
    out: OutputOptions,
    progress: ProgressSink | None,
) -> tuple[Finding, ...]:
    """Write the file beside `output`, validate it, move it into place; what validating it found."""
    from nwbconvert.writer.memory import map_large_buffers

    _read_ahead(plan.session)
    if progress is not None:
        progress.start(plan.raw_bytes)
    advance = progress.advance if progress is not None else None
    findings: tuple[Finding, ...] = ()
    map_large_buffers()  # freed sample buffers go back to the system (see writer/memory.py)
    with atomic_output(output, out.overwrite) as tmp:
        backend.write(plan, provenance, tmp, out.write, advance)
        if advance is not None and plan.behavior.whole_bytes:
            advance(plan.behavior.whole_bytes)  # the tables and signals hdmf wrote whole: counted once written
        interrupts.check()
        if out.validate:
            findings = _validate_output(tmp, output)
    return findings


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


def rejected_path(output: Path) -> Path:
    suffix = output_suffix(output)
    return output.with_name(f"{output.name[: len(output.name) - len(suffix)]}.rejected{suffix}")


def _validate_output(tmp: Path, output: Path) -> tuple[Finding, ...]:
    """Validate the finished temporary file; on errors keep it as NAME.rejected.nwb and fail."""
    from nwbconvert.validate.ahead import check_output

    report = check_output(tmp, output)
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
