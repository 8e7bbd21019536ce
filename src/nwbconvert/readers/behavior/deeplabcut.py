"""DeepLabCut output: predictions (`<video>DLC_<scorer>.h5` / `.csv`, single- and multi-animal) and labeled frames
(`CollectedData_<labeler>.h5` / `.csv`), read with pandas in DeepLabCut's layout (columns scorer / [individuals /]
bodyparts / coords; a CSV holds those as its 3 or 4 header rows).

A prediction file becomes one `Pose` per individual; its camera is named after the video stem the file name
starts with (`m3v1mp4DLC_resnet50_...h5` -> `CameraM3v1mp4`), and that video, found beside the file (or in a
`videos/` folder beside or above it), times it. DeepLabCut records no frame rate: without the video the pose
stays untimed (`--set pose.rate=...` or an `align:` entry must time it). Skeleton edges come from the project's
`config.yaml` (`skeleton:`) when one is found beside or above the file. Labeled frames become `PoseTraining`.

A PyTables "table" .h5 (DeepLabCut's own format) is read in row ranges; a CSV is parsed once, in chunks, into an
unnamed temporary file (float64, 480 bytes a frame for 20 keypoints) read back by row ranges; a "fixed" .h5
(pandas' other layout, not DeepLabCut's) is read whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nwbconvert.behavior import LabeledFrame, Pose, PoseTraining, Skeleton, Video
from nwbconvert.errors import NwbConvertError, SourceError
from nwbconvert.model import Session, SourceNote
from nwbconvert.readers.base import Match, ReaderBase, ReadOptions
from nwbconvert.readers.behavior.pose_common import (
    PANDAS,
    TABLES,
    ColumnPose,
    DlcColumns,
    H5Pose,
    PoseSource,
    SpilledRows,
    camera_name,
    csv_columns,
    csv_values,
    find_video,
    frame_index,
    h5_columns,
    h5_rows,
    is_dlc_h5,
    labeled_video,
    open_video,
    pose_name,
    skeleton_name,
)


def video_stem_of(path: Path) -> str:
    """The video a DeepLabCut output file was made from: its name before `DLC_` (`m3v1mp4DLC_resnet50...`)."""
    return path.stem.split("DLC_", 1)[0] if "DLC_" in path.stem else path.stem


def find_config(path: Path) -> Path | None:
    """A DeepLabCut project's config.yaml beside the file or up to three folders above it."""
    for folder in [path.parent, *list(path.parent.parents)[:3]]:
        if (folder / "config.yaml").is_file():
            return folder / "config.yaml"
    return None


def config_edges(path: Path, nodes: tuple[str, ...]) -> tuple[tuple[tuple[int, int], ...], list[SourceNote]]:
    """The skeleton edges the project's config.yaml (`skeleton: [[a, b], ...]`) gives between `nodes`."""
    from nwbconvert.metadata.yamlfile import read_yaml

    config = find_config(path)
    if config is None:
        return (), []
    try:
        data, _ = read_yaml(config, "DeepLabCut config", SourceError, "DeepLabCut's documentation")
    except NwbConvertError as exc:
        return (), [SourceNote("not-used", str(config), f"{config}: not read ({exc.message}); no skeleton edges.")]
    pairs = data.get("skeleton") if isinstance(data, dict) else None
    edges: list[tuple[int, int]] = []
    for pair in pairs if isinstance(pairs, list) else []:
        if isinstance(pair, list) and len(pair) == 2 and pair[0] in nodes and pair[1] in nodes:
            edges.append((nodes.index(pair[0]), nodes.index(pair[1])))
    return tuple(edges), []


@dataclass(frozen=True)
class Tool:
    """What tells a DeepLabCut-style reader apart: its name, software and where it looks for videos."""

    reader: str
    software: str
    version: str = ""


