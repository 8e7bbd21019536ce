"""The behavior part of the intermediate representation: videos, pose estimation, trials and behavioral signals.

Frozen, typed, free of pynwb, ndx-pose, sleap-io and ONE (as `model.py` and `imaging.py`): behavior readers
(`readers/behavior/`) build these, the writer families (`writer/video.py`, `writer/pose.py`,
`writer/behavior_tables.py`) write them. Bulk data stays in the source until the writer asks for it
(`PoseTable.read`, `VideoFrames.read`).

Names are decided by the reader and stable across runs: cameras `CameraBack` (from the video's or the pose
file's stem, or the tool's camera name), videos `VideoCameraBack`, pose `PoseEstimationCameraBack` (+ the
individual for multi-animal files: `PoseEstimationCameraBackMouse1`), tables `trials` (the one
`nwbfile.trials`) or their ALF object's name, signals `WheelPosition`, `Licks`, ....

Timing is explicit, never guessed: a `FrameTimes` with neither a rate nor time stamps means "not known yet" —
`behavior_timing.py` gives a pose its paired video's frame times (or a TTL channel's through align.py, or
`pose.rate`), and refuses (exit 4, naming the key) what stays untimed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

import numpy as np

from nwbconvert.imaging import FrameTimes


class PoseTable(Protocol):
    """The keypoints of one camera × individual over its frames, read on demand."""

    @property
    def n_frames(self) -> int: ...

    @property
    def n_keypoints(self) -> int: ...

    def read(self, start: int, stop: int) -> np.ndarray:
        """Frames [start, stop) as float64 (stop - start, keypoints, 3): x, y (pixels; NaN where the keypoint was
        not found) and confidence (NaN for every frame when the tool gives none: `Pose.has_confidence`).
        Memory is bounded by stop - start."""
        ...


@dataclass(frozen=True, eq=False)
class ArrayPose:
    """A `PoseTable` over an array already in memory (small files, generated tables): (frames, keypoints, 3)."""

    values: np.ndarray

    @property
    def n_frames(self) -> int:
        return int(self.values.shape[0])

    @property
    def n_keypoints(self) -> int:
        return int(self.values.shape[1])

    def read(self, start: int, stop: int) -> np.ndarray:
        return np.asarray(self.values[start:stop], dtype="float64")


@dataclass(frozen=True)
class Skeleton:
    """The keypoints (nodes) a pose tool tracks and how they connect (edges as pairs of node indices)."""

    name: str  # "SkeletonCameraBack", or the tool's own skeleton name
    nodes: tuple[str, ...]
    edges: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, eq=False)
class Pose:
    """The keypoints of one individual seen by one camera: one ndx-pose `PoseEstimation`."""

    name: str  # "PoseEstimationCameraBack", "PoseEstimationCameraBackMouse1"
    camera: str  # the camera's name: its Device ("CameraBack")
    skeleton: Skeleton
    table: PoseTable
    source: str  # the path it came from
    source_software: str  # "DeepLabCut", "SLEAP", "Lightning Pose"
    times: FrameTimes = field(default_factory=FrameTimes)  # neither rate nor stamps: not timed yet
    individual: str = ""  # multi-animal files: the individual's (track's) name
    has_confidence: bool = True
    video: str | None = None  # the Video (its name) the pose was estimated on, when it is a source of the session
    original_videos: tuple[str, ...] = ()  # the video paths the tool names (its own record, not opened)
    scorer: str = ""  # DeepLabCut's scorer (network), SLEAP's model
    source_software_version: str = ""
    dimensions: tuple[int, int] | None = None  # (width, height) of the video's frames; None when not known
    description: str = ""

    @property
    def n_frames(self) -> int:
        return self.table.n_frames


class VideoFrames(Protocol):
    """The decoded frames of a video (`--video internal`), read on demand: (frames, x=width, y=height[, 3])."""

    @property
    def shape(self) -> tuple[int, ...]: ...

    @property
    def dtype(self) -> np.dtype: ...

    def read(self, start: int, stop: int) -> np.ndarray:
        """Frames [start, stop) in NWB's axis order (frame, x, y[, rgb]), uint8."""
        ...


