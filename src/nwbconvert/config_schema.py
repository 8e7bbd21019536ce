"""The schema of session config files (pydantic models; relative paths resolved against the config's folder), and
how a validation error is explained: the key, its line in the YAML file, what the models accept there.

Study configs (batch/study.py) reuse these pieces.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, Tag, ValidationInfo

from nwbconvert.backends import BACKEND_HELP, BackendName
from nwbconvert.metadata.model import MetadataLayer
from nwbconvert.options import (
    COMPRESSION_HELP,
    DANDI_LAYOUT_HELP,
    DEFAULT_CHUNK_MB,
    LEVEL_HELP,
    VIDEO_HELP,
    Compression,
    SourceSpec,
    VideoMode,
)

TAGS = ("file", "inline", "str", "list[str]", "[key]")
Loc = tuple[str | int, ...]  # where a problem is: ("sources", 1, "format")


def _relative_to_config(value: Path, info: ValidationInfo) -> Path:
    base = (info.context or {}).get("base")
    value = value.expanduser()
    return Path(os.path.normpath(base / value)) if base is not None and not value.is_absolute() else value


def _known_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"'{name}' is not a known time zone; use an IANA name such as Europe/Berlin or UTC") from None
    return name


def as_list(value: Any) -> Any:
    return value if isinstance(value, list) else [value]


def _item_tag(value: Any) -> str:
    """A list item is a path ("file") or a mapping ("inline")."""
    return "inline" if isinstance(value, (dict, BaseModel)) else "file"


ConfigPath = Annotated[Path, AfterValidator(_relative_to_config)]
Zone = Annotated[str, AfterValidator(_known_zone)]
MetadataItem = Annotated[
    Annotated[ConfigPath, Tag("file")] | Annotated[MetadataLayer, Tag("inline")], Discriminator(_item_tag)
]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SortingConfig(Model):
    """A sorter's output and, when the source has several candidates, the series its units were sorted from."""

    path: ConfigPath = Field(description="Phy/Kilosort/... output folder or file, relative to the config's folder.")
    recording: str | None = Field(
        None, description="Series name or stream id (as the source names it) the sorter ran on, e.g. imec0.ap."
    )

    def spec(self) -> Path:
        """As `--sorting [SERIES=]PATH` gives it."""
        return Path(f"{self.recording}={self.path}") if self.recording else self.path


SortingItem = Annotated[
    Annotated[ConfigPath, Tag("file")] | Annotated[SortingConfig, Tag("inline")], Discriminator(_item_tag)
]


def sorting_spec(item: Path | SortingConfig) -> Path:
    return item.spec() if isinstance(item, SortingConfig) else item


def source_spec(
    source: SourceConfig, sortings: Sequence[Path | SortingConfig] = (), probe: Path | None = None
) -> SourceSpec:
    """What to read from a config's source; `sortings` and `probe` given beside it (the config's top level)."""
    return SourceSpec(
        path=source.path,
        format=source.format,
        streams=tuple(source.streams),
        sortings=tuple(sorting_spec(item) for item in [*source.sortings, *sortings]),
        probe=source.probe or probe,
        settings=tuple(source.settings.items()),
        name=source.name,
        start_time=source.start_time,
    )


class SourceConfig(Model):
    """One recording to read; its series go into the session's file beside the other sources'."""

    path: ConfigPath = Field(description="Recording file or folder, relative to the config file's folder.")
    format: str | None = Field(None, description="Reader name (see `nwbconvert formats`); default: detected.")
    streams: list[str] = Field(default_factory=list, description="Streams or series to write; default: all.")
    sortings: list[SortingItem] = Field(
        default_factory=list, description="Spike-sorting outputs of this source: paths or {path, recording}."
    )
    probe: ConfigPath | None = Field(None, description="Probe geometry (probeinterface .json or .prb).")
    settings: dict[str, str] = Field(
        default_factory=dict, description="Reader settings, as `--set source.KEY=VALUE` gives them."
    )
    name: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9]+$",
        description="Appended to this source's series, table, group and device names (needed when two sources "
        "would give the same names), e.g. Run2 -> ElectricalSeriesImec0APRun2.",
    )
    start_time: dt.datetime | None = Field(
        None, description="When this source started (ISO 8601 with zone); replaces what its headers say."
    )


class AlignConfig(Model):
    """Frames timed by another source's pulses: one event of `channel` per frame of each series of `target`."""

    target: str = Field(
        description="What is timed: a source's `name` (every movie and segmentation it brings) or one series as "
        "--dry-run shows it, e.g. TwoPhotonSeriesPlane0Green."
    )
    channel: str = Field(
        description="The event channel whose events are the frames, as --dry-run shows it (with its source's "
        "name appended), e.g. EventsXD1Nidq."
    )
    label: str | None = Field(
        None,
        description="Only the channel's events with this label, e.g. 'XD1 ON' (rising edges of SpikeGLX line "
        "XD1); default: every event of the channel.",
    )
    block: int | None = Field(
        None,
        ge=1,
        description="Only the events of this source block (from 1, the events table's `block`), for sources whose "
        "blocks (Open Ephys experiments) restart their clock.",
    )


