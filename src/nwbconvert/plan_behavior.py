"""What a conversion writes of a session's behavior, decided before anything is written.

Timing is explicit, never guessed. A pose is timed, in this order, by: its own time stamps (an `align:` entry
that targets it, or a tool that records them), the frame times of the video it was estimated on (`Pose.video`,
paired by the reader or the session folder), or `pose.rate` (`--set pose.rate=30`, the video's frame rate). A
pose with none of them is refused with that key (exit 4), every such pose in one message; a pose whose frame count
differs from its video's is refused with both counts (exit 3), never truncated. Videos keep their container's
time stamps unless an `align:` entry times them. Cameras and tables take their descriptions from metadata
(`cameras.<camera>.*`, `tables.<table>.*`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

from nwbconvert.behavior import Behavior, BehaviorSignal, IntervalTable, Pose, PoseTraining, TableColumn, Video
from nwbconvert.errors import MetadataError, SourceError
from nwbconvert.imaging import FrameTimes
from nwbconvert.metadata.model import NwbMetadata


class VideoStorage(str, Enum):
    """Where a video's frames go (`--video`)."""

    EXTERNAL = "external"  # ImageSeries.external_file: paths relative to the NWB file (DANDI's way)
    INTERNAL = "internal"  # decoded frames stored in the file, chunked and compressed


@dataclass(frozen=True)
class Camera:
    """One camera Device: from a video's or a pose's camera name, described by `cameras.<camera>.*`."""

    name: str
    description: str
    manufacturer: str = ""


@dataclass(frozen=True)
class BehaviorPlan:
    """Everything behavioral the file will hold, every pose timed."""

    cameras: tuple[Camera, ...] = ()
    videos: tuple[Video, ...] = ()
    poses: tuple[Pose, ...] = ()
    training: tuple[PoseTraining, ...] = ()
    tables: tuple[IntervalTable, ...] = ()
    signals: tuple[BehaviorSignal, ...] = ()
    video_storage: VideoStorage = VideoStorage.EXTERNAL
    output: str = ""  # the NWB file's final path: external_file paths are relative to its folder (writer/video.py)
    dandi_layout: bool = False  # videos placed as `dandi organize` places them, beside the file (writer/video.py)

    def __bool__(self) -> bool:
        return bool(self.videos or self.poses or self.training or self.tables or self.signals)

    @property
    def raw_bytes(self) -> int:
        internal = self.video_storage is VideoStorage.INTERNAL
        frames = sum(v.n_frames * v.frame_size[0] * v.frame_size[1] * 3 for v in self.videos) if internal else 0
        pose = frames + sum(p.n_frames * p.table.n_keypoints * 3 * 8 for p in self.poses)
        return pose + self.whole_bytes

    @property
    def whole_bytes(self) -> int:
        """What `raw_bytes` counts of the tables and signals, which hdmf writes whole (no iterator reports them)."""
        tables = sum(len(t) * 16 + sum(c.values.nbytes for c in t.columns) for t in self.tables)
        return tables + sum(s.data.nbytes for s in self.signals)

    def to_json(self) -> dict[str, Any]:
        """What --dry-run --json shows of the behavior."""
        return {
            "cameras": [c.name for c in self.cameras],
            "videos": [
                {
                    "name": v.name,
                    "camera": v.camera,
                    "files": list(v.files),
                    "frames": v.n_frames,
                    "timing": _timing(v.times),
                }
                for v in self.videos
            ],
            "video_storage": self.video_storage.value,
            "poses": [
                {
                    "name": p.name,
                    "camera": p.camera,
                    "individual": p.individual,
                    "keypoints": list(p.skeleton.nodes),
                    "frames": p.n_frames,
                    "video": p.video,
                    "timing": _timing(p.times),
                }
                for p in self.poses
            ],
            "training": [{"name": t.name, "frames": len(t.frames)} for t in self.training],
            "tables": [{"name": t.name, "rows": len(t), "columns": [c.name for c in t.columns]} for t in self.tables],
            "signals": [
                {
                    "name": s.name,
                    "role": s.role.value,
                    "unit": s.unit,
                    "samples": s.n_samples,
                    "timing": _timing(s.times),
                }
                for s in self.signals
            ],
        }


