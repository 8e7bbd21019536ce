"""Find the sessions of a study (path template, explicit list or CSV manifest) and make them jobs in DANDI layout.

A path template `raw/{subject_id}/{session_id}` is matched component by component: `{field}` matches one path
component or part of one (`{subject_id}_{session_id}`, fields take as much as they can from the left), `*` matches
any text within a component; a field used twice must match the same text. Every match is one session and its
fields fill the session's metadata.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from nwbconvert.batch.layout import check_unique, session_key, session_path
from nwbconvert.batch.layout import state_dir as state_dir
from nwbconvert.batch.model import SessionJob
from nwbconvert.batch.study import (
    ALIASES,
    FoundSession,
    StudyConfig,
    check_field,
    csv_sessions,
    entry_sessions,
    field_layer,
    items_layers,
    known_fields,
    load_study,
    subject_layers,
)
from nwbconvert.errors import UsageError
from nwbconvert.metadata.layers import Layer, load_yaml

if TYPE_CHECKING:
    from nwbconvert.options import ConvertOptions

_FIELD = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True)
class StudyRequest:
    output_dir: Path
    options: ConvertOptions  # the run's convert options (compression, jobs per session, validate, timezone, set...)
    study_config: Path | None = None  # study YAML (sessions list / template / per-subject metadata) or a .csv manifest
    source_template: str | None = None  # "raw/{subject_id}/{session_id}", relative to the current folder
    metadata_files: tuple[Path, ...] = ()  # lab-wide --metadata files, layered under per-subject/session values


@dataclass(frozen=True)
class _Component:
    """One component of a path template: literal text, or a pattern whose groups are fields."""

    text: str
    pattern: re.Pattern[str] | None  # None: literal
    names: tuple[str, ...]  # the field of each group, in order


def discover(request: StudyRequest) -> tuple[SessionJob, ...]:
    """The study's sessions as jobs, sorted by key. Raises UsageError/MetadataError naming the file and line."""
    config_path = request.study_config.expanduser().absolute() if request.study_config is not None else None
    config: StudyConfig | None = None
    if config_path is not None and config_path.suffix.lower() != ".csv":
        config = load_study(config_path)
    options = request.options
    fmt = options.format or (config.format if config else None)
    streams = options.streams or tuple(config.streams if config else ())
    if request.source_template is not None:
        if config_path is not None and (config is None or config.source is not None or config.sessions is not None):
            raise UsageError(
                f"--source {request.source_template} and {config_path} both name the sessions; give one "
                "(a study config may leave out `source`/`sessions` and give only metadata and subjects)."
            )
        found = template_sessions(request.source_template, Path.cwd(), fmt, streams, request.output_dir)
    elif config_path is None:
        raise UsageError(
            "batch needs the sessions: a study config (study.yaml or a .csv manifest, see configs/study.yaml) or "
            '--source "raw/{subject_id}/{session_id}".'
        )
    elif config is None:
        found = csv_sessions(config_path, fmt, streams)
    elif config.source is not None:
        found = template_sessions(config.source, config_path.parent, fmt, streams, request.output_dir)
    elif isinstance(config.sessions, Path):
        found = csv_sessions(config.sessions, fmt, streams)
    elif config.sessions is not None:
        found = entry_sessions(config_path, config, config.sessions)
    else:
        raise UsageError(
            f"{config_path}: names no sessions; add `source: raw/{{subject_id}}/{{session_id}}` or a `sessions:` "
            "list or CSV, or give --source."
        )
    return _jobs(request, config_path, config, found)


def _jobs(
    request: StudyRequest, config_path: Path | None, config: StudyConfig | None, found: list[FoundSession]
) -> tuple[SessionJob, ...]:
    lab = [load_yaml(p) for p in request.metadata_files]
    study = items_layers(f"{config_path} metadata", config.metadata) if config and config_path else []
    subjects: dict[str, list[Layer]] = {}
    options = replace(
        request.options,
        format=None,
        streams=(),
        sortings=(),
        probe=None,
        metadata_files=(),  # they are layered in the jobs' layers, under the study's values
        timezone=request.options.timezone or (config.timezone if config else None),
    )
    jobs = []
    for s in found:
        if s.subject_id not in subjects:
            subjects[s.subject_id] = subject_layers(config_path, config, s.subject_id) if config and config_path else []
        jobs.append(
            SessionJob(
                key=session_key(s.subject_id, s.session_id),
                subject_id=s.subject_id,
                session_id=s.session_id,
                sources=s.sources,
                layers=(*lab, *study, *subjects[s.subject_id], *s.layers),
                output=session_path(request.output_dir, s.subject_id, s.session_id),
                options=options,
                fields=s.fields or {"subject_id": s.subject_id, "session_id": s.session_id},
                alignments=s.alignments,
            )
        )
    check_unique((s.origin, job.output) for s, job in zip(found, jobs))
    return tuple(sorted(jobs, key=lambda job: job.key))


