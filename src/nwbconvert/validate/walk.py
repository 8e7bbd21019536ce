"""One pass over an HDF5 NWB file's structure for the checks that would each walk it again: the filters its
chunked datasets use, the neurodata types of its groups, its groups' `external_file` datasets, and the two answers
dandi-cli's extraction walks the file for (`nwb_has_external_links`, `get_neurodata_types`).

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


class _Unusual(Exception):
    """Something dandi-cli's walks answer in their own way."""


def walk_file(h5: Any) -> FileWalk | None:
    """The walk of the open h5py File `h5`, or None when its structure cannot be walked."""
    try:
        walker = _Walker()
        walker.group(h5.id, "", 0)
        return FileWalk(
            frozenset(walker.filters),
            frozenset(_text(v) for v in walker.types.values()),
            tuple(walker.external),
            walker.dandi_types(h5.id),
        )
    except Exception:
        return None


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class _Walker:
    def __init__(self) -> None:
        self.seen: set[Any] = set()  # objects visited (h5py ObjectIDs compare by file and address)
        self.edges: dict[Any, list[Any]] = {}  # group -> the groups its hard and soft links lead to, repeats kept
        self.types: dict[Any, Any] = {}  # group -> its neurodata_type attribute, as h5py reads it
        self.filters: set[int] = set()
        self.external: list[tuple[str, Any]] = []
        self.plain = True  # False: dandi-cli's walks must run themselves

    def group(self, gid: Any, name: str, depth: int) -> None:
        from h5py import h5i, h5l, h5o

        self.seen.add(gid)
        links: list[tuple[bytes, int]] = []
        gid.links.iterate(lambda n, info: links.append((n, info.type)), info=True)
        self._read(gid, name, [n for n, _ in links])
        self.plain = self.plain and depth <= DEEP
        self.edges[gid] = targets = []  # each group is visited once
        for link, kind in links:
            if kind not in (h5l.TYPE_HARD, h5l.TYPE_SOFT):
                self.plain = False  # an external (or user-defined) link
                continue
            try:
                target = h5o.open(gid, link)
            except Exception:
                self.plain = False  # a dangling soft link
                continue
            is_group = h5i.get_type(target) == h5i.GROUP
            if is_group:
                targets.append(target)
            if kind == h5l.TYPE_SOFT or target in self.seen:
                continue  # like visititems: soft links are not followed, each object is visited once
            child = f"{name}/{link.decode()}" if name else link.decode()
            if is_group:
                self.group(target, child, depth + 1)
            else:
                self.seen.add(target)
                self._dataset(target)

    def _read(self, gid: Any, name: str, links: list[bytes]) -> None:
        """The group's neurodata type (and description, as dandi-cli reads both), and its external_file entries."""
        import h5py

        group = h5py.Group(gid)
        if "neurodata_type" in group.attrs:
            self.types[gid] = group.attrs["neurodata_type"]
            group.attrs.get("description", None)  # dandi-cli reads it: a description it cannot read fails there
        listed = name and b"external_file" in links  # the root is not one of visititems' objects
        if listed and "external_file" in group and isinstance(group["external_file"], h5py.Dataset):
            self.external.append(("/" + name, group["external_file"][()]))

    def _dataset(self, oid: Any) -> None:
        from h5py import h5d, h5i

        if h5i.get_type(oid) != h5i.DATASET:
            return
        plist = oid.get_create_plist()
        if plist.get_layout() == h5d.CHUNKED:
            self.filters.update(plist.get_filter(i)[0] for i in range(plist.get_nfilters()))

    def dandi_types(self, root: Any) -> tuple[str, ...] | None:
        """get_neurodata_types' list: each typed group once per path to it, NWBFile left out, sorted, counted."""
        if not self.plain or not all(isinstance(v, str) for v in self.types.values()):
            return None
        try:
            counts = self._below(root, set(), {}, 0)
        except _Unusual:
            return None
        counts.pop("NWBFile", None)
        return tuple(name if n == 1 else f"{name} ({n})" for name, n in sorted(counts.items()))

    def _below(self, node: Any, path: set[Any], memo: dict[Any, Counter[str]], depth: int) -> Counter[str]:
        if node in path or node not in self.seen or depth > DEEP:
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
