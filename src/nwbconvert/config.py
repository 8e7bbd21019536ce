"""Session config files (`nwbconvert convert --config FILE.yaml`): the sources of one session and how to convert them.

A config names one or more sources (each with its format, streams, sortings, probe, reader settings), the
metadata (files and inline values), a timezone, the output and options. Paths are relative to the config file's
folder. Errors name the file, the line and the key, every problem at once. Metadata layers, later wins: headers <
the config's `metadata` items in order < its `set` < each --metadata file < each --set on the command line.
The models are in config_schema.py.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import ValidationError

from nwbconvert.config_schema import (
    TAGS,
    ConfigOptions,
    Loc,
    SessionConfig,
    SortingConfig,
    SourceConfig,
    explain,
    json_schema,
    line_of,
    source_spec,
    unknown,
    where,
)
from nwbconvert.errors import MetadataError, SourceError, UsageError
from nwbconvert.metadata.layers import Layer, load_yaml, read_yaml
from nwbconvert.metadata.model import LIST_KEYS, MetadataLayer, all_keys, is_known_key
from nwbconvert.options import ConvertOptions, SourceSpec, given_wins

if TYPE_CHECKING:
    from nwbconvert.pipeline import ConversionResult, ProgressSink

__all__ = ["ConfigOptions", "SessionConfig", "SourceConfig", "check_inputs", "config_job", "json_schema", "load_config"]

EXAMPLE = "configs/session_config.yaml"


@dataclass(frozen=True)
class _Document:
    path: Path
    data: dict[str, Any]
    node: yaml.Node | None


def load_config(path: Path) -> SessionConfig:
    """Parse and check a session config; relative paths become relative to its folder (they may not exist yet)."""
    doc = _read(path)
    problems: list[tuple[Loc, str]] = [(("set", key), msg) for key, msg in set_problems(doc.data.get("set"))]
    try:
        config = SessionConfig.model_validate(doc.data, context={"base": path.parent})
    except ValidationError as exc:
        problems += [(tuple(err["loc"]), explain(err)) for err in exc.errors()]
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
        lines = [f"  - {where(doc.node, loc)}: {p} does not exist" for loc, p in missing]
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
        layers.append(Layer(f"{path} (set)", MetadataLayer.model_validate(nested(config.set_values))))
    return layers


def nested(values: dict[str, Any]) -> dict[str, Any]:
    """{'subject.age': 'P90D'} -> {'subject': {'age': 'P90D'}}; one value of a list key becomes a list (as --set)."""
    nested: dict[str, Any] = {}
    for key, value in values.items():
        *parents, leaf = key.split(".")
        target = nested
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = [value] if leaf in LIST_KEYS and isinstance(value, str) else value
    return nested


def set_problems(values: Any) -> list[tuple[str, str]]:
    """(dotted key, problem) for each `set:` entry that is not valid metadata."""
    if not isinstance(values, dict):
        return []  # the model reports a wrong type
    problems = [(key, unknown(key, all_keys())) for key in values if not is_known_key(key)]
    if problems:
        return problems
    try:
        MetadataLayer.model_validate(nested(values))
    except ValidationError as exc:
        return [(".".join(map(str, err["loc"])), explain(err)) for err in exc.errors()]
    return []


@dataclass(frozen=True)
class ConfigJob:
    """A config with the command line put over it: what `convert_sources` needs."""

    sources: tuple[SourceSpec, ...]
    output: Path | None
    options: ConvertOptions
    layers: tuple[Layer, ...]


def config_job(path: Path, cli: ConvertOptions, output: Path | None) -> ConfigJob:
    """Load `path` and put the command line over it: each option given there wins over the config's `options:`
    (`given_wins`); --format, --stream, --sorting and --probe go over its single source's (`options.resolve`).
    --metadata files and --set values are layered above the config's."""
    config = load_config(path)
    check_inputs(path, config)
    specs = tuple(source_spec(s, config.sortings, config.probe) for s in config.sources)
    opts = config.options
    from_config = ConvertOptions(
        timezone=config.timezone,
        stub_seconds=opts.stub_seconds,
        allow_incomplete=opts.allow_incomplete,
        overwrite=opts.overwrite,
        validate=opts.validate_output,
        backend=opts.backend,
        compression=opts.compression,
        compression_level=opts.compression_level,
        jobs=opts.jobs,
        chunk_mb=opts.chunk_mb,
    )
    return ConfigJob(specs, output or config.output, given_wins(cli, from_config), tuple(metadata_layers(path, config)))


def convert_config(
    path: Path, cli: ConvertOptions, output: Path | None, progress: ProgressSink | None = None
) -> ConversionResult:
    """`nwbconvert convert --config FILE`: every source of the config into one NWB file."""
    from nwbconvert.pipeline import convert_sources

    job = config_job(path, cli, output)
    if job.output is None and not job.options.dry_run:
        raise UsageError(f"{path}: no output: give -o/--output, or `output: sub-m1_ses-1_ecephys.nwb` in the config.")
    return convert_sources(job.sources, job.output or Path("unused.nwb"), job.options, progress, job.layers)


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
    ordered = sorted(problems, key=lambda p: line_of(doc.node, [x for x in p[0] if x not in TAGS]) or 0)
    lines = "\n".join(f"  - {where(doc.node, loc)}: {message}" for loc, message in ordered)
    text = (
        f"{doc.path}: {len(problems)} problem(s) in the session config:\n{lines}\n"
        f"See {EXAMPLE} for an example; `nwbconvert config schema` gives the JSON Schema for editors."
    )
    only_metadata = all(loc and loc[0] in ("metadata", "set") for loc, _ in problems)
    raise MetadataError(text) if only_metadata else UsageError(text)
