"""Sorter output formats spikeinterface reads, each with a cheap detection by characteristic files."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nwbconvert.errors import SourceError


@dataclass(frozen=True)
class SortingFormat:
    name: str
    description: str
    detect: Callable[[Path], bool]
    open: Callable[[Path, float], Any]  # (path, the paired recording's rate) -> spikeinterface BaseSorting
    requires: tuple[str, ...] = ()  # import names of optional packages

    def unreadable(self, path: Path, exc: Exception) -> SourceError:
        """The refusal of a sorter output spikeinterface could not read, in plain words (the library's text is in
        the traceback --debug prints)."""
        from nwbconvert.readers.plain import explain

        return SourceError(
            f"{path}: could not be read as {self.description} ({explain(exc, path)}). Check that the sorter "
            "finished and every output file was copied."
        )


def _has(folder: Path, *names: str) -> bool:
    return folder.is_dir() and all((folder / n).exists() for n in names)


def _glob(folder: Path, pattern: str) -> bool:
    return folder.is_dir() and any(folder.glob(pattern))


def _kilosort(path: Path) -> bool:
    return _has(path, "spike_times.npy", "spike_templates.npy") and (
        _has(path, "cluster_KSLabel.tsv") or _has(path, "ops.npy") or _has(path, "rez.mat")
    )


def _phy(path: Path) -> bool:
    return _has(path, "params.py", "spike_times.npy") and not _kilosort(path)


def _read_kilosort(path: Path, rate: float) -> Any:
    from spikeinterface.extractors import read_kilosort

    return read_kilosort(path, keep_good_only=False, remove_empty_units=False)


def _read_phy(path: Path, rate: float) -> Any:
    from spikeinterface.extractors import read_phy

    return read_phy(path, load_all_cluster_properties=True)


def _read_mda(path: Path, rate: float) -> Any:
    from spikeinterface.extractors import read_mda_sorting

    return read_mda_sorting(path / "firings.mda" if path.is_dir() else path, sampling_frequency=rate)


def _read_alf(path: Path, rate: float) -> Any:
    from spikeinterface.extractors import read_alf_sorting

    return read_alf_sorting(path, sampling_frequency=rate)


def _simple(reader: str, **extra: Any) -> Callable[[Path, float], Any]:
    def read(path: Path, rate: float) -> Any:
        import spikeinterface.extractors as se

        return getattr(se, reader)(path, **extra)

    return read


FORMATS: tuple[SortingFormat, ...] = (
    SortingFormat(
        "kilosort", "Kilosort output folder (spike_times.npy, cluster_KSLabel.tsv)", _kilosort, _read_kilosort
    ),
    SortingFormat("phy", "Phy folder (params.py, spike_times.npy, spike_clusters.npy)", _phy, _read_phy),
    SortingFormat(
        "mountainsort",
        "MountainSort firings.mda (times on the paired recording's clock)",
        lambda p: p.name == "firings.mda" or _has(p, "firings.mda"),
        _read_mda,
    ),
    SortingFormat(
        "spykingcircus",
        "SpyKING CIRCUS output folder (*.result.hdf5)",
        lambda p: _glob(p, "*.result*.hdf5") or _glob(p, "*/*.result*.hdf5"),
        _simple("read_spykingcircus"),
        ("h5py",),
    ),
    SortingFormat(
        "klusta", "Klusta .kwik file", lambda p: p.suffix == ".kwik" or _glob(p, "*.kwik"), _simple("read_klusta")
    ),
    SortingFormat(
        "cellexplorer",
        "CellExplorer *.spikes.cellinfo.mat",
        lambda p: p.name.endswith(".spikes.cellinfo.mat"),
        _simple("read_cellexplorer"),
        ("pymatreader",),
    ),
    SortingFormat(
        "waveclus",
        "Wave_clus times_*.mat",
        lambda p: p.name.startswith("times_") and p.suffix == ".mat",
        _simple("read_waveclus"),
    ),
    SortingFormat(
        "combinato", "Combinato output folder", lambda p: _glob(p, "*/sort_cat.h5"), _simple("read_combinato")
    ),
    SortingFormat(
        "herdingspikes",
        "HerdingSpikes2 result (.hdf5 with shapes and centres)",
        lambda p: p.suffix == ".hdf5" and "herding" in p.name.lower(),
        _simple("read_herdingspikes"),
    ),
    SortingFormat(
        "ibl-alf",
        "IBL ALF spikes/clusters folder (spikes.times.npy, spikes.clusters.npy)",
        lambda p: _has(p, "spikes.clusters.npy", "spikes.samples.npy"),
        _read_alf,
    ),
    SortingFormat(
        "npz",
        "spikeinterface NpzSortingExtractor file (.npz)",
        lambda p: p.suffix == ".npz",
        _simple("read_npz_sorting"),
    ),
)


def detect(path: Path) -> SortingFormat | None:
    """The first format whose files are there (Kilosort before the generic Phy layout)."""
    return next((f for f in FORMATS if f.detect(path)), None)
