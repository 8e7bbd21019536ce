"""Study configs (`nwbconvert batch STUDY.yaml`, or a .csv manifest): which sessions a study has and their metadata.

A study config gives its sessions as a path template (`source: raw/{subject_id}/{session_id}`), as an explicit
`sessions:` list (entries like a session config's), or as a CSV manifest (`sessions: sessions.csv`, or the .csv
itself in place of the YAML). Metadata layers, later wins: headers < --metadata files < the study's `metadata` <
`subjects.<id>` < the session's own values (template fields, CSV columns, its entry) < --set. Paths are relative
to the config file's folder. Errors name the file, line and key, every problem at once (as session configs do).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BeforeValidator, Discriminator, Field, Tag, ValidationError, model_validator

from nwbconvert.config import Problem, Unknown, alignments, explained, nested, problem_lines, set_problems
from nwbconvert.config_schema import (
    TAGS,
    AlignConfig,
    ConfigPath,
    MetadataItem,
    Model,
    SourceConfig,
    Zone,
    as_list,
    source_spec,
    where,
)
from nwbconvert.errors import MetadataError, UsageError
from nwbconvert.metadata.layers import Layer, load_yaml, read_yaml
from nwbconvert.metadata.model import MetadataLayer, all_keys, is_known_key

if TYPE_CHECKING:
    from nwbconvert.align import Alignment
    from nwbconvert.options import SourceSpec

EXAMPLE = "configs/study.yaml"
IDS = ("subject_id", "session_id", "session_start_time")  # fields that name a session (and its metadata)
ALIASES = {"subject.subject_id": "subject_id"}
# folder-name spellings of a start time, beside ISO 8601 (2026-01-15, 2026-01-15T10:00:00+01:00, 20260115)
TIME_FORMATS = ("%Y-%m-%d_%H-%M-%S", "%Y-%m-%d_%H-%M", "%Y-%m-%d_%H%M%S", "%Y%m%d_%H%M%S", "%Y%m%d_%H%M", "%Y%m%d")


def parse_start_time(value: str) -> dt.datetime:
    """'2026-01-15', '2026-01-15T10:00:00+01:00', '2026-01-15_10-00-00', '20260115_100000' -> a datetime (naive
    when the text has no zone: --timezone or the study's `timezone` gives it)."""
    if isinstance(value, dt.datetime):
        return value
    text = str(value).strip()
    for fmt in TIME_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            pass
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"'{text}' is not a date or time; write it as ISO 8601 (2026-01-15 or 2026-01-15T10:00:00+01:00) or "
            "as 2026-01-15_10-00-00"
        ) from None


StartTime = Annotated[dt.datetime, BeforeValidator(parse_start_time, json_schema_input_type=str)]
MetadataItems = Annotated[
    list[MetadataItem], BeforeValidator(as_list, json_schema_input_type=list[MetadataItem] | MetadataItem)
]


class SessionEntry(Model):
    """One session of an explicit `sessions:` list."""

    subject_id: str = Field(min_length=1, description="Subject of the session: sub-<subject_id> in DANDI layout.")
    session_id: str = Field("", description="Session label: _ses-<session_id> in the file name.")
    source: ConfigPath | None = Field(None, description="The recording (file or folder); or give `sources`.")
    sources: list[SourceConfig] = Field(
        default_factory=list, description="Several recordings into one file, as in a session config."
    )
    align: list[AlignConfig] = Field(
        default_factory=list,
        description="Frames timed by another source's pulses, as in a session config (with `sources`).",
    )
    session_start_time: StartTime | None = Field(None, description="Replaces the start time the headers give.")
    metadata: MetadataItems = Field(default_factory=list, description="This session's metadata files/mappings.")
    set_values: dict[str, str | list[str]] = Field(
        default_factory=dict, alias="set", description="Metadata by dotted key: subject.age: P90D."
    )

    @model_validator(mode="after")
    def _one_source(self) -> SessionEntry:
        if (self.source is None) == (not self.sources):
            raise ValueError("give either `source: PATH` or a `sources:` list (not both)")
        if self.align and not self.sources:
            raise ValueError("`align:` times one source by another's pulses: give the session a `sources:` list")
        return self


def _file_or_inline(value: Any) -> str:
    """A path (text) or something written inline (list, mapping): the union member, named as config.py does."""
    return "file" if isinstance(value, (str, Path)) else "inline"


SubjectItems = Annotated[
    Annotated[dict[str, MetadataItems], Tag("inline")] | Annotated[str, Tag("file")], Discriminator(_file_or_inline)
]
SessionItems = Annotated[
    Annotated[list[SessionEntry], Tag("inline")] | Annotated[ConfigPath, Tag("file")], Discriminator(_file_or_inline)
]


