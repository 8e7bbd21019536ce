"""Catalog readers of HDF5-based formats: each decides on the root groups and attributes of the file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from nwbconvert.readers.base import Match, head
from nwbconvert.readers.neo_reader import NeoReader

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


@lru_cache(maxsize=16)
def _hdf5_root(path: Path, mtime_ns: int) -> tuple[frozenset[str], dict[str, str], Exception | None]:
    import h5py

    try:
        with h5py.File(path, "r") as f:
            attrs = {}
            for key, value in f.attrs.items():
                attrs[key] = value.decode(errors="replace") if isinstance(value, bytes) else str(value)
            return frozenset(f.keys()), attrs, None
    except Exception as exc:  # a damaged file is no match for any probe; detection says it looks damaged
        return frozenset(), {}, exc


def hdf5_root(path: Path) -> tuple[frozenset[str], dict[str, str]]:
    """Names of the root groups/datasets and the root attributes of an HDF5 file (empty if it is none or damaged);
    never raises."""
    if not path.is_file() or head(path, 8) != HDF5_MAGIC:
        return frozenset(), {}
    try:
        keys, attrs, _ = _hdf5_root(path, path.stat().st_mtime_ns)
    except OSError:
        return frozenset(), {}
    return keys, attrs


def hdf5_damage(path: Path) -> Exception | None:
    """Why a file that starts as HDF5 does (its signature) cannot be opened by h5py; None if it opens or is none."""
    if not path.is_file() or head(path, 8) != HDF5_MAGIC:
        return None
    try:
        return _hdf5_root(path, path.stat().st_mtime_ns)[2]
    except OSError as exc:
        return exc


class BiocamReader(NeoReader):
    name = "biocam"
    description = "3Brain BioCAM recording (.brw, HDF5)"
    suffixes = (".brw", ".h5")
    manufacturer = "3Brain"
    verified = "generated"  # tests/test_formats.py converts a file nwbconvert.synthetic writes
    rawio_class = "BiocamRawIO"

    def probe(self, path: Path) -> Match:
        keys, _ = hdf5_root(path)
        if "3BRecInfo" in keys or "ExperimentSettings" in keys or "ExperimentInfo" in keys:
            return Match.CONTENT
        return Match.SUFFIX if path.is_file() and path.suffix.lower() == ".brw" else Match.NO


class MaxwellReader(NeoReader):
    name = "maxwell"
    description = "MaxWell Biosystems MaxOne/MaxTwo recording (.raw.h5)"
    suffixes = (".h5",)
    manufacturer = "MaxWell Biosystems"
    verified = "generated"  # tests/test_formats.py converts a file nwbconvert.synthetic writes
    note = "compressed files need MaxWell's HDF5 plugin (HDF5_PLUGIN_PATH)"
    rawio_class = "MaxwellRawIO"

    def probe(self, path: Path) -> Match:
        keys, _ = hdf5_root(path)
        return Match.CONTENT if "version" in keys and ("sig" in keys or "wells" in keys) else Match.NO


class MEArecReader(NeoReader):
    name = "mearec"
    description = "MEArec simulated recording (.h5)"
    suffixes = (".h5",)
    manufacturer = "MEArec (simulation)"
    requires = (("MEArec", "mearec"),)
    rawio_class = "MEArecRawIO"

    def probe(self, path: Path) -> Match:
        keys, _ = hdf5_root(path)
        return Match.CONTENT if {"recordings", "channel_positions"} <= keys else Match.NO


class NixReader(NeoReader):
    name = "nix"
    description = "NIX file written by neo (.nix, HDF5)"
    suffixes = (".nix",)
    manufacturer = "G-Node NIX"
    requires = (("nixio", "nix"),)
    rawio_class = "NIXRawIO"

    def probe(self, path: Path) -> Match:
        _, attrs = hdf5_root(path)
        if attrs.get("format") == "nix":
            return Match.CONTENT
        return self.suffix_match(path)
