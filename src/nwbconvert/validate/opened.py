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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nwbconvert.spec_texts import SPEC_LOCATION, written

MAX_CACHED = 8  # distinct sets of cached specs kept per process


@dataclass(frozen=True)
class Checked:
    """What pynwb's validator and NWB Inspector said of one file."""

    schema_errors: list[Any]  # hdmf ValidationErrors
    inspector_messages: list[Any]  # nwbinspector InspectorMessages
    during: list[Any]  # what `during` returned, given the NWBFile while it was open


@dataclass(frozen=True)
class _Specs:
    namespaces: tuple[str, ...]  # validated against: the most specific cached namespaces (as pynwb chooses them)
    validators: tuple[Any, ...]  # a ValidatorMap per namespace
    type_map: Any  # how the file is built into an NWBFile for NWB Inspector


_CACHE: dict[str, _Specs] = {}


def cached_specs(path: Path) -> dict[str, str] | None:
    """Every cached specification's text by its name under the file's specifications group ("core/2.9.0/nwb.base"),
    or None when the file caches none."""
    import h5py

    with h5py.File(path, "r") as h5:
        return texts_in(h5)


def texts_in(h5: Any) -> dict[str, str] | None:
    """`cached_specs` of the open h5py File `h5`: each dataset below its specifications group read as one text with
    HDF5's own calls (a dataset that is not a scalar text stops it with an error)."""
    import numpy as np
    from h5py import h5d, h5o, h5s, h5t, string_dtype

    location = h5.attrs.get(SPEC_LOCATION)
    if location is None:
        return None
    group = h5[location].id
    names: list[bytes] = []
    h5o.visit(group, lambda name, info: names.append(name) if info.type == h5o.TYPE_DATASET else None, info=True)
    as_text = h5t.py_create(string_dtype())
    texts: dict[str, str] = {}
    for name in names:
        value = np.empty((), dtype=object)
        h5d.open(group, name).read(h5s.ALL, h5s.ALL, value, mtype=as_text)
        text = value[()]
        texts[name.decode()] = text.decode() if isinstance(text, bytes) else str(text)
    return texts


def spec_digest(texts: dict[str, str]) -> str:
    digest = hashlib.sha256()
    for name in sorted(texts):
        digest.update(name.encode() + b"\0" + texts[name].encode() + b"\0")
    return digest.hexdigest()


def warm(path: Path, texts: dict[str, str] | None, during: Callable[[Any], list[Any]] | None = None) -> Checked | None:
    """Schema errors and NWB Inspector's messages as the cold runs give them, or None: check it the cold way.
    `texts`: the file's cached specifications (`cached_specs`; None when it caches none or they could not be read).
    `during` is given the NWBFile NWB Inspector inspected, while it is open (another check that reads the file as
    `NWBHDF5IO(load_namespaces=True)` does: dandi-cli's extraction)."""
    try:
        return None if not texts else _checked(path, texts, during)
    except Exception:
        return None  # a damaged file: the cold runs say what is wrong, as they would alone


def _checked(path: Path, texts: dict[str, str], during: Callable[[Any], list[Any]] | None) -> Checked:
    from hdmf.build import BuildManager
    from nwbinspector import inspect_nwbfile_object
    from pynwb import NWBHDF5IO

    from nwbconvert.validate.best_practice import dandi_checks

    digest = spec_digest(texts)
    specs = _CACHE.get(digest) or _cached(digest, installed_specs(texts) or _load(path))
    io = NWBHDF5IO(str(path), mode="r", manager=BuildManager(specs.type_map))
    try:
        builder = io.read_builder()
        errors = [error for validator in specs.validators for error in validator.validate(builder)]
        nwbfile = io.read()
        messages = list(inspect_nwbfile_object(nwbfile, checks=list(dandi_checks())))
        for message in messages:
            if message is not None:
                message.file_path = str(path)
        return Checked(errors, messages, during(nwbfile) if during else [])
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


def installed_specs(texts: dict[str, str]) -> _Specs | None:
    """The file's specs from pynwb's own namespace catalog, when every namespace the file caches is one pynwb has
    loaded and the file's texts are exactly what writing that namespace caches (a file this installation wrote):
    then the catalog a cold run loads from the file is built from those same texts, and loading them is skipped.
    None otherwise."""
    from hdmf.validate import ValidatorMap
    from pynwb import get_type_map

    type_map = get_type_map()
    catalog = type_map.namespace_catalog
    cached = {name.split("/")[0] for name in texts}
    if not cached <= set(catalog.namespaces) or written(catalog, cached) != texts:
        return None
    included = {dep for ns in cached for dep in _includes(catalog.get_namespace(ns))}
    namespaces = sorted(cached - included - {"hdmf-experimental"})  # as pynwb's get_cached_namespaces_to_validate
    if not namespaces:
        return None
    validators = tuple(ValidatorMap(catalog.get_namespace(name=ns)) for ns in namespaces)
    return _Specs(tuple(namespaces), validators, type_map)


def _includes(namespace: Any) -> list[str]:
    return [entry["namespace"] for entry in namespace.get("schema", []) if "namespace" in entry]


def prime() -> None:
    """Put this installation's own specs in the cache (before validating workers fork, so each inherits them): a
    file that caches exactly what pynwb's loaded namespaces write then needs neither loading nor building."""
    from pynwb import get_type_map

    catalog = get_type_map().namespace_catalog
    texts = written(catalog, set(catalog.namespaces))
    specs = installed_specs(texts)
    if specs is not None:
        _cached(spec_digest(texts), specs)