def prediction_source(path: Path, tool: Tool, video_folders: list[Path]) -> PoseSource:
    """The poses of a prediction file (one per individual) and the video found for them."""
    stem = video_stem_of(path) if tool.software == "DeepLabCut" else path.stem
    camera = camera_name(stem)
    found = find_video(stem, video_folders)
    video = open_video(found, camera) if found is not None else None
    values: np.ndarray | SpilledRows | None = None
    if path.suffix.lower() == ".csv":
        columns = csv_columns(path)
        if columns is None:
            raise SourceError(f"{path}: its header rows are not DeepLabCut's (scorer, bodyparts, coords).")
        values, key = csv_values(path, columns), ""
    else:
        key, columns, frame = h5_columns(path)
        values = None if frame is None else frame.to_numpy(dtype="float64")
    poses, notes = [], []
    for who, parts, x, y, conf in columns.groups():
        edges, found_notes = config_edges(path, parts)
        notes += [n for n in found_notes if n not in notes]
        table = (
            ColumnPose(values, x, y, conf) if values is not None else H5Pose(path, key, h5_rows(path, key), x, y, conf)
        )
        poses.append(
            _pose(path, tool, columns, camera, who, Skeleton(skeleton_name(camera, who), parts, edges), table, video)
        )
    files = (found,) if found is not None else ()
    return PoseSource(tool.reader, tool.version, path, tuple(poses), (), (video,) if video else (), files, tuple(notes))


def _pose(
    path: Path,
    tool: Tool,
    columns: DlcColumns,
    camera: str,
    who: str,
    skeleton: Skeleton,
    table: Any,
    video: Video | None,
) -> Pose:
    return Pose(
        name=pose_name(camera, who),
        camera=camera,
        skeleton=skeleton,
        table=table,
        source=str(path),
        source_software=tool.software,
        individual=who,
        has_confidence=any(c >= 0 for c in table.confidence),
        video=video.name if video else None,
        scorer=columns.scorer,
        source_software_version=tool.version,
        dimensions=video.frame_size if video else None,
        description=f"Keypoints of {who or 'the animal'} estimated by {tool.software} ({columns.scorer}), {path.name}.",
    )


def labels_source(path: Path, tool: Tool, video_folders: list[Path], name: str) -> PoseSource:
    """Labeled frames (CollectedData): one `PoseTraining` per skeleton (multi-animal `single` parts apart)."""
    import pandas as pd

    if path.suffix.lower() == ".csv":
        columns = csv_columns(path)
        if columns is None:
            raise SourceError(f"{path}: its header rows are not DeepLabCut's (scorer, bodyparts, coords).")
        skip = 4 if columns.multi_animal else 3
        raw = pd.read_csv(path, header=None, skiprows=skip, dtype=str, keep_default_na=False)
        images = ["/".join(str(v) for v in row if v) for row in raw.iloc[:, : columns.n_index].itertuples(index=False)]
        values = raw.iloc[:, columns.n_index :].replace("", "nan").astype("float64").to_numpy()
    else:
        _, columns, _ = h5_columns(path)
        frame = pd.read_hdf(path)
        images = ["/".join(str(v) for v in (i if isinstance(i, tuple) else (i,)) if v) for i in frame.index]
        values = frame.to_numpy(dtype="float64")
    videos = _labeled_videos(images, video_folders)
    by_skeleton: dict[tuple[str, ...], list[tuple[tuple[int, ...], tuple[int, ...]]]] = {}
    for _, parts, x, y, _ in columns.groups():
        by_skeleton.setdefault(parts, []).append((x, y))
    training = []
    for i, (parts, instances) in enumerate(by_skeleton.items()):
        edges, _ = config_edges(path, parts)
        suffix = "" if i == 0 else str(i + 1)
        frames = tuple(_labeled(images, values, instances, videos))
        skeleton = Skeleton(f"Skeleton{name}{suffix}", parts, edges)
        training.append(PoseTraining(f"PoseTraining{name}{suffix}", skeleton, frames, str(path), tool.software))
    files = tuple(Path(f) for v in videos.values() for f in v.files)
    return PoseSource(tool.reader, tool.version, path, (), tuple(training), tuple(videos.values()), files)


