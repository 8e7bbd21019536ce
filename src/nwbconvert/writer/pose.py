"""Pose estimation into processing/behavior with ndx-pose 0.4: one `PoseEstimation` per camera × individual (one
`PoseEstimationSeries` per keypoint), the `Skeletons` they use (one `Skeleton` per distinct nodes + edges, names
unique), and labeled training frames as `PoseTraining`.

Keypoints are streamed: each series' x, y and confidence datasets are hdmf iterators, and the table is read once,
through `PoseTable.read(start, stop)` blocks (BLOCK_BYTES), into a temporary file laid out keypoint by keypoint, so
memory is bounded by one block whatever the table's length and the source is not read again for every keypoint; a
table no larger than WHOLE_BYTES is read once into memory and sliced. The first series of a pose holds its time
stamps, the others link to them (ndx-pose's advice), or every series carries the rate. Confidence is written only
when the tool gives one (`Pose.has_confidence`: ndx-pose makes it optional). The camera is the `device` link, the
video the `source_video` link (when it is in the file); the paths the tool records (`original_videos`) and the frame
size (`dimensions`) are written, only when known, for a pose whose video is not in the file (ndx-pose 0.4
deprecates them in favour of the linked ImageSeries, which holds both).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from hdmf.data_utils import GenericDataChunkIterator

from nwbconvert.behavior import LabeledFrame, Pose, PoseTable, PoseTraining, Skeleton
from nwbconvert.plan_behavior import BehaviorPlan
from nwbconvert.writer.behavior import behavior_module
from nwbconvert.writer.samples import Progress

if TYPE_CHECKING:
    from nwbconvert.writer.nwbfile import DataWrapping

BLOCK_BYTES = 32 * 1024 * 1024  # frames × keypoints × 3 float64 read from the table at once
WHOLE_BYTES = 64 * 1024 * 1024  # a table up to this size is read once for all its keypoints
CHUNK_FRAMES = 1 << 16  # frames per chunk of a keypoint's dataset (1 MiB of x, y as float64)
REFERENCE_FRAME = "(0, 0) is the top-left corner of the video frame; x grows to the right, y downwards, in pixels."


def add_poses(
    nwbfile: Any, plan: BehaviorPlan, cameras: dict[str, Any], videos: dict[str, Any], wrap: DataWrapping
) -> None:
    """Every pose of the plan (linked to its camera Device and video ImageSeries) and every training set."""
    from ndx_pose import Skeletons

    module = behavior_module(nwbfile)
    skeletons = SkeletonNames([p.skeleton for p in plan.poses] + [t.skeleton for t in plan.training])
    module.add(Skeletons(name="Skeletons", skeletons=list(skeletons.objects.values())))
    for pose in plan.poses:
        module.add(_pose_estimation(pose, skeletons.of(pose.skeleton), cameras, videos, wrap, wrap.progress))
    for training in plan.training:
        module.add(_training(training, skeletons.of(training.skeleton), videos))


class SkeletonNames:
    """One ndx-pose Skeleton per distinct (nodes, edges), named after the first skeleton that has them; a name
    that two different skeletons share gets a number (`SkeletonCameraBack`, `SkeletonCameraBack2`)."""

    def __init__(self, skeletons: list[Skeleton]) -> None:
        from ndx_pose import Skeleton as NwbSkeleton

        self.objects: dict[tuple[tuple[str, ...], tuple[tuple[int, int], ...]], Any] = {}
        taken: set[str] = set()
        for skeleton in skeletons:
            key = _key(skeleton)
            if key in self.objects:
                continue
            name, n = skeleton.name, 1
            while name in taken:
                n += 1
                name = f"{skeleton.name}{n}"
            taken.add(name)
            extra = {"edges": np.asarray(skeleton.edges, dtype="uint8")} if skeleton.edges else {}
            if extra and max(max(e) for e in skeleton.edges) > 255:
                extra["edges"] = np.asarray(skeleton.edges, dtype="uint16")
            self.objects[key] = NwbSkeleton(name=name, nodes=list(skeleton.nodes), **extra)

    def of(self, skeleton: Skeleton) -> Any:
        return self.objects[_key(skeleton)]


def _key(skeleton: Skeleton) -> tuple[tuple[str, ...], tuple[tuple[int, int], ...]]:
    return skeleton.nodes, tuple(sorted(tuple(e) for e in skeleton.edges))  # type: ignore[misc]


def _pose_estimation(
    pose: Pose,
    skeleton: Any,
    cameras: dict[str, Any],
    videos: dict[str, Any],
    wrap: DataWrapping,
    progress: Progress | None,
) -> Any:
    from ndx_pose import PoseEstimation

    blocks = Blocks(pose.table, progress)
    series: list[Any] = []
    for k, node in enumerate(_series_names(pose.skeleton.nodes)):
        timing = _timing(pose, series[0] if series else None)
        series.append(_series(pose, node, k, blocks, wrap, timing))
    video = videos.get(pose.video) if pose.video else None
    extra: dict[str, Any] = {}
    if video is None and pose.original_videos:
        extra["original_videos"] = list(pose.original_videos)
    if video is None and pose.dimensions is not None:
        extra["dimensions"] = np.asarray([pose.dimensions] * max(1, len(pose.original_videos)), dtype="uint64")
    if pose.source_software_version:
        extra["source_software_version"] = pose.source_software_version
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*(original_videos|dimensions).*deprecated", category=Warning)
        return PoseEstimation(
            name=pose.name,
            pose_estimation_series=series,
            description=pose.description or _description(pose),
            skeleton=skeleton,
            device=cameras[pose.camera],
            source_video=video,
            scorer=pose.scorer or None,
            source_software=pose.source_software,
            **extra,
        )


def _description(pose: Pose) -> str:
    who = f"individual {pose.individual}" if pose.individual else "the animal"
    return (
        f"Keypoints of {who} seen by camera {pose.camera}, estimated by {pose.source_software}, "
        f"from {Path(pose.source).name}."
    )


def _series_names(nodes: tuple[str, ...]) -> list[str]:
    """NWB names of the keypoints' series: '/' and ':' are not allowed in a name; a repeated name gets a number."""
    names: list[str] = []
    for node in nodes:
        base = node.replace("/", "_").replace(":", "_") or "keypoint"
        name, n = base, 1
        while name in names:
            n += 1
            name = f"{base}{n}"
        names.append(name)
    return names


