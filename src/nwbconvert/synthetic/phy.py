"""Phy / Kilosort output folders paired with a recording, in the layout Kilosort 2-4 write for Phy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

LABELS = ("good", "mua", "noise")


@dataclass(frozen=True)
class PhyFolder:
    folder: Path
    spike_times: np.ndarray  # frames into the recording's data file, ascending
    spike_clusters: np.ndarray
    peak_channels: dict[int, int]  # cluster id -> channel index in the data file
    labels: dict[int, str]


def write_phy_folder(
    folder: Path,
    dat_path: Path,
    n_channels: int,
    n_channels_dat: int,
    n_samples: int,
    sample_rate: float,
    n_clusters: int = 6,
    seed: int = 0,
    kilosort: bool = True,
) -> PhyFolder:
    """Write spike_times/clusters/templates/amplitudes, channel map, params.py and cluster tables.

    With `kilosort`, the folder is as Kilosort leaves it (cluster_KSLabel.tsv, cluster_ContamPct.tsv,
    cluster_group.tsv); without, as Phy saves it after curation (cluster_info.tsv, cluster_group.tsv).
    """
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    ids = np.arange(n_clusters) * 3 + 1  # sparse ids, as after merges in Phy
    counts = rng.integers(20, 80, n_clusters)
    clusters = np.repeat(ids, counts).astype("int32")
    times = rng.integers(30, n_samples - 60, clusters.size).astype("uint64")
    order = np.argsort(times, kind="stable")
    times, clusters = times[order], clusters[order]
    peaks = {int(c): int(rng.integers(0, n_channels)) for c in ids}
    labels = {int(c): LABELS[i % len(LABELS)] for i, c in enumerate(ids)}

    templates = np.zeros((int(ids.max()) + 1, 61, n_channels), dtype="float32")
    shape = -np.exp(-(((np.arange(61) - 20) / 4.0) ** 2))
    for c, ch in peaks.items():
        templates[c, :, ch] = shape
    np.save(folder / "spike_times.npy", times)
    np.save(folder / "spike_clusters.npy", clusters)
    np.save(folder / "spike_templates.npy", clusters.astype("uint32"))
    np.save(folder / "amplitudes.npy", rng.uniform(10, 40, clusters.size).astype("float64"))
    np.save(folder / "templates.npy", templates)
    np.save(folder / "channel_map.npy", np.arange(n_channels, dtype="int32"))
    np.save(folder / "channel_positions.npy", np.column_stack([np.zeros(n_channels), 20.0 * np.arange(n_channels)]))
    (folder / "params.py").write_text(
        f"dat_path = r'{dat_path}'\nn_channels_dat = {n_channels_dat}\ndtype = 'int16'\noffset = 0\n"
        f"sample_rate = {sample_rate}\nhp_filtered = False\n"
    )
    ks_labels = {int(c): ("good" if i % 2 == 0 else "mua") for i, c in enumerate(ids)}
    contamination = {int(c): 2.5 * i for i, c in enumerate(ids)}
    if kilosort:  # Kilosort's own tables; the peak channel is only in templates.npy
        _tsv(folder / "cluster_KSLabel.tsv", "KSLabel", ks_labels)
        _tsv(folder / "cluster_ContamPct.tsv", "ContamPct", contamination)
        _tsv(folder / "cluster_group.tsv", "group", labels)
    else:  # after curation Phy saves everything in cluster_info.tsv, with the peak channel `ch`
        header = "cluster_id\tch\tdepth\tn_spikes\tKSLabel\tContamPct\tgroup\n"
        lines = [
            f"{c}\t{peaks[c]}\t{20.0 * peaks[c]}\t{int(n)}\t{ks_labels[c]}\t{contamination[c]}\t{labels[c]}\n"
            for c, n in zip(map(int, ids), counts)
        ]
        (folder / "cluster_info.tsv").write_text(header + "".join(lines))
        _tsv(folder / "cluster_group.tsv", "group", labels)
    return PhyFolder(folder, times, clusters, peaks, labels)


def _tsv(path: Path, column: str, values: Mapping[int, object]) -> None:
    path.write_text(f"cluster_id\t{column}\n" + "".join(f"{c}\t{v}\n" for c, v in values.items()))