@dataclass(frozen=True, eq=False)
class Video:
    """A camera's video, one or several files one after the other: one `ImageSeries`."""

    name: str  # "VideoCameraBack"
    camera: str  # "CameraBack"
    files: tuple[str, ...]  # absolute paths, in playing order
    frame_counts: tuple[int, ...]  # frames of each file
    frame_size: tuple[int, int]  # (width, height)
    times: FrameTimes  # from the container's time stamps (or an align: TTL channel)
    codec: str = ""  # "h264"
    frames: VideoFrames | None = None  # for --video internal
    description: str = ""

    @property
    def n_frames(self) -> int:
        return sum(self.frame_counts)

    @property
    def starting_frames(self) -> tuple[int, ...]:
        """The index of each file's first frame in the whole series (NWB's `starting_frame`)."""
        return tuple(int(x) for x in np.concatenate([[0], np.cumsum(self.frame_counts)[:-1]]))


@dataclass(frozen=True, eq=False)
class LabeledFrame:
    """One frame a person labeled for training: each instance's keypoints, (nodes, 2) pixels, NaN unlabeled."""

    frame_index: int  # in its video
    instances: tuple[np.ndarray, ...]
    video: str | None = None  # the Video's name, when it is in the session
    video_path: str = ""  # the labeled video (or image folder) as the tool names it


@dataclass(frozen=True, eq=False)
class PoseTraining:
    """Labeled frames of one skeleton (DeepLabCut CollectedData, SLEAP user instances): ndx-pose `PoseTraining`."""

    name: str  # "PoseTrainingCameraBack"
    skeleton: Skeleton
    frames: tuple[LabeledFrame, ...]
    source: str
    source_software: str


@dataclass(frozen=True, eq=False)
class TableColumn:
    """One column of an interval table: a value per row (bool, int, float or str), with its description."""

    name: str
    values: np.ndarray
    description: str = ""


@dataclass(frozen=True, eq=False)
class IntervalTable:
    """Rows with a start and a stop time: `trials` (nwbfile.trials) or another `TimeIntervals` in intervals/."""

    name: str  # "trials", "wheelMoves"
    start_s: np.ndarray  # float64, session clock
    stop_s: np.ndarray
    columns: tuple[TableColumn, ...] = ()
    source: str = ""
    description: str = ""

    def __len__(self) -> int:
        return len(self.start_s)


class SignalRole(str, Enum):
    """What a behavioral signal becomes in processing/behavior."""

    POSITION = "position"  # SpatialSeries in Position (wheel position, x/y of an animal)
    TIMESERIES = "timeseries"  # TimeSeries in BehavioralTimeSeries (running speed, pupil diameter, ...)
    EVENTS = "events"  # TimeSeries of event times in BehavioralEvents (licks)


@dataclass(frozen=True, eq=False)
class BehaviorSignal:
    """One behavioral signal: (samples,) or (samples, components) values on its own times."""

    name: str  # "WheelPosition", "Licks", "PupilDiameter"
    role: SignalRole
    data: np.ndarray
    unit: str
    times: FrameTimes
    source: str = ""
    description: str = ""
    reference_frame: str = ""  # SpatialSeries only: "0 rad at the start of the session"

    @property
    def n_samples(self) -> int:
        return int(self.data.shape[0])


@dataclass(frozen=True)
class Behavior:
    """Everything behavioral a source holds; empty for neural sources."""

    videos: tuple[Video, ...] = ()
    poses: tuple[Pose, ...] = ()
    training: tuple[PoseTraining, ...] = ()
    tables: tuple[IntervalTable, ...] = ()
    signals: tuple[BehaviorSignal, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.videos or self.poses or self.training or self.tables or self.signals)