def _timing(pose: Pose, first: Any | None) -> dict[str, Any]:
    times = pose.times
    if times.timestamps_s is not None:
        return {"timestamps": first if first is not None else np.asarray(times.timestamps_s, dtype="float64")}
    return {"rate": float(times.rate_hz), "starting_time": float(times.t_start_s)}  # type: ignore[arg-type]


def _series(pose: Pose, name: str, k: int, blocks: Blocks, wrap: DataWrapping, timing: dict[str, Any]) -> Any:
    from ndx_pose import PoseEstimationSeries

    confidence: dict[str, Any] = {}
    if pose.has_confidence:
        confidence = {
            "confidence": _dataset(blocks, k, True, wrap, 8),
            "confidence_definition": f"The confidence {pose.source_software} gives each estimated position.",
        }
    return PoseEstimationSeries(
        name=name,
        description=f"Position of {pose.skeleton.nodes[k]} (x, y), estimated by {pose.source_software}.",
        data=_dataset(blocks, k, False, wrap, 16 if pose.has_confidence else 24),  # the plan counts 24 a frame
        unit="pixels",
        reference_frame=REFERENCE_FRAME,
        **confidence,
        **timing,
    )


def _dataset(blocks: Blocks, k: int, confidence: bool, wrap: DataWrapping, counted: int) -> Any:
    """Keypoint k's x, y or confidence, streamed with the conversion's compression (an empty table: empty);
    `counted`: the progress bytes a frame of it stands for."""
    if blocks.table.n_frames == 0:
        return np.empty((0,) if confidence else (0, 2))
    return wrap.sweep(KeypointIterator(blocks, k, confidence, counted))


