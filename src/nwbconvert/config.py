"""Session config files (`nwbconvert convert --config FILE.yaml`): the sources of one session and how to convert them.

A config names one or more sources (each with its format, streams, sortings, probe, reader settings), the
metadata (files and inline values), a timezone, the output and options. Paths are relative to the config file's
folder. Errors name the file, the line and the key, every problem at once. Metadata layers, later wins: headers <
the config's `metadata` items in order < its `set` < each --metadata file < each --set on the command line.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    ValidationInfo,
)

from nwbconvert.errors import MetadataError, SourceError, UsageError
from nwbconvert.metadata.layers import Layer, load_yaml, read_yaml
from nwbconvert.metadata.model import LIST_KEYS, MetadataLayer, all_keys, is_known_key

if TYPE_CHECKING:
    from nwbconvert.pipeline import ConversionResult, ConvertOptions, ProgressSink, SourceSpec

EXAMPLE = "configs/session_config.yaml"
# union members pydantic puts into error locations: not keys of the YAML file
_TAGS = ("file", "inline", "str", "list[str]", "[key]")
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


def _as_list(value: Any) -> Any:
    return value if isinstance(value, list) else [value]


def _item_tag(value: Any) -> str:
    """A list item is a path ("file") or a mapping ("inline")."""
    return "inline" if isinstance(value, (dict, BaseModel)) else "file"


ConfigPath = Annotated[Path, AfterValidator(_relative_to_config)]
Zone = Annotated[str, AfterValidator(_known_zone)]
MetadataItem = Annotated[
    Annotated[ConfigPath, Tag("file")] | Annotated[MetadataLayer, Tag("inline")], Discriminator(_item_tag)
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SortingConfig(_Model):
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


def _sorting_spec(item: Path | SortingConfig) -> Path:
    return item.spec() if isinstance(item, SortingConfig) else item


class SourceConfig(_Model):
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


class ConfigOptions(_Model):
    stub_seconds: float | None = Field(None, gt=0, description="Write only the first seconds of each stream.")
    backend: Literal["hdf5", "zarr"] | None = Field(None, description="hdf5 (an .nwb file) or zarr (.nwb.zarr).")
    compression: Literal["gzip", "lzf", "blosc-zstd", "none"] | None = Field(
        None, description="Compression of the traces (default gzip: any HDF5 reader)."
    )
    compression_level: int | None = Field(None, ge=0, le=9, description="gzip 0-9 (default 4), blosc-zstd 1-9 (5).")
    jobs: int | None = Field(None, ge=1, description="Cores that compress (default: all).")
    chunk_mb: float | None = Field(None, gt=0, le=1024, description="Target chunk size in MB (default 10).")
    validate_output: bool = Field(True, alias="validate", description="Validate the output before moving it.")
    overwrite: bool = Field(False, description="Replace an existing output file.")


class SessionConfig(_Model):
    """One session: its sources, metadata and options (nwbconvert convert --config FILE)."""

    model_config = ConfigDict(title="nwbconvert session config")

    output: ConfigPath | None = Field(None, description="NWB file to write; -o on the command line wins.")
    sources: list[SourceConfig] = Field(min_length=1, description="Recordings to write into one NWB file.")
    sortings: list[SortingItem] = Field(
        default_factory=list, description="Spike-sorting outputs (only with one source; else per source)."
    )
    probe: ConfigPath | None = Field(None, description="Probe geometry (only with one source; else per source).")
    metadata: Annotated[
        list[MetadataItem], BeforeValidator(_as_list, json_schema_input_type=list[MetadataItem] | MetadataItem)
    ] = Field(
        default_factory=list,
        description="Metadata layers, later wins: YAML files (relative paths) and/or inline mappings.",
    )
    set_values: dict[str, str | list[str]] = Field(
        default_factory=dict, alias="set", description="Metadata by dotted key, as --set gives it: subject.age: P90D."
    )
    timezone: Zone | None = Field(None, description="IANA zone of header times without one, e.g. Europe/Berlin.")
    options: ConfigOptions = Field(default_factory=ConfigOptions)


def json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of session config files, for editors."""
    schema = SessionConfig.model_json_schema(by_alias=True)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


@dataclass(frozen=True)
class _Document:
    path: Path
    data: dict[str, Any]
    node: yaml.Node | None


def load_config(path: Path) -> SessionConfig:
    """Parse and check a session config; relative paths become relative to its folder (they may not exist yet)."""
    doc = _read(path)
    problems: list[tuple[Loc, str]] = [(("set", key), msg) for key, msg in _set_problems(doc.data.get("set"))]
    try:
        config = SessionConfig.model_validate(doc.data, context={"base": path.parent})
    except ValidationError as exc:
        problems += [(tuple(err["loc"]), _explain(err)) for err in exc.errors()]
        _raise(doc, problems)
        raise  # unreachable: _raise raises when given problems
    n = len(config.sources)
    for key in ("sortings", "probe"):
        if n > 1 and getattr(config, key):
            problems.append(((key,), f"belongs to one source: with {n} sources, give it in that source's entry"))
    if config.probe is not None and any(s.probe is not None for s in config.sources):
        problems.append((("probe",), "is given both here and in the source's entry; keep one"))
    _raise(doc, problems)
    return config


