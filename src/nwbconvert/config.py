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
from pydantic import BaseModel, ValidationError

from nwbconvert.align import Alignment
from nwbconvert.config_schema import (
    TAGS,
    AlignConfig,
    ConfigOptions,
    Loc,
    SessionConfig,
    SortingConfig,
    SourceConfig,
    explain,
    json_schema,
    known_keys,
    source_spec,
    where,
)
from nwbconvert.errors import MetadataError, SourceError, UsageError
from nwbconvert.metadata.layers import MAX_LISTED, Layer, UnknownKey, load_yaml, read_yaml, unknown_keys
from nwbconvert.metadata.model import LIST_KEYS, MetadataLayer, all_keys, is_known_key
from nwbconvert.options import ConvertOptions, SourceSpec, given_wins

if TYPE_CHECKING:
    from nwbconvert.pipeline import ConversionResult, ProgressSink
    from nwbconvert.session_folder import SessionFolder

__all__ = ["ConfigOptions", "SessionConfig", "SourceConfig", "check_inputs", "config_job", "json_schema", "load_config"]

EXAMPLE = "configs/session_config.yaml"


@dataclass(frozen=True)
class Unknown:
    """The problem of a key not accepted where it is: the keys that are (named once per message, see
    `problem_lines`)."""

    known: tuple[str, ...]


Problem = tuple[Loc, "str | Unknown"]


@dataclass(frozen=True)
class _Document:
    path: Path
    data: dict[str, Any]
    node: yaml.Node | None


def load_config(path: Path) -> SessionConfig:
    """Parse and check a session config; relative paths become relative to its folder (they may not exist yet)."""
    doc = _read(path)
    problems: list[Problem] = [(("set", key), msg) for key, msg in set_problems(doc.data.get("set"))]
    try:
        config = SessionConfig.model_validate(doc.data, context={"base": path.parent})
    except ValidationError as exc:
        problems += [(tuple(err["loc"]), explained(err)) for err in exc.errors()]
        _raise(doc, problems)
        raise  # unreachable: _raise raises when given problems
    n = len(config.sources)
    if not n and config.folder is None:
        problems.append((("sources",), "is required: list the sources, or give the session `folder:` to search"))
    if config.ignore and config.folder is None:
        problems.append((("ignore",), "leaves paths out of `folder:`; give the folder too"))
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


def explained(err: Any, root: type[BaseModel] | None = None) -> str | Unknown:
    """A pydantic error of a config (a model from `root`, default SessionConfig) as a phrase, or as an Unknown
    key with the keys accepted there."""
    if err["type"] == "extra_forbidden":
        return Unknown(tuple(known_keys(tuple(err["loc"])[:-1], root)))
    return explain(err, root)


def set_problems(values: Any) -> list[tuple[str, str | Unknown]]:
    """(dotted key, problem) for each `set:` entry that is not valid metadata."""
    if not isinstance(values, dict):
        return []  # the model reports a wrong type
    known = tuple(all_keys())
    problems: list[tuple[str, str | Unknown]] = [(key, Unknown(known)) for key in values if not is_known_key(key)]
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
    alignments: tuple[Alignment, ...] = ()  # `align:` entries (align.py)
    folder: SessionFolder | None = None  # the sources `folder:` found (session_folder.py)


def config_job(path: Path, cli: ConvertOptions, output: Path | None) -> ConfigJob:
    """Load `path` and put the command line over it: each option given there wins over the config's `options:`
    (`given_wins`); --format, --stream, --sorting and --probe go over its single source's (`options.resolve`).
    --metadata files and --set values are layered above the config's."""
    config = load_config(path)
    check_inputs(path, config)
    specs = tuple(source_spec(s, config.sortings, config.probe) for s in config.sources)
    folder = None
    if config.folder is not None:
        from nwbconvert.session_folder import discover

        written = output or config.output
        folder = discover(config.folder, skip=() if written is None else (written,), ignore=config.ignore)
        specs = folder.specs() + specs
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
        video=opts.video,
        dandi_layout=opts.dandi_layout,
    )
    layers = tuple(metadata_layers(path, config))
    options = given_wins(cli, from_config)
    return ConfigJob(specs, output or config.output, options, layers, alignments(config.align), folder)


