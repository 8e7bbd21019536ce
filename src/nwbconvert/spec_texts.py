"""The specifications hdmf caches in an HDF5 NWB file, as text: what `HDF5IO.write` puts under `/specifications`
(its `__cache_spec`, through `NamespaceToBuilderHelper` and `H5SpecWriter`). The writer writes them from texts
made once per type map (`cache_specs`); the validator compares a file's cached texts with them (validate/opened.py).
"""

from __future__ import annotations

import json
from typing import Any

SPEC_GROUP = "specifications"  # where HDF5IO puts them, named by the root's ".specloc" reference
SPEC_LOCATION = ".specloc"


def written(catalog: Any, names: set[str]) -> dict[str, str]:
    """The texts HDF5IO caches for these namespaces of `catalog`, by their path under the specifications group
    ("core/2.9.0/nwb.base"), as its __cache_spec and H5SpecWriter write them."""
    from hdmf.backends.utils import NamespaceToBuilderHelper
    from hdmf.spec.write import SpecWriter

    texts: dict[str, str] = {}

    class Collected(SpecWriter):
        def __init__(self, prefix: str) -> None:
            self.prefix = prefix

        def write_spec(self, spec_file_dict: Any, path: str) -> None:
            texts[f"{self.prefix}/{path}"] = json.dumps(spec_file_dict, separators=(",", ":"))

        def write_namespace(self, namespace: Any, path: str) -> None:
            texts[f"{self.prefix}/{path}"] = json.dumps({"namespaces": [namespace]}, separators=(",", ":"))

    for name in names:
        builder = NamespaceToBuilderHelper.convert_namespace(catalog, name)
        builder.export("namespace", writer=Collected(f"{name}/{catalog.get_namespace(name).version}"))
    return texts


def cache_specs(h5: Any, texts: dict[str, str]) -> None:
    """Write `texts` into the open h5py File `h5` as HDF5IO caches them: each namespace version's group under the
    group the root's ".specloc" names (made when there is none), a version already there left as it is."""
    import h5py

    location = h5.attrs.get(SPEC_LOCATION)
    if location is not None:
        group = h5[location]
    else:
        group = h5.require_group(SPEC_GROUP)
        h5.attrs[SPEC_LOCATION] = group.ref
    present = {f"{name}/{version}" for name in group for version in group[name]}
    text_type = h5py.special_dtype(vlen=str)
    for path, text in texts.items():
        version = path.rpartition("/")[0]
        if version not in present:
            group.create_dataset(path, shape=(), data=text, dtype=text_type)
