"""Build metadata layers from YAML files and `--set key=value` pairs, and merge them in order."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from nwbconvert import interrupts
from nwbconvert.errors import MetadataError, UsageError
from nwbconvert.metadata.model import (
    LIST_KEYS,
    MetadataLayer,
    all_keys,
    is_known_key,
)
from nwbconvert.metadata.yamlfile import read_yaml


@dataclass(frozen=True)
class Layer:
    """A metadata layer and where it came from (for messages: 'from session.yaml')."""

    origin: str
    values: MetadataLayer


def load_yaml(path: Path) -> Layer:
    """A YAML metadata file. Scalars stay strings ('001' stays '001'); pydantic parses the rest."""
    data, node = read_yaml(path, "metadata file", MetadataError, "configs/ for examples")
    if not isinstance(data, dict):
        raise MetadataError(f"{path}: a metadata file must be a mapping of keys to values, e.g. 'lab: Smith'.")
    try:
        return Layer(str(path), MetadataLayer.model_validate(data))
    except ValidationError as exc:
        raise MetadataError(_describe(exc, str(path), node)) from exc


def parse_set(pairs: list[str]) -> Layer:
    """`--set key=value` pairs: subject.species='Mus musculus', keywords=[a, b], electrode_groups.imec0.location=CA1."""
    data: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"--set '{pair}': expected KEY=VALUE, e.g. --set subject.sex=F.")
        if not is_known_key(key):
            raise UsageError(f"--set '{pair}': unknown key '{key}'. Known keys: {', '.join(all_keys())}.")
        parsed: Any = value
        if key.split(".")[-1] in LIST_KEYS:
            loaded = yaml.load(value, Loader=yaml.BaseLoader) if value.strip().startswith("[") else None
            parsed = loaded if isinstance(loaded, list) else [value]
        target = data
        *parents, leaf = key.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = parsed
    try:
        return Layer("--set", MetadataLayer.model_validate(data))
    except ValidationError as exc:
        raise MetadataError(_describe(exc, "--set", None)) from exc


def merge(layers: list[Layer]) -> tuple[MetadataLayer, dict[str, str]]:
    """Later layers win field by field, nested sections key by key; also returns which layer set each key
    (dotted: "subject.species", "imaging_planes.Plane0.indicator")."""
    data: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for layer in layers:
        _update(data, layer.values.model_dump(exclude_unset=True, exclude_none=True), layer.origin, origins, "")
    return MetadataLayer.model_validate(data), origins


def _update(target: dict[str, Any], values: dict[str, Any], origin: str, origins: dict[str, str], prefix: str) -> None:
    for key, value in values.items():
        if isinstance(value, dict):
            _update(target.setdefault(key, {}), value, origin, origins, f"{prefix}{key}.")
        else:
            target[key] = value
            origins[f"{prefix}{key}"] = origin


MAX_LISTED = 10  # unknown keys named in one message; the rest are counted


@dataclass(frozen=True)
class UnknownKey:
    """A key that is not accepted where it is: `label` says where ("line 3, 'colour'"), `known` what is."""

    label: str
    key: str
    known: tuple[str, ...]


def unknown_keys(found: Sequence[UnknownKey]) -> tuple[list[str], int]:
    """What a message says of unknown keys: for each of the first MAX_LISTED its label and a hint (did you mean a
    close key, else the keys known there, each set of known keys named once per message), and how many more
    were found but not named. Every refusal of unknown keys (metadata files, --set, session and study configs)
    says it this way, so a file of 50 000 unknown keys gets a message of ten lines, not 50 000 lists of keys."""
    named: list[str] = []
    shown: set[tuple[str, ...]] = set()
    for item in found[:MAX_LISTED]:
        close = difflib.get_close_matches(item.key, item.known, n=1)
        if close:
            named.append(f"{item.label} (did you mean '{close[0]}'?)")
        elif item.known and item.known not in shown:
            shown.add(item.known)
            named.append(f"{item.label} (known keys: {', '.join(item.known)})")
        else:
            named.append(item.label)
    return named, max(0, len(found) - MAX_LISTED)


def _describe(exc: ValidationError, origin: str, node: yaml.Node | None) -> str:
    problems: list[str] = []
    unknown: list[UnknownKey] = []
    known = tuple(all_keys())
    for err in exc.errors():
        interrupts.check()  # tens of thousands of unknown keys take seconds to describe
        listed = len(unknown if err["type"] == "extra_forbidden" else problems) < MAX_LISTED
        key = ".".join(str(p) for p in err["loc"])
        line = _line_of(node, [str(p) for p in err["loc"]]) if node is not None and listed else None
        where = f"line {line}, " if line else ""
        if err["type"] == "extra_forbidden":
            unknown.append(UnknownKey(f"{where}'{key}'", key, known))
        elif listed:
            problems.append(f"{where}'{key}': {str(err['msg']).removeprefix('Value error, ')}")
    if unknown:
        named, more = unknown_keys(unknown)
        and_more = f" and {more} more" if more else ""
        problems.append(f"{len(unknown)} unknown key(s): {', '.join(named)}{and_more}")
    return f"{origin}: invalid metadata: " + "; ".join(problems) + ". See configs/ for a complete example."


def _line_of(node: yaml.Node | None, path: list[str]) -> int | None:
    """1-based line of the key at `path` inside a composed YAML document."""
    line = None
    for part in path:
        if not isinstance(node, yaml.MappingNode):
            break
        for key_node, value_node in node.value:
            if key_node.value == part:
                line, node = key_node.start_mark.line + 1, value_node
                break
        else:
            break
    return line
