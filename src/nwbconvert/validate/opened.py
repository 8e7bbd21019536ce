"""The schema and best-practice checks of one HDF5 NWB file, opened and read once, with the namespaces it caches
loaded once per process for every file that caches the same specifications.

A cold run of pynwb's `validate(path=...)` and NWB Inspector's `inspect_nwbfile` loads the file's cached
namespaces twice and reads its structure twice; for a small file that is nearly all of the time. Here both run on
one `NWBHDF5IO`: its builder is read once, validated as pynwb does (a `ValidatorMap` of each most specific cached
namespace, from a catalog of the cached specs only), then built into an NWBFile with the type map
`NWBHDF5IO(load_namespaces=True)` would use (pynwb's own, plus the cached namespaces it lacks), which NWB Inspector
inspects with DANDI's configuration. What is cached is keyed by a digest of the bytes of the file's cached
specifications: two files share it only when they cache exactly the same specs, so a cached entry is exactly what
a cold run would build from the file. A file that caches no specs, or that fails anywhere on this path, gets None
from `warm`: the caller checks it the cold way, so a damaged file gets exactly the cold runs' findings.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_CACHED = 8  # distinct sets of cached specs kept per process


@dataclass(frozen=True)
class Checked:
    """What pynwb's validator and NWB Inspector said of one file."""

    schema_errors: list[Any]  # hdmf ValidationErrors
    inspector_messages: list[Any]  # nwbinspector InspectorMessages


@dataclass(frozen=True)
class _Specs:
    namespaces: tuple[str, ...]  # validated against: the most specific cached namespaces (as pynwb chooses them)
    validators: tuple[Any, ...]  # a ValidatorMap per namespace
    type_map: Any  # how the file is built into an NWBFile for NWB Inspector


_CACHE: dict[str, _Specs] = {}


def spec_digest(path: Path) -> str | None:
    """A digest of every cached specification's name and bytes, or None when the file caches none."""
    import h5py

    with h5py.File(path, "r") as h5:
        location = h5.attrs.get(".specloc")
        if location is None:
            return None
        specs = h5[location]
        digest = hashlib.sha256()

        def visit(name: str, obj: Any) -> None:
            if isinstance(obj, h5py.Dataset):
                value = obj[()]
                digest.update(name.encode() + b"\0" + (value if isinstance(value, bytes) else str(value).encode()))

        specs.visititems(visit)
        return digest.hexdigest()


def warm(path: Path) -> Checked | None:
    """Schema errors and NWB Inspector's messages as the cold runs give them, or None: check it the cold way."""
    try:
        digest = spec_digest(path)
        return None if digest is None else _checked(path, digest)
    except Exception:
        return None  # a damaged file: the cold runs say what is wrong, as they would alone


def _checked(path: Path, digest: str) -> Checked:
    from hdmf.build import BuildManager
    from nwbinspector import inspect_nwbfile_object, load_config
    from pynwb import NWBHDF5IO

    specs = _CACHE.get(digest) or _cached(digest, _load(path))
    io = NWBHDF5IO(str(path), mode="r", manager=BuildManager(specs.type_map))
    try:
        builder = io.read_builder()
        errors = [error for validator in specs.validators for error in validator.validate(builder)]
        nwbfile = io.read()
        messages = list(inspect_nwbfile_object(nwbfile, config=load_config("dandi")))
        for message in messages:
            if message is not None:
                message.file_path = str(path)
        return Checked(errors, messages)
    finally:
        io.close()


def _cached(digest: str, specs: _Specs) -> _Specs:
    if len(_CACHE) >= MAX_CACHED:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[digest] = specs
    return specs


def _load(path: Path) -> _Specs:
    """What pynwb's validate and NWBHDF5IO(load_namespaces=True) each load from the file's cached specs."""
    from hdmf.backends.hdf5 import HDF5IO
    from hdmf.build import TypeMap
    from hdmf.validate import ValidatorMap
    from pynwb import CORE_NAMESPACE, get_type_map
    from pynwb.validation import get_cached_namespaces_to_validate

    namespaces, manager, _ = get_cached_namespaces_to_validate(path=str(path))
    if not namespaces:  # no cached namespace: pynwb validates against its own core
        namespaces, catalog = [CORE_NAMESPACE], get_type_map().namespace_catalog
    else:
        catalog = manager.namespace_catalog
    validators = tuple(ValidatorMap(catalog.get_namespace(name=ns)) for ns in namespaces)
    type_map: TypeMap = get_type_map()
    HDF5IO.load_namespaces(type_map, str(path))
    return _Specs(tuple(namespaces), validators, type_map)