def check_inputs(path: Path, config: SessionConfig) -> None:
    """Every file or folder the config names exists; else one SourceError naming each with its line."""
    doc = _read(path)
    missing = [(loc, p) for loc, p in _named_paths(config) if not p.exists()]
    if missing:
        lines = [f"  - {_where(doc.node, loc)}: {p} does not exist" for loc, p in missing]
        raise SourceError(
            f"{path}: {len(missing)} path(s) in the session config do not exist (relative paths are taken from the "
            "config file's folder):\n" + "\n".join(lines)
        )


def metadata_layers(path: Path, config: SessionConfig) -> list[Layer]:
    """The config's metadata layers in order: each file or inline mapping under `metadata`, then `set`."""
    layers = [
        load_yaml(item) if isinstance(item, Path) else Layer(f"{path} (metadata[{i}])", item)
        for i, item in enumerate(config.metadata)
    ]
    if config.set_values:
        layers.append(Layer(f"{path} (set)", MetadataLayer.model_validate(_nested(config.set_values))))
    return layers


def _nested(values: dict[str, Any]) -> dict[str, Any]:
    """{'subject.age': 'P90D'} -> {'subject': {'age': 'P90D'}}; one value of a list key becomes a list (as --set)."""
    nested: dict[str, Any] = {}
    for key, value in values.items():
        *parents, leaf = key.split(".")
        target = nested
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = [value] if leaf in LIST_KEYS and isinstance(value, str) else value
    return nested


def _set_problems(values: Any) -> list[tuple[str, str]]:
    """(dotted key, problem) for each `set:` entry that is not valid metadata."""
    if not isinstance(values, dict):
        return []  # the model reports a wrong type
    problems = [(key, _unknown(key, all_keys())) for key in values if not is_known_key(key)]
    if problems:
        return problems
    try:
        MetadataLayer.model_validate(_nested(values))
    except ValidationError as exc:
        return [(".".join(map(str, err["loc"])), _explain(err)) for err in exc.errors()]
    return []


@dataclass(frozen=True)
class ConfigJob:
    """A config with the command line's options applied: what `convert_sources` needs."""

    sources: tuple[SourceSpec, ...]
    output: Path | None
    options: ConvertOptions
    layers: tuple[Layer, ...]


def config_job(
    path: Path, cli: ConvertOptions, output: Path | None, validate: bool | None, given: frozenset[str] = frozenset()
) -> ConfigJob:
    """Load `path` and apply the command line: options given there win over the config's.

    `given` names the write options (backend, compression, compression_level, jobs, chunk_mb) the command line
    set; the config's values replace the others.
    `cli` holds the command line's options (defaults where not given); --format, --stream, --sorting and --probe
    replace the config's for its one source. --metadata files and --set values are layered above the config's.
    """
    from dataclasses import replace

    from nwbconvert.pipeline import SourceSpec

    config = load_config(path)
    check_inputs(path, config)
    source_flags = [flag for flag, value in _source_flags(cli) if value]
    if source_flags and len(config.sources) > 1:
        raise UsageError(
            f"{' '.join(source_flags)} with --config {path}: the config has {len(config.sources)} sources, so say "
            "which source they belong to: set format, streams, sortings or probe in its entry of `sources`."
        )
    specs = []
    for source in config.sources:
        spec = SourceSpec(
            path=source.path,
            format=source.format,
            streams=tuple(source.streams),
            sortings=tuple(_sorting_spec(item) for item in [*source.sortings, *config.sortings]),
            probe=source.probe or config.probe,
            set_values=tuple(f"source.{k}={v}" for k, v in source.settings.items()),
            name=source.name,
            start_time=source.start_time,
        )
        if len(config.sources) == 1:
            spec = replace(
                spec,
                format=cli.format or spec.format,
                streams=cli.streams or spec.streams,
                sortings=cli.sortings or spec.sortings,
                probe=cli.probe or spec.probe,
            )
        specs.append(spec)
    opts = config.options
    options = replace(
        cli,
        format=None,
        streams=(),
        sortings=(),
        probe=None,
        timezone=cli.timezone or config.timezone,
        stub_seconds=cli.stub_seconds if cli.stub_seconds is not None else opts.stub_seconds,
        overwrite=cli.overwrite or opts.overwrite,
        validate=opts.validate_output if validate is None else validate,
    )

    def chosen(name: str, command_line: Any, config_value: Any) -> Any:
        return command_line if name in given or config_value is None else config_value

    options = replace(
        options,
        backend=chosen("backend", options.backend, opts.backend),
        compression=chosen("compression", options.compression, opts.compression),
        compression_level=chosen("compression_level", options.compression_level, opts.compression_level),
        jobs=chosen("jobs", options.jobs, opts.jobs),
        chunk_mb=chosen("chunk_mb", options.chunk_mb, opts.chunk_mb),
    )
    return ConfigJob(tuple(specs), output or config.output, options, tuple(metadata_layers(path, config)))