def template_sessions(
    template: str, base: Path, fmt: str | None, streams: tuple[str, ...], output_dir: Path | None = None
) -> list[FoundSession]:
    """Every path matching `template` (relative to `base`) as a session whose fields fill its metadata."""
    from nwbconvert.options import SourceSpec

    components = _parse(template)
    names = {name for c in components for name in c.names}
    if "subject_id" not in names:
        raise UsageError(
            f"source template {template!r} has no {{subject_id}}: DANDI layout files each session under its "
            "subject. Put {subject_id} where the subject's folder or name is, e.g. raw/{subject_id}/{session_id}."
        )
    expanded = os.path.expanduser(template)
    start = Path("/") if expanded.startswith("/") else base
    skip = output_dir.expanduser().resolve() if output_dir is not None else None
    matches = _walk(start, components, skip)
    if not matches:
        raise UsageError(
            f"source template {template!r} matched nothing under {base}. Check the folder names (the template is "
            "relative to the study config's folder, or to the current folder with --source)."
        )
    found = []
    for path, fields in matches:
        values = {ALIASES.get(k, k): v for k, v in fields.items()}
        layer = field_layer(f"{path} (template {template})", values)
        spec = SourceSpec(path, fmt, streams)
        found.append(
            FoundSession(str(path), values["subject_id"], values.get("session_id", ""), (spec,), (layer,), values)
        )
    return found


def _parse(template: str) -> list[_Component]:
    """The components of a template (after ~ is expanded); literal ones stay text."""
    parts = [p for p in os.path.expanduser(template).split("/") if p not in ("", ".")]
    if not parts:
        raise UsageError(f"source template {template!r} is empty; e.g. raw/{{subject_id}}/{{session_id}}.")
    components = []
    for part in parts:
        names = tuple(name.strip() for name in _FIELD.findall(part))
        bad = [why for name in names if (why := check_field(name))]
        if bad:
            raise UsageError(f"source template {template!r}: " + "; ".join(bad) + ".")
        pieces = _FIELD.split(part)
        if any("{" in piece or "}" in piece for piece in pieces[::2]):
            raise UsageError(f"source template {template!r}: unbalanced braces in {part!r}; write fields as {{name}}.")
        if not names and "*" not in part and "?" not in part:
            components.append(_Component(part, None, ()))
            continue
        regex = "".join(
            "(.+)" if i % 2 else re.escape(piece).replace(r"\*", ".*").replace(r"\?", ".")
            for i, piece in enumerate(pieces)
        )
        components.append(_Component(part, re.compile(regex), names))
    return components


def _walk(start: Path, components: list[_Component], skip: Path | None) -> list[tuple[Path, dict[str, str]]]:
    """Paths below `start` that match `components`, with their fields; hidden entries and `skip` left out."""
    level: list[tuple[Path, dict[str, str]]] = [(start, {})]
    for i, component in enumerate(components):
        last = i == len(components) - 1
        nxt: list[tuple[Path, dict[str, str]]] = []
        for folder, fields in level:
            if component.pattern is None:
                path = folder / component.text
                if path.exists() and (last or path.is_dir()):
                    nxt.append((path, fields))
                continue
            try:
                entries = sorted(folder.iterdir())
            except OSError:
                continue
            for entry in entries:
                match = component.pattern.fullmatch(entry.name)
                if entry.name.startswith(".") or match is None or not (last or entry.is_dir()):
                    continue
                if skip is not None and entry.resolve() == skip:
                    continue
                merged = dict(fields)
                if all(merged.setdefault(name, value) == value for name, value in zip(component.names, match.groups())):
                    nxt.append((entry, merged))
        level = nxt
    return level


__all__ = ["StudyRequest", "discover", "known_fields", "state_dir"]