class ConfigOptions(Model):
    stub_seconds: float | None = Field(None, gt=0, description="Write only the first seconds of each stream.")
    allow_incomplete: bool | None = Field(
        None, description="Convert what an incomplete copy holds, with a warning and the shortfall recorded."
    )
    backend: BackendName | None = Field(None, description=BACKEND_HELP)
    compression: Compression | None = Field(None, description=f"Compression of the traces: {COMPRESSION_HELP}.")
    compression_level: int | None = Field(None, ge=0, le=9, description=LEVEL_HELP + ".")
    jobs: int | None = Field(None, ge=1, description="Cores that compress (default: all).")
    chunk_mb: float | None = Field(
        None, gt=0, le=1024, description=f"Target chunk size in MB (default: {DEFAULT_CHUNK_MB:g})."
    )
    validate_output: bool | None = Field(None, alias="validate", description="Validate the output before moving it.")
    overwrite: bool | None = Field(None, description="Replace an existing output file.")
    video: VideoMode | None = Field(None, description=f"Behavior videos: {VIDEO_HELP}.")
    dandi_layout: bool | None = Field(None, description=f"{DANDI_LAYOUT_HELP}.")


class SessionConfig(Model):
    """One session: its sources, metadata and options (nwbconvert convert --config FILE)."""

    model_config = ConfigDict(title="nwbconvert session config")

    output: ConfigPath | None = Field(None, description="NWB file to write; -o on the command line wins.")
    sources: list[SourceConfig] = Field(
        default_factory=list, description="Recordings to write into one NWB file (besides those `folder` finds)."
    )
    folder: ConfigPath | None = Field(
        None,
        description="A session folder: every source found under it is converted (as `nwbconvert convert DIR` "
        "finds them; `--dry-run` lists them), beside those under `sources`.",
    )
    ignore: list[ConfigPath] = Field(
        default_factory=list,
        description="Paths under `folder` left out, e.g. the second of two candidates for one role (two runs).",
    )
    sortings: list[SortingItem] = Field(
        default_factory=list, description="Spike-sorting outputs (only with one source; else per source)."
    )
    probe: ConfigPath | None = Field(None, description="Probe geometry (only with one source; else per source).")
    metadata: Annotated[
        list[MetadataItem], BeforeValidator(as_list, json_schema_input_type=list[MetadataItem] | MetadataItem)
    ] = Field(
        default_factory=list,
        description="Metadata layers, later wins: YAML files (relative paths) and/or inline mappings.",
    )
    set_values: dict[str, str | list[str]] = Field(
        default_factory=dict, alias="set", description="Metadata by dotted key, as --set gives it: subject.age: P90D."
    )
    timezone: Zone | None = Field(None, description="IANA zone of header times without one, e.g. Europe/Berlin.")
    align: list[AlignConfig] = Field(
        default_factory=list,
        description="Frame times from another source's event channel (e.g. a frame-trigger TTL line on a NI-DAQ): "
        "one pulse per frame; counts that differ are an error.",
    )
    options: ConfigOptions = Field(default_factory=ConfigOptions)


def json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of session config files, for editors."""
    schema = SessionConfig.model_json_schema(by_alias=True)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def explain(err: Any, root: type[BaseModel] | None = None) -> str:
    """One pydantic error as a phrase; unknown keys get the keys `root` (default SessionConfig) accepts there."""
    loc = tuple(err["loc"])
    if err["type"] == "extra_forbidden":
        return unknown(str(loc[-1]), known_keys(loc[:-1], root or SessionConfig))
    if err["type"] == "missing":
        return "is required"
    message = str(err["msg"]).removeprefix("Value error, ")
    value = err.get("input")
    return f"{message} (got {value!r})" if isinstance(value, str) and value not in message else message


def unknown(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    return f"not a known key ({f'did you mean {close[0]!r}?' if close else 'known keys: ' + ', '.join(known)})"


def known_keys(loc: Loc, root: type[BaseModel] | None = None) -> list[str]:
    """Keys accepted by the mapping at `loc` (found by walking the models from `root`, default SessionConfig)."""
    model: type[BaseModel] | None = root or SessionConfig
    for part in loc:
        if model is None:
            break
        if isinstance(part, int) or part in TAGS:
            continue
        field = _fields(model).get(part)
        model = _inner_model(field.annotation) if field is not None else None
    return list(_fields(model)) if model is not None else []


def _fields(model: type[BaseModel]) -> dict[str, Any]:
    return {(f.alias or name): f for name, f in model.model_fields.items()}


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def where(node: yaml.Node | None, loc: Loc) -> str:
    """'line 7, sources[1].format' for a pydantic error location inside the composed YAML document."""
    parts = [p for p in loc if p not in TAGS]
    key = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts).lstrip(".") or "(top level)"
    line = line_of(node, parts)
    return f"line {line}, {key}" if line else key


def line_of(node: yaml.Node | None, parts: Sequence[str | int]) -> int | None:
    line = None
    for part in parts:
        if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        elif isinstance(node, yaml.MappingNode) and isinstance(part, str):
            match = next(((k, v) for k, v in node.value if k.value == part), None)
            if match is None:
                break
            line, node = match[0].start_mark.line + 1, match[1]
        elif not isinstance(part, int):
            break
    return line