def convert_config(
    path: Path,
    cli: ConvertOptions,
    output: Path | None,
    validate: bool | None = None,
    progress: ProgressSink | None = None,
    given: frozenset[str] = frozenset(),
) -> ConversionResult:
    """`nwbconvert convert --config FILE`: every source of the config into one NWB file."""
    from nwbconvert.pipeline import convert_sources

    job = config_job(path, cli, output, validate, given)
    if job.output is None and not job.options.dry_run:
        raise UsageError(f"{path}: no output: give -o/--output, or `output: sub-m1_ses-1_ecephys.nwb` in the config.")
    return convert_sources(job.sources, job.output or Path("unused.nwb"), job.options, progress, job.layers)


def _source_flags(cli: ConvertOptions) -> list[tuple[str, object]]:
    return [("--format", cli.format), ("--stream", cli.streams), ("--sorting", cli.sortings), ("--probe", cli.probe)]


def _named_paths(config: SessionConfig) -> Iterator[tuple[Loc, Path]]:
    for i, source in enumerate(config.sources):
        yield ("sources", i, "path"), source.path
        for j, sorting in enumerate(source.sortings):
            yield ("sources", i, "sortings", j), sorting.path if isinstance(sorting, SortingConfig) else sorting
        if source.probe is not None:
            yield ("sources", i, "probe"), source.probe
    for j, sorting in enumerate(config.sortings):
        yield ("sortings", j), sorting.path if isinstance(sorting, SortingConfig) else sorting
    if config.probe is not None:
        yield ("probe",), config.probe
    for k, item in enumerate(config.metadata):
        if isinstance(item, Path):
            yield ("metadata", k), item


def _read(path: Path) -> _Document:
    data, node = read_yaml(path, "session config", UsageError, EXAMPLE)
    if not isinstance(data, dict):
        raise UsageError(f"{path}: a session config must be a mapping with a `sources` list; see {EXAMPLE}.")
    if "sources" not in data and data and set(data) <= {*MetadataLayer.model_fields}:
        raise UsageError(
            f"{path}: this is a metadata file, not a session config (it has no `sources`). Pass it with "
            f"--metadata {path}, or list it under `metadata:` in a session config (see {EXAMPLE})."
        )
    return _Document(path, data, node)


def _raise(doc: _Document, problems: Sequence[tuple[Loc, str]]) -> None:
    """One error listing every problem with its line; MetadataError when all are in metadata, else UsageError."""
    if not problems:
        return
    ordered = sorted(problems, key=lambda p: _line(doc.node, [x for x in p[0] if x not in _TAGS]) or 0)
    lines = "\n".join(f"  - {_where(doc.node, loc)}: {message}" for loc, message in ordered)
    text = (
        f"{doc.path}: {len(problems)} problem(s) in the session config:\n{lines}\n"
        f"See {EXAMPLE} for an example; `nwbconvert config schema` gives the JSON Schema for editors."
    )
    only_metadata = all(loc and loc[0] in ("metadata", "set") for loc, _ in problems)
    raise MetadataError(text) if only_metadata else UsageError(text)


def _explain(err: Any, root: type[BaseModel] | None = None) -> str:
    """One pydantic error as a phrase; unknown keys get the keys `root` (default SessionConfig) accepts there."""
    loc = tuple(err["loc"])
    if err["type"] == "extra_forbidden":
        return _unknown(str(loc[-1]), _known_keys(loc[:-1], root or SessionConfig))
    if err["type"] == "missing":
        return "is required"
    message = str(err["msg"]).removeprefix("Value error, ")
    value = err.get("input")
    return f"{message} (got {value!r})" if isinstance(value, str) and value not in message else message


def _unknown(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    return f"not a known key ({f'did you mean {close[0]!r}?' if close else 'known keys: ' + ', '.join(known)})"


def _known_keys(loc: Loc, root: type[BaseModel] | None = None) -> list[str]:
    """Keys accepted by the mapping at `loc` (found by walking the models from `root`, default SessionConfig)."""
    model: type[BaseModel] | None = root or SessionConfig
    for part in loc:
        if model is None:
            break
        if isinstance(part, int) or part in _TAGS:
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


def _where(node: yaml.Node | None, loc: Loc) -> str:
    """'line 7, sources[1].format' for a pydantic error location inside the composed YAML document."""
    parts = [p for p in loc if p not in _TAGS]
    key = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts).lstrip(".") or "(top level)"
    line = _line(node, parts)
    return f"line {line}, {key}" if line else key


def _line(node: yaml.Node | None, parts: Sequence[str | int]) -> int | None:
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
