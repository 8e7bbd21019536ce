"""One pass over an HDF5 NWB file's structure for the checks that would each walk it again: the filters its
chunked datasets use, the neurodata types of its groups, its groups' `external_file` datasets, the two answers
dandi-cli's extraction walks the file for (`nwb_has_external_links`, `get_neurodata_types`), and the one it opens the
file once more for (`get_nwb_version`).

The pass visits each object once by its hard links, in name order, as h5py's `visititems` does. dandi-cli's walks
also follow soft links, so a group linked twice is counted twice: here the graph of hard and soft links between
groups counts the paths to each group, which gives the same list. Wherever dandi-cli's answer is not a plain one
(an external link, a dangling or looping link, a link of another kind, a neurodata type that is not text, nesting
deeper than DEEP) the walk's `dandi_types` is None and dandi-cli's own functions run, so that answer, error or not, is
exactly theirs. A file whose structure cannot be walked gets None: each check then reads it its own way.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

DEEP = 100  # groups nested deeper than this: dandi-cli's recursive walks run themselves


@dataclass(frozen=True)
class FileWalk:
    filters: frozenset[int]  # ids of the HDF5 filters chunked datasets use
    group_types: frozenset[str]  # neurodata types of the groups, the root's included
    external_files: tuple[tuple[str, Any], ...]  # ("/group/path", its external_file dataset's value), in walk order
    dandi_types: tuple[str, ...] | None  # what dandi-cli's get_neurodata_types returns; None: ask dandi-cli
    nwb_version: str | None  # what dandi-cli's get_nwb_version returns (the root's attribute); None: ask dandi-cli


@dataclass(frozen=True)
class _Object:
    type: int  # h5o.TYPE_GROUP, TYPE_DATASET, ...
    addr: int  # where it is in the file: objects are told apart by it
    attributes: int

    @staticmethod
    def of(info: Any) -> _Object:  # h5py hands every visit's callback the same ObjInfo: its fields are copied
        return _Object(info.type, info.addr, info.num_attrs)


class _Unusual(Exception):
    """Something dandi-cli's walks answer in their own way."""


def walk_file(h5: Any) -> FileWalk | None:
    """The walk of the open h5py File `h5`, or None when its structure cannot be walked."""
    try:
        walker = _Walker(h5.id)
        return FileWalk(
            frozenset(walker.filters),
            frozenset(_text(v) for v in walker.types.values()),
            tuple(walker.external),
            walker.dandi_types(),
            _version(h5),
        )
    except Exception:
        return None


def _version(h5: Any) -> str | None:
    """get_nwb_version's answer, as it reads it (h5py's value of the root's attribute, made a str), when there is
    the attribute (without it, dandi-cli looks for an NWB 1.x dataset)."""
    value = h5.attrs.get("nwb_version")
    return None if value is None else str(value)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _parent(link: bytes) -> bytes:
    """The first path of the group a link of `H5Lvisit` is in (b"": the root)."""
    return link.rpartition(b"/")[0]


class _Walker:
    """HDF5's own walks, nothing opened but typed groups, datasets and external_file's groups: `H5Ovisit` gives each
    object once by its first path, in name order, as h5py's `visititems` does; `H5Lvisit` gives every group's links
    (hard, soft and others) once, which make the link graph. Objects are told apart by their address in the file."""

    def __init__(self, fid: Any) -> None:
        from h5py import h5o

        self.paths: dict[bytes, _Object] = {b"": _Object.of(h5o.get_info(fid))}  # first path -> object; b"": root
        h5o.visit(fid, lambda name, info: self.paths.update({name: _Object.of(info)}), info=True)
        self.root = self.paths[b""].addr
        self.edges: dict[int, list[int]] = {}  # group -> the groups its hard and soft links lead to, repeats kept
        self.types: dict[int, Any] = {}  # group -> its neurodata_type attribute, as h5py reads it
        self.filters: set[int] = set()
        self.external: list[tuple[str, Any]] = []
        self.plain = True  # False: dandi-cli's walks must run themselves
        links: dict[bytes, list[tuple[bytes, int]]] = {}  # group's first path -> its links' paths and kinds
        fid.links.visit(lambda name, info: links.setdefault(_parent(name), []).append((name, info.type)), info=True)
        for path, info in self.paths.items():
            if info.type == h5o.TYPE_GROUP:
                self._group(fid, path, info, links.get(path, []))
            elif info.type == h5o.TYPE_DATASET:
                self._dataset(h5o.open(fid, path))

    def _group(self, fid: Any, path: bytes, info: _Object, links: list[tuple[bytes, int]]) -> None:
        from h5py import h5l, h5o

        self.plain = self.plain and path.count(b"/") + bool(path) <= DEEP
        targets = self.edges.setdefault(info.addr, [])
        for name, kind in links:
            if kind == h5l.TYPE_HARD:
                target = self.paths.get(name) or _Object.of(h5o.get_info(fid, name))  # a second hard link: no path
            elif kind == h5l.TYPE_SOFT:
                try:
                    target = _Object.of(h5o.get_info(fid, name))  # where the link leads
                except Exception:
                    self.plain = False  # a dangling soft link
                    continue
            else:
                self.plain = False  # an external (or user-defined) link
                continue
            if target.type == h5o.TYPE_GROUP:
                targets.append(target.addr)
        self._read(fid, path, info, [name.rpartition(b"/")[2] for name, _ in links])

    def _read(self, fid: Any, path: bytes, info: _Object, links: list[bytes]) -> None:
        """The group's neurodata type (and description, as dandi-cli reads both), and its external_file entries."""
        import h5py

        typed = info.attributes > 0 and h5py.h5a.exists(fid, b"neurodata_type", obj_name=path or b".")
        listed = bool(path) and b"external_file" in links  # the root is not one of visititems' objects
        if not typed and not listed:
            return
        group = h5py.Group(h5py.h5o.open(fid, path or b"."))
        if typed:
            self.types[info.addr] = group.attrs["neurodata_type"]
            group.attrs.get("description", None)  # dandi-cli reads it: a description it cannot read fails there
        if listed and "external_file" in group and isinstance(group["external_file"], h5py.Dataset):
            self.external.append(("/" + path.decode(), group["external_file"][()]))

    def _dataset(self, oid: Any) -> None:
        from h5py import h5d

        plist = oid.get_create_plist()
        if plist.get_layout() == h5d.CHUNKED:
            self.filters.update(plist.get_filter(i)[0] for i in range(plist.get_nfilters()))

    def dandi_types(self) -> tuple[str, ...] | None:
        """get_neurodata_types' list: each typed group once per path to it, NWBFile left out, sorted, counted."""
        if not self.plain or not all(isinstance(v, str) for v in self.types.values()):
            return None
        try:
            counts = self._below(self.root, set(), {}, 0)
        except _Unusual:
            return None
        counts.pop("NWBFile", None)
        return tuple(name if n == 1 else f"{name} ({n})" for name, n in sorted(counts.items()))

    def _below(self, node: int, path: set[int], memo: dict[int, Counter[str]], depth: int) -> Counter[str]:
        if node in path or node not in self.edges or depth > DEEP:
            raise _Unusual  # a loop (dandi-cli recurses until Python stops it), or a group the walk did not read
        if node in memo:
            return memo[node]
        path.add(node)
        total: Counter[str] = Counter()
        if node in self.types:
            total[self.types[node]] += 1
        for child in self.edges.get(node, ()):
            total.update(self._below(child, path, memo, depth + 1))
        path.discard(node)
        memo[node] = total
        return total