class StudyConfig(Model):
    """A study: its sessions (template, list or CSV) and the metadata they share."""

    source: str | None = Field(
        None,
        description="Path template, relative to this file: {field} matches (part of) one path component and "
        "fills that metadata key: subject_id, session_id, session_start_time or any --set key (subject.sex).",
    )
    sessions: SessionItems | None = Field(
        None, description="The sessions: a list of entries, or a CSV manifest (path, subject_id, session_id, ...)."
    )
    format: str | None = Field(None, description="Reader of templated/CSV sessions; default: detected.")
    streams: list[str] = Field(default_factory=list, description="Streams to write; default: all.")
    metadata: MetadataItems = Field(default_factory=list, description="Study-wide metadata files/mappings.")
    subjects: SubjectItems = Field(
        default_factory=dict,
        description="Per-subject metadata: {subject_id: files/mappings}, or a file template such as "
        "subjects/{subject_id}.yaml (each subject's file must exist).",
    )
    timezone: Zone | None = Field(None, description="IANA zone of start times without one; --timezone wins.")

    @model_validator(mode="after")
    def _one_form(self) -> StudyConfig:
        if self.source is not None and self.sessions is not None:
            raise ValueError("give either `source: TEMPLATE` or `sessions:` (a list or a .csv file), not both")
        if isinstance(self.subjects, str) and "{subject_id}" not in self.subjects:
            raise ValueError("`subjects` as a path template must contain {subject_id}")
        return self


@dataclass(frozen=True)
class FoundSession:
    """A session as the study names it, before it is placed in the output folder."""

    origin: str  # where it was named: "study.yaml line 12", "sessions.csv line 3", "raw/m1/day1"
    subject_id: str
    session_id: str
    sources: tuple[SourceSpec, ...]
    layers: tuple[Layer, ...]  # the session's own values, lowest first
    fields: dict[str, str] = field(default_factory=dict)
    alignments: tuple[Alignment, ...] = ()  # `align:` (align.py)


def load_study(path: Path) -> StudyConfig:
    """Parse and check a study YAML; every problem at once with its line."""
    data, node = read_yaml(path, "study config", UsageError, EXAMPLE)
    if not isinstance(data, dict):
        raise UsageError(f"{path}: a study config must be a mapping with `source:` or `sessions:`; see {EXAMPLE}.")
    problems: list[Problem] = []
    entries = data.get("sessions")
    if isinstance(entries, list):
        for i, entry in enumerate(entries):
            if isinstance(entry, dict):
                problems += [(("sessions", i, "set", k), m) for k, m in set_problems(entry.get("set"))]
    try:
        config = StudyConfig.model_validate(data, context={"base": path.parent})
    except ValidationError as exc:
        problems += [(tuple(err["loc"]), _explain_study(err)) for err in exc.errors()]
    if problems:
        _raise(path, node, problems)
    return config


def _explain_study(err: Any) -> str | Unknown:
    """As config.py explains errors; under `subjects`, the subject id (a mapping key, not a field) is skipped
    when looking up the keys accepted there."""
    loc = [part for part in err["loc"] if part not in TAGS]
    if len(loc) > 1 and loc[0] == "subjects" and isinstance(loc[1], str):
        err = {**err, "loc": (loc[0], *loc[2:])}
    return explained(err, StudyConfig)


def _raise(path: Path, node: Any, problems: Sequence[Problem]) -> None:
    lines = "\n".join(problem_lines(node, problems))
    text = f"{path}: {len(problems)} problem(s) in the study config:\n{lines}\nSee {EXAMPLE} for an example."
    only_metadata = all(loc and ("metadata" in loc or "set" in loc or loc[0] == "subjects") for loc, _ in problems)
    raise MetadataError(text) if only_metadata else UsageError(text)


def items_layers(origin: str, items: Sequence[Path | MetadataLayer]) -> list[Layer]:
    """Metadata files (loaded) and inline mappings, in order."""
    return [
        load_yaml(item) if isinstance(item, Path) else Layer(f"{origin}[{i}]", item) for i, item in enumerate(items)
    ]


def known_fields() -> list[str]:
    """Names a template `{field}` or a CSV column may have."""
    return [*IDS, *(k for k in all_keys() if k not in ("session_id", "session_start_time", "subject.subject_id"))]


def check_field(name: str) -> str | None:
    """Why `name` cannot be a template field or CSV column (None: it can)."""
    name = ALIASES.get(name, name)
    if name in IDS or is_known_key(name):
        return None
    return f"'{name}' is not a metadata key (known: {', '.join(known_fields())})"


def field_layer(origin: str, values: dict[str, str]) -> Layer:
    """Template fields or CSV columns as one metadata layer: subject_id -> subject.subject_id, session_start_time
    parsed as a date/time, dotted keys (subject.sex) nested. Empty values are left out."""
    flat: dict[str, Any] = {}
    for name, value in values.items():
        name = ALIASES.get(name, name)
        if value == "":
            continue
        if name == "subject_id":
            flat["subject.subject_id"] = value
        elif name == "session_start_time":
            try:
                flat[name] = parse_start_time(value)
            except ValueError as exc:
                raise MetadataError(f"{origin}: session_start_time: {exc}.") from None
        else:
            flat[name] = value
    try:
        return Layer(origin, MetadataLayer.model_validate(nested(flat)))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise MetadataError(f"{origin}: invalid metadata: {problems}.") from None