class Blocks:
    """A pose table as its keypoints' iterators read it: a small table (up to WHOLE_BYTES) read once and kept; a
    larger one read once, block by block (BLOCK_BYTES), into a temporary file laid out keypoint by keypoint, from
    which each iterator reads its chunks (plain reads, not a memory map: memory stays one chunk)."""

    def __init__(self, table: PoseTable, progress: Progress | None) -> None:
        self.table, self.progress = table, progress
        self.frame_bytes = max(1, table.n_keypoints * 3 * 8)
        n = table.n_frames
        self.whole = n * self.frame_bytes <= WHOLE_BYTES
        if self.whole:
            self.frames = max(1, n)
        else:
            self.frames = max(CHUNK_FRAMES, BLOCK_BYTES // self.frame_bytes // CHUNK_FRAMES * CHUNK_FRAMES)
        self.cache: np.ndarray | None = None
        self.spill: Any = None

    def read(self, start: int, stop: int, k: int, column: slice | int) -> np.ndarray:
        """Keypoint k's x, y (column slice(0, 2)) or confidence (column 2) over frames [start, stop)."""
        if self.whole:
            if self.cache is None:
                self.cache = self.table.read(0, self.table.n_frames)
            return np.ascontiguousarray(self.cache[start:stop, k, column])
        if self.spill is None:
            self.spill = self._spilled()
        rows = np.empty((stop - start, 3), dtype="float64")
        self.spill.seek((k * self.table.n_frames + start) * 24)
        self.spill.readinto(rows.data)
        return np.ascontiguousarray(rows[:, column])

    def _spilled(self) -> Any:
        """The table in a temporary file as (keypoints, frames, 3) float64, read from the source in one pass."""
        import tempfile

        n = self.table.n_frames
        spill = tempfile.TemporaryFile(prefix="nwbconvert-pose-")  # noqa: SIM115 (read by the iterators; freed with them)
        for first in range(0, n, self.frames):
            block = self.table.read(first, min(n, first + self.frames))
            for k in range(self.table.n_keypoints):
                spill.seek((k * n + first) * 24)
                spill.write(np.ascontiguousarray(block[:, k, :], dtype="float64").tobytes())
        return spill

    def advance(self, n_bytes: int) -> None:
        if self.progress is not None:
            self.progress(n_bytes)


class KeypointIterator(GenericDataChunkIterator):
    """One keypoint's x, y ((frames, 2)) or confidence ((frames,)) as float64, a chunk at a time."""

    def __init__(self, blocks: Blocks, k: int, confidence: bool, counted: int) -> None:
        self.blocks, self.k, self.confidence, self.counted = blocks, k, confidence, counted
        n = max(1, blocks.table.n_frames)
        chunk = min(n, CHUNK_FRAMES, blocks.frames)
        shape = (chunk,) if confidence else (chunk, 2)
        super().__init__(chunk_shape=shape, buffer_shape=shape)  # one chunk per read: within one block

    def _get_maxshape(self) -> tuple[int, ...]:
        n = self.blocks.table.n_frames
        return (n,) if self.confidence else (n, 2)

    def _get_dtype(self) -> np.dtype:
        return np.dtype("float64")

    def _get_data(self, selection: tuple[slice, ...]) -> np.ndarray:
        rows = selection[0]
        start, stop = rows.start or 0, rows.stop
        data = self.blocks.read(start, stop, self.k, 2 if self.confidence else slice(0, 2))
        self.blocks.advance((stop - start) * self.counted)
        return data


def _training(training: PoseTraining, skeleton: Any, videos: dict[str, Any]) -> Any:
    from ndx_pose import PoseTraining as NwbPoseTraining
    from ndx_pose import TrainingFrames

    names: set[str] = set()
    frames = [_training_frame(frame, skeleton, videos, names) for frame in training.frames]
    return NwbPoseTraining(name=training.name, training_frames=TrainingFrames(training_frames=frames))


def _training_frame(frame: LabeledFrame, skeleton: Any, videos: dict[str, Any], names: set[str]) -> Any:
    """One labeled frame: each instance's node locations and visibility (a node not labeled is NaN, not visible);
    linked to its video's ImageSeries with the frame's index when that video is in the file."""
    from ndx_pose import SkeletonInstance, SkeletonInstances, TrainingFrame

    instances = []
    for i, points in enumerate(frame.instances):
        locations = np.asarray(points, dtype="float64")
        visible = ~np.isnan(locations).any(axis=1)
        instances.append(
            SkeletonInstance(
                name=f"instance{i}",
                id=np.uint64(i),
                node_locations=locations,
                node_visibility=visible,
                skeleton=skeleton,
            )
        )
    video = videos.get(frame.video) if frame.video else None
    stem = frame.video or Path(frame.video_path).stem or "frame"
    base = f"{stem}_frame{frame.frame_index}"
    name, n = base, 1
    while name in names:
        n += 1
        name = f"{base}_{n}"
    names.add(name)
    link: dict[str, Any] = {}
    if video is not None:
        link = {"source_video": video, "source_video_frame_index": np.uint64(frame.frame_index)}
    return TrainingFrame(name=name, skeleton_instances=SkeletonInstances(skeleton_instances=instances), **link)
