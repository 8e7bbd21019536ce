"""YAML files read defensively: regular files only, at most MAX_BYTES, UTF-8 (a UTF-8 or UTF-16 byte-order mark is
accepted), nested at most MAX_DEPTH levels, no NUL characters, no key given twice in one mapping. Each refusal is a
MetadataError naming the file and what is wrong; bad YAML syntax is the caller's `invalid` error."""

from __future__ import annotations

import codecs
import os
import stat
from pathlib import Path
from typing import Any

import yaml

from nwbconvert import interrupts
from nwbconvert.errors import MetadataError, NwbConvertError, UsageError

MAX_BYTES = 1024 * 1024  # 10 MB of unknown keys took 2.4 GB and 85 s to refuse; 1 MB, 0.25 GB and 8 s
MAX_DEPTH = 100
_NUL_STAND_IN = "\ue000"  # a raw NUL byte is replaced by this (PyYAML refuses NUL) to find the key holding it


class _TooDeepError(Exception):
    def __init__(self, line: int) -> None:
        self.line = line


class _Loader(yaml.BaseLoader):
    """PyYAML's composer recurses once per nesting level; refuse documents deeper than MAX_DEPTH first. Each node
    also checks for a requested stop (a batch worker's first signal only requests one; see interrupts.py)."""

    depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        interrupts.check()  # parsing a large file takes seconds: a stop requested meanwhile ends it here
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _TooDeepError(self.peek_event().start_mark.line + 1)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def read_yaml(path: Path, what: str, invalid: type[NwbConvertError], hint: str) -> tuple[Any, yaml.Node | None]:
    """A YAML file parsed once, scalars kept as strings ('001' stays '001'): its data and its composed node
    (for line numbers in messages). Unreadable -> UsageError; bad syntax -> `invalid` pointing to `hint`."""
    text = _decode(path, _read_bytes(path, what), what)
    stand_in = _NUL_STAND_IN not in text
    loader = _Loader(text.replace("\x00", _NUL_STAND_IN) if stand_in else text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _check_nodes(path, node, (_NUL_STAND_IN, "\x00") if stand_in else ("\x00",))
        data = loader.construct_document(node) if node is not None else None
    except _TooDeepError as exc:
        raise MetadataError(
            f"{path}: line {exc.line}: the {what} nests mappings or lists more than {MAX_DEPTH} levels deep; "
            f"a {what} needs only a few levels. See {hint}."
        ) from None
    except yaml.YAMLError as exc:
        raise invalid(f"{path}: is not valid YAML ({exc}). Fix the syntax; see {hint}.") from exc
    finally:
        loader.dispose()
    return data or {}, node


def _read_bytes(path: Path, what: str) -> bytes:
    """At most MAX_BYTES of a regular file; a folder, FIFO or device is refused without reading (no hang)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the {what} ({exc.strerror}).") from exc
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = "a folder" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else "a device or socket"
        raise MetadataError(f"{path}: is {kind}, not a regular file; give the path of a YAML {what}.")
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise MetadataError(
            f"{path}: is larger than the limit of {MAX_BYTES // (1024 * 1024)} MB for a {what}; a {what} is a few "
            "kilobytes of text. Check that this is the file you meant."
        )
    return data


def _decode(path: Path, data: bytes, what: str) -> str:
    """UTF-8 text; a leading UTF-8 or UTF-16 byte-order mark selects the encoding and is dropped."""
    skip, encoding = 0, "utf-8"
    if data.startswith(codecs.BOM_UTF8):
        skip = len(codecs.BOM_UTF8)
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"  # the codec reads and drops the mark
    try:
        return data[skip:].decode(encoding)
    except UnicodeDecodeError as exc:
        offset = skip + exc.start
        raise MetadataError(
            f"{path}: the {what} is not {encoding.upper()} text: the byte at offset {offset} (0x{data[offset]:02x}) "
            "is not valid there. Save the file as UTF-8 (Latin-1 and Windows-1252 are not read)."
        ) from None


def _check_nodes(path: Path, root: yaml.Node, nuls: tuple[str, ...]) -> None:
    """Refuse a NUL character in any key or value, and a key given twice in one mapping (PyYAML keeps the last)."""
    stack: list[tuple[yaml.Node, str]] = [(root, "")]
    seen: set[int] = set()
    while stack:
        interrupts.check()
        node, key = stack.pop()
        if id(node) in seen:  # an alias: its node was checked where the anchor is
            continue
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode) and any(nul in node.value for nul in nuls):
            raise MetadataError(
                f"{path}: line {node.start_mark.line + 1}, key '{key or '(top level)'}': the value holds a NUL "
                "character (byte 0), which no NWB text may contain; remove it."
            )
        if isinstance(node, yaml.SequenceNode):
            stack.extend((child, f"{key}[{i}]") for i, child in enumerate(node.value))
        elif isinstance(node, yaml.MappingNode):
            lines: dict[str, int] = {}
            for key_node, value_node in node.value:
                name = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
                full = f"{key}.{name}" if key else name
                line = key_node.start_mark.line + 1
                if any(nul in name for nul in nuls):
                    raise MetadataError(f"{path}: line {line}: a key holds a NUL character (byte 0); remove it.")
                if isinstance(key_node, yaml.ScalarNode) and name in lines:
                    raise MetadataError(
                        f"{path}: key '{full}' is given twice, on line {lines[name]} and line {line}; "
                        "keep one (YAML would silently use the last)."
                    )
                lines[name] = line
                stack.append((value_node, full))
