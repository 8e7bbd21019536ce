"""The BuildManager that pynwb writes each file with, on a type map copied once per process, and the texts of the
specifications it caches in each file, made once per type map."""

from __future__ import annotations

from typing import Any

# pynwb's type map, copied once per set of loaded namespaces and registered classes (see `build_manager`)
_TYPE_MAPS: dict[tuple[tuple[str, ...], int], Any] = {}
_SPEC_TEXTS: dict[int, dict[str, str]] = {}  # by id() of a type map of _TYPE_MAPS (kept, so never reused)


def build_manager() -> Any:
    """A BuildManager for one file, on the copy of pynwb's type map that its `get_manager()` would deep-copy again
    for every file, made once per process and kept with the object mappers built on it (hdmf shares one mapper
    among all containers of a type; mappers keep nothing of a file). A new copy is made once an extension
    (ndx-pose, imported by a batch's first pose session) has added namespaces or classes."""
    from hdmf.build import BuildManager
    from pynwb import get_type_map

    loaded = get_type_map(copy=False)
    key = (tuple(loaded.namespace_catalog.namespaces), len(loaded.get_container_classes()))
    type_map = _TYPE_MAPS.get(key)
    if type_map is None:
        type_map = _TYPE_MAPS[key] = get_type_map()
    return BuildManager(type_map)


def spec_texts(manager: Any) -> dict[str, str]:
    """What HDF5IO would cache of every namespace of `manager`'s type map (spec_texts.written), made once for it:
    hdmf converts and serialises every namespace again for each file it writes."""
    from nwbconvert.spec_texts import written

    type_map = manager.type_map
    texts = _SPEC_TEXTS.get(id(type_map))
    if texts is None:
        catalog = type_map.namespace_catalog
        texts = _SPEC_TEXTS[id(type_map)] = written(catalog, set(catalog.namespaces))
    return texts