def alignments(entries: Sequence[AlignConfig]) -> tuple[Alignment, ...]:
    """A config's `align:` entries (session or study config) as align.py takes them."""
    return tuple(Alignment(a.target, a.channel, a.label, a.block) for a in entries)


def convert_config(
    path: Path, cli: ConvertOptions, output: Path | None, progress: ProgressSink | None = None
) -> ConversionResult:
    """`nwbconvert convert --config FILE`: every source of the config into one NWB file."""
    from nwbconvert.pipeline import convert_sources

    job = config_job(path, cli, output)
    if job.output is None and not job.options.dry_run:
        raise UsageError(f"{path}: no output: give -o/--output, or `output: sub-m1_ses-1_ecephys.nwb` in the config.")
    output_path = job.output or Path("unused.nwb")
    return convert_sources(job.sources, output_path, job.options, progress, job.layers, job.alignments, job.folder)


def _named_paths(config: SessionConfig) -> Iterator[tuple[Loc, Path]]:
    for i, source in enumerate(config.sources):
        yield ("sources", i, "path"), source.path
        for j, sorting in enumerate(source.sortings):
            yield ("sources", i, "sortings", j), sorting.path if isinstance(sorting, SortingConfig) else sorting
        if source.probe is not None:
            yield ("sources", i, "probe"), source.probe
    if config.folder is not None:
        yield ("folder",), config.folder
    for j, path in enumerate(config.ignore):
        yield ("ignore", j), path
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


def _raise(doc: _Document, problems: Sequence[Problem]) -> None:
    """One error listing every problem with its line; MetadataError when all are in metadata, else UsageError."""
    if not problems:
        return
    lines = "\n".join(problem_lines(doc.node, problems))
    text = (
        f"{doc.path}: {len(problems)} problem(s) in the session config:\n{lines}\n"
        f"See {EXAMPLE} for an example; `nwbconvert config schema` gives the JSON Schema for editors."
    )
    only_metadata = all(loc and loc[0] in ("metadata", "set") for loc, _ in problems)
    raise MetadataError(text) if only_metadata else UsageError(text)


def problem_lines(node: yaml.Node | None, problems: Sequence[Problem]) -> list[str]:
    """'  - line 7, sources[1].format: ...' for each problem, in line order. Of unknown keys, the first
    MAX_LISTED are named (with a close key, or the keys known there, once) and the rest counted."""
    lines_at = _key_lines(node)
    problems = sorted(problems, key=lambda p: lines_at.get(tuple(x for x in p[0] if x not in TAGS), 0))
    unknown = [p for p in problems if isinstance(p[1], Unknown)]
    shown = [p for p in problems if not isinstance(p[1], Unknown)] + unknown[:MAX_LISTED]
    shown.sort(key=lambda p: lines_at.get(tuple(x for x in p[0] if x not in TAGS), 0))
    named, _ = unknown_keys(
        [
            UnknownKey(f"{where(node, loc)}: not a known key", str(loc[-1]), m.known)
            for loc, m in shown
            if isinstance(m, Unknown)
        ]
    )
    phrases = iter(named)
    lines = [f"  - {next(phrases) if isinstance(m, Unknown) else f'{where(node, loc)}: {m}'}" for loc, m in shown]
    if len(unknown) > MAX_LISTED:
        lines.append(f"  - and {len(unknown) - MAX_LISTED} more unknown key(s)")
    return lines


def _key_lines(root: yaml.Node | None) -> dict[tuple[str | int, ...], int]:
    """The 1-based line of every key and list item of a YAML document, by its path: one walk, so that sorting
    50 000 problems by line does not search the document 50 000 times."""
    lines: dict[tuple[str | int, ...], int] = {}
    stack: list[tuple[yaml.Node | None, tuple[str | int, ...]]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and (*path, key_node.value) not in lines:
                    lines[(*path, key_node.value)] = key_node.start_mark.line + 1
                    stack.append((value_node, (*path, key_node.value)))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                lines[(*path, i)] = item.start_mark.line + 1
                stack.append((item, (*path, i)))
    return lines