def entry_sessions(path: Path, config: StudyConfig, entries: Sequence[SessionEntry]) -> list[FoundSession]:
    """The sessions of an explicit `sessions:` list."""
    from nwbconvert.options import SourceSpec

    _, node = read_yaml(path, "study config", UsageError, EXAMPLE)
    found = []
    for i, entry in enumerate(entries):
        origin = f"{path} ({where(node, ('sessions', i))})"
        if entry.source is not None:
            specs = [SourceSpec(entry.source, config.format, tuple(config.streams))]
        else:
            specs = [source_spec(s) for s in entry.sources]
        layers = items_layers(f"{origin} metadata", entry.metadata)
        if entry.set_values:
            layers.append(Layer(f"{origin} set", MetadataLayer.model_validate(nested(entry.set_values))))
        ids = {"subject_id": entry.subject_id, "session_id": entry.session_id}
        ids_layer = field_layer(origin, ids)
        if entry.session_start_time is not None:
            ids_layer = Layer(
                origin, ids_layer.values.model_copy(update={"session_start_time": entry.session_start_time})
            )
        found.append(
            FoundSession(
                origin,
                entry.subject_id,
                entry.session_id,
                tuple(specs),
                (*layers, ids_layer),
                alignments=alignments(entry.align),
            )
        )
    return found


def csv_sessions(path: Path, format: str | None = None, streams: tuple[str, ...] = ()) -> list[FoundSession]:
    """The sessions of a CSV manifest: a header row with `path` (or `source`), `subject_id`, optional `session_id`,
    `format` and any metadata key (session_start_time, subject.sex, ...); one session per row; paths relative to
    the CSV file."""
    from nwbconvert.options import SourceSpec

    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            rows = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the CSV manifest ({exc.strerror}).") from exc
    except (csv.Error, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: is not a readable CSV file ({exc}). Save it as UTF-8 CSV.") from exc
    if not rows:
        raise UsageError(f"{path}: the CSV manifest is empty; it needs a header row (path,subject_id,session_id).")
    header = [cell.strip() for cell in rows[0][1]]
    _refuse_nul(path, rows, header)
    problems = [
        f"column {name!r}: {why}"
        for name in header
        if name not in ("path", "source", "format") and (why := check_field(name))
    ]
    path_column = "path" if "path" in header else "source"
    problems += [f"needs a {name!r} column" for name in (path_column, "subject_id") if name not in header]
    if len(set(header)) < len(header):
        problems.append("a column name appears twice")
    if problems:
        raise UsageError(f"{path}: line {rows[0][0]} (the header row): " + "; ".join(problems) + f". See {EXAMPLE}.")
    found = []
    for line, row in rows[1:]:
        origin = f"{path} line {line}"
        if len(row) != len(header):
            raise UsageError(f"{origin}: has {len(row)} cells, the header has {len(header)}; give one per column.")
        cells = {name: cell.strip() for name, cell in zip(header, row)}
        source, subject = cells.pop(path_column), cells["subject_id"]
        if not source or not subject:
            raise UsageError(f"{origin}: needs a {path_column} and a subject_id.")
        reader_name = cells.pop("format", "") or format
        source_path = Path(source).expanduser()
        spec = SourceSpec(source_path if source_path.is_absolute() else path.parent / source_path, reader_name, streams)
        layer = field_layer(origin, cells)
        found.append(FoundSession(origin, subject, cells.get("session_id", ""), (spec,), (layer,), cells))
    if not found:
        raise UsageError(f"{path}: the CSV manifest has a header but no sessions; add one row per session.")
    return found


def _refuse_nul(path: Path, rows: list[tuple[int, list[str]]], header: list[str]) -> None:
    """A NUL character (byte 0) in any cell: no path or NWB text may hold one (the file is damaged, or UTF-16)."""
    for line, row in rows:
        for i, cell in enumerate(row):
            if "\x00" in cell:
                name = f" ({header[i]!r})" if line != rows[0][0] and i < len(header) and "\x00" not in header[i] else ""
                raise MetadataError(
                    f"{path}: line {line}, column {i + 1}{name}: the cell holds a NUL character (byte 0), which no "
                    "path or NWB text may contain. Remove it; if every other byte is 0, the file was saved as UTF-16: "
                    "save it as UTF-8 CSV."
                )


def subject_layers(path: Path, config: StudyConfig, subject_id: str) -> list[Layer]:
    """The `subjects:` layers of one subject: its entry of the mapping, or the file the template names."""
    if isinstance(config.subjects, str):
        file = Path(config.subjects.replace("{subject_id}", subject_id)).expanduser()
        file = file if file.is_absolute() else path.parent / file
        if not file.exists():
            raise MetadataError(
                f"{path}: subjects: {config.subjects} names {file} for subject {subject_id!r}, which does not exist. "
                "Write that subject's metadata file (subject: {sex: F, age: P90D}), or list subjects in a mapping."
            )
        return [load_yaml(file)]
    return items_layers(f"{path} subjects.{subject_id}", config.subjects.get(subject_id, []))
