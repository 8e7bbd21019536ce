"""DeepLabCut and Lightning Pose files in the tools' own layouts, for the pose readers' tests.

Predictions: a pandas DataFrame with MultiIndex columns scorer / [individuals /] bodyparts / coords (x, y,
likelihood), saved as DeepLabCut saves it (`to_hdf(key="df_with_missing", format="table")`, `to_csv`) under
`<video stem>DLC_<scorer>.h5|.csv`. Labels: `labeled-data/<video>/CollectedData_<labeler>.csv|.h5` with DeepLabCut
2.2's three index columns (labeled-data, video, image). A project `config.yaml` with `bodyparts` and `skeleton`.
Lightning Pose: the same header with its model name as the scorer (`heatmap_tracker`), one CSV per video.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

DLC_SCORER = "DLC_resnet50_openfieldNov1shuffle1_1000"


def pose_frame(
    n_frames: int,
    bodyparts: Sequence[str],
    individuals: Sequence[str] | None = None,
    scorer: str = DLC_SCORER,
    likelihood: bool = True,
    seed: int = 0,
    index: Any = None,
) -> Any:
    """A DeepLabCut-layout DataFrame of random keypoints (about 5 % NaN, as keypoints not found)."""
    import pandas as pd

    coords = ["x", "y", "likelihood"] if likelihood else ["x", "y"]
    if individuals is None:
        names = ["scorer", "bodyparts", "coords"]
        columns = pd.MultiIndex.from_product([[scorer], list(bodyparts), coords], names=names)
    else:
        names = ["scorer", "individuals", "bodyparts", "coords"]
        columns = pd.MultiIndex.from_product([[scorer], list(individuals), list(bodyparts), coords], names=names)
    rng = np.random.default_rng(seed)
    values = rng.uniform(0, 640, size=(n_frames, len(columns)))
    if likelihood:
        values[:, 2 :: len(coords)] = rng.uniform(0, 1, size=(n_frames, len(columns) // len(coords)))
    values[rng.uniform(size=values.shape) < 0.05] = np.nan
    return pd.DataFrame(values, columns=columns, index=index)


def write_dlc(
    folder: Path,
    video_stem: str,
    n_frames: int,
    bodyparts: Sequence[str] = ("snout", "leftear", "rightear", "tailbase"),
    individuals: Sequence[str] | None = None,
    suffix: str = ".h5",
    seed: int = 0,
) -> Path:
    """`<video_stem>DLC_<scorer>.h5` (or `.csv`; multi-animal files end `_el` as DeepLabCut's tracklets do)."""
    folder.mkdir(parents=True, exist_ok=True)
    frame = pose_frame(n_frames, bodyparts, individuals, seed=seed)
    name = f"{video_stem}{DLC_SCORER}{'_el' if individuals else ''}{suffix}"
    path = folder / name
    if suffix == ".csv":
        frame.to_csv(path)
    else:
        frame.to_hdf(path, key="df_with_missing", format="table", mode="w")
    return path


def write_dlc_labels(
    project: Path,
    video: str,
    n_frames: int,
    bodyparts: Sequence[str] = ("snout", "leftear", "rightear", "tailbase"),
    labeler: str = "rick",
    seed: int = 1,
) -> Path:
    """labeled-data/<video>/CollectedData_<labeler>.csv and .h5 (index: labeled-data, video, img<frame>.png)."""
    import pandas as pd

    folder = project / "labeled-data" / video
    folder.mkdir(parents=True, exist_ok=True)
    rows = [("labeled-data", video, f"img{10 * i:04d}.png") for i in range(n_frames)]
    frame = pose_frame(
        n_frames, bodyparts, scorer=labeler, likelihood=False, seed=seed, index=pd.MultiIndex.from_tuples(rows)
    )
    frame.to_hdf(folder / f"CollectedData_{labeler}.h5", key="df_with_missing", mode="w")  # fixed, as DeepLabCut
    frame.to_csv(folder / f"CollectedData_{labeler}.csv")
    return folder / f"CollectedData_{labeler}.csv"


def write_dlc_config(project: Path, bodyparts: Sequence[str], skeleton: Sequence[tuple[str, str]]) -> Path:
    """A DeepLabCut project's config.yaml with the keys the readers use."""
    lines = ["Task: openfield", "scorer: rick", "bodyparts:", *(f"- {b}" for b in bodyparts), "skeleton:"]
    lines += [f"- - {a}\n  - {b}" for a, b in skeleton]
    path = project / "config.yaml"
    project.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def write_lp_predictions(
    folder: Path,
    video_stem: str,
    n_frames: int,
    bodyparts: Sequence[str],
    model: str = "heatmap_tracker",
    seed: int = 2,
) -> Path:
    """Lightning Pose's video predictions: `<video_stem>.csv`, its model type as the scorer."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{video_stem}.csv"
    pose_frame(n_frames, bodyparts, scorer=model, seed=seed).to_csv(path)
    return path
