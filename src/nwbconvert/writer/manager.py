"""What pynwb writes each file with: its type map copied once per process (the object mappers built on it kept),
and the texts of the specifications each file caches, made once for that type map."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class WriteSchema:
    """One copy of pynwb's type map, and the cached specs' texts made from it at its first HDF5 write."""

    type_map: Any
    texts: dict[str, str] | None = None

    def manager(self) -> Any:
        """A BuildManager for one file, on this type map (a manager holds what it built of one file)."""
        from hdmf.build import BuildManager

        return BuildManager(self.type_map)

    def spec_texts(self) -> dict[str, str]:
        """What HDF5IO would cache of every namespace of the type map (spec_texts.written); hdmf converts and
        serialises every namespace again for each file it writes."""
        if self.texts is None:
            from nwbconvert.spec_texts import written

            catalog = self.type_map.namespace_catalog
            self.texts = written(catalog, set(catalog.namespaces))
        return self.texts


# by the loaded namespaces and the number of registered classes (see `current`)
_SCHEMAS: dict[tuple[tuple[str, ...], int], WriteSchema] = {}


def current() -> WriteSchema:
    """The copy of pynwb's type map that its `get_manager()` would deep-copy again for every file, made once per
    process and kept with the object mappers built on it (hdmf shares one mapper among all containers of a type;
    mappers keep nothing of a file). A new copy is made once an extension (ndx-pose, imported by a batch's first
    pose session) has added namespaces or classes."""
    from pynwb import get_type_map

    loaded = get_type_map(copy=False)
    key = (tuple(loaded.namespace_catalog.namespaces), len(loaded.get_container_classes()))
    schema = _SCHEMAS.get(key)
    if schema is None:
        schema = _SCHEMAS[key] = WriteSchema(get_type_map())
    return schema