def _timing(times: FrameTimes) -> str:
    if times.timestamps_s is not None:
        return "timestamps"
    return f"{times.rate_hz} Hz" if times.rate_hz else "untimed"


def plan_behavior(
    behavior: Behavior, metadata: NwbMetadata, video_storage: VideoStorage = VideoStorage.EXTERNAL
) -> BehaviorPlan:
    """The behavior as written: poses timed (or one MetadataError naming every untimed one), descriptions set."""
    videos = {v.name: v for v in behavior.videos}
    poses = tuple(_timed_pose(p, videos, metadata) for p in behavior.poses)
    untimed = [p for p in poses if not _known(p.times)]
    if untimed:
        raise MetadataError(
            "These pose estimations have no frame times: "
            + "; ".join(f"{p.name} (from {p.source})" for p in untimed)
            + ". Their files hold no frame rate. Give the video they were estimated on (beside the pose file, with "
            "the same name stem, or as a source of the session config), or time them by a camera's TTL channel "
            "(`align:` in a session config), or set the video's frame rate: --set pose.rate=30."
        )
    return BehaviorPlan(
        cameras=_cameras(behavior, metadata),
        videos=behavior.videos,
        poses=poses,
        training=behavior.training,
        tables=tuple(_described(t, metadata) for t in behavior.tables),
        signals=behavior.signals,
        video_storage=video_storage,
    )


def _known(times: FrameTimes) -> bool:
    return times.timestamps_s is not None or times.rate_hz is not None


def _timed_pose(pose: Pose, videos: dict[str, Video], metadata: NwbMetadata) -> Pose:
    if _known(pose.times):
        return pose
    video = videos.get(pose.video) if pose.video else None
    if video is not None:
        if video.n_frames != pose.n_frames:
            raise SourceError(
                f"{pose.source}: the pose has {pose.n_frames} frames but its video {video.name} "
                f"({', '.join(video.files)}) has {video.n_frames}: each pose frame takes the time of one video "
                "frame, so they cannot be paired. Check that this is the video the pose was estimated on (a "
                "stub or a trimmed copy has fewer frames)."
            )
        return replace(pose, times=video.times)
    if metadata.pose.rate is not None:
        return replace(pose, times=FrameTimes(t_start_s=pose.times.t_start_s, rate_hz=metadata.pose.rate))
    return pose


def _cameras(behavior: Behavior, metadata: NwbMetadata) -> tuple[Camera, ...]:
    names = dict.fromkeys([v.camera for v in behavior.videos] + [p.camera for p in behavior.poses])
    cameras = []
    for name in names:
        given = metadata.cameras.get(name)
        description = (given.description if given else None) or f"The camera {name}."
        cameras.append(Camera(name, description, (given.manufacturer if given else None) or ""))
    return tuple(cameras)


def _described(table: IntervalTable, metadata: NwbMetadata) -> IntervalTable:
    """A table with the descriptions metadata gives (`tables.<table>.description`, `.columns.<column>`)."""
    given = metadata.tables.get(table.name)
    if given is None:
        return table
    unknown = sorted(set(given.columns) - {c.name for c in table.columns})
    if unknown:
        raise MetadataError(
            f"tables.{table.name}.columns names {', '.join(unknown)}, which the table {table.name} (from "
            f"{table.source}) does not have. Its columns: {', '.join(c.name for c in table.columns) or 'none'} "
            "(start_time and stop_time are its intervals, described by NWB)."
        )
    columns = tuple(TableColumn(c.name, c.values, given.columns.get(c.name, c.description)) for c in table.columns)
    return replace(table, columns=columns, description=given.description or table.description)