def _labeled_videos(images: list[str], folders: list[Path]) -> dict[str, Video]:
    """The videos the labeled images were extracted from (`labeled-data/<video>/...`), where found."""
    videos: dict[str, Video] = {}
    for stem in dict.fromkeys(labeled_video(i) for i in images):
        found = find_video(stem, folders) if stem else None
        if found is not None:
            videos[stem] = open_video(found, camera_name(stem))
    return videos


def _labeled(
    images: list[str],
    values: np.ndarray,
    instances: list[tuple[tuple[int, ...], tuple[int, ...]]],
    videos: dict[str, Video],
) -> list[LabeledFrame]:
    frames = []
    for row, image in enumerate(images):
        points = [np.stack([values[row, list(x)], values[row, list(y)]], axis=1) for x, y in instances]
        kept = tuple(p for p in points if not np.isnan(p).all())
        stem = labeled_video(image)
        video = videos.get(stem)
        frames.append(LabeledFrame(frame_index(image, row), kept, video.name if video else None, image))
    return frames


def dlc_match(path: Path) -> Match:
    """CONTENT for DeepLabCut's .h5, its prediction CSVs (any scorer but Lightning Pose's model names) and its labels
    (CollectedData_<labeler>.csv, or three index columns). The other DeepLabCut-style CSVs are Lightning Pose's
    (`lightning_pose.lp_match`): every such CSV is claimed by exactly one of the two."""
    if is_dlc_h5(path):
        return Match.CONTENT
    columns = csv_columns(path)
    if columns is None:
        return Match.NO
    if columns.labels:
        return Match.CONTENT if columns.n_index == 3 or path.name.startswith("CollectedData_") else Match.NO
    return Match.NO if is_lp_scorer(columns.scorer) else Match.CONTENT


def is_lp_scorer(scorer: str) -> bool:
    """Lightning Pose's model types name its scorer: heatmap_tracker, heatmap_mhcrnn_tracker, ..."""
    return scorer.startswith("heatmap") or scorer.endswith("_tracker")


def dlc_video_folders(path: Path) -> list[Path]:
    folder = path.parent
    return [folder, folder / "videos", folder.parent, folder.parent / "videos", folder.parent.parent / "videos"]


class DeepLabCutReader(ReaderBase):
    name = "deeplabcut"
    description = "DeepLabCut pose estimation (.h5 / .csv predictions, single- and multi-animal; CollectedData labels)"
    suffixes = (".h5", ".csv")
    requires = (PANDAS, TABLES)
    verified = "real"  # tests/test_pose_readers.py: the real dlc2nwb .h5 and its video; multi-animal generated
    manufacturer = "DeepLabCut (Mathis lab)"
    note = "the video beside it (same name stem) times it; else --set pose.rate"
    unreadable_advice = "Check that it is a complete DeepLabCut output file (it may be truncated)."

    def probe(self, path: Path) -> Match:
        try:
            return dlc_match(path) if path.is_file() else Match.NO
        except Exception:
            return Match.NO

    def read(self, path: Path, options: ReadOptions) -> Session:
        tool = Tool(self.name, "DeepLabCut")
        with self.reading(path):
            columns = csv_columns(path) if path.suffix.lower() == ".csv" else h5_columns(path)[1]
            if columns is None:
                raise SourceError(f"{path}: its header rows are not DeepLabCut's (scorer, bodyparts, coords).")
            if columns.labels:
                project = path.parent.parent.parent if path.parent.parent.name == "labeled-data" else path.parent
                folders = [path.parent, project / "videos", project]
                return labels_source(path, tool, folders, camera_name(path.parent.name)).session()
            return prediction_source(path, tool, dlc_video_folders(path)).session()
