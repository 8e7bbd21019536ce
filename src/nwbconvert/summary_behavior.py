"""What `nwbconvert info` shows of a file's behavior: pose estimations (ndx-pose, any version pynwb reads), videos
(ImageSeries, external or stored inside), interval tables (trials and intervals/) and the behavioral series of
processing/behavior."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from typing import Any

POSE_TYPES = ("PoseEstimation", "Skeletons", "PoseTraining")  # shown as pose, not as behavioral series


@dataclass(frozen=True)
class PoseSummary:
    name: str  # processing/behavior/<name>
    camera: str | None  # the linked Device
    keypoints: list[str]
    frames: int
    timing: str  # "30 Hz" or "timestamps"
    start_s: float | None
    duration_s: float | None
    confidence: bool  # every keypoint's series carries a confidence
    source_video: str | None  # the linked ImageSeries
    original_videos: list[str]
    skeleton: str | None
    source_software: str | None
    scorer: str | None


@dataclass(frozen=True)
class VideoSummary:
    name: str  # its path in the file: acquisition/<name>
    camera: str | None
    external_files: list[str]  # empty: the frames are stored inside the file
    starting_frames: list[int]
    frames: int | None
    frame_size: list[int] | None  # ImageSeries.dimension (width, height)
    timing: str


@dataclass(frozen=True)
class TrainingSummary:
    name: str
    frames: int
    instances: int


@dataclass(frozen=True)
class IntervalsSummary:
    name: str  # "trials", or intervals/<name>
    rows: int
    columns: list[str]


@dataclass(frozen=True)
class BehaviorSeriesSummary:
    name: str  # processing/behavior/<container>/<name>
    neurodata_type: str
    samples: int
    unit: str
    timing: str


@dataclass(frozen=True)
class BehaviorSummary:
    poses: list[PoseSummary]
    videos: list[VideoSummary]
    training: list[TrainingSummary]
    intervals: list[IntervalsSummary]
    series: list[BehaviorSeriesSummary]

    def __bool__(self) -> bool:
        return bool(self.poses or self.videos or self.training or self.intervals or self.series)


def load_pose_classes() -> None:
    """ndx-pose's own classes (when installed), so that files of any ndx-pose version (0.1 caches nodes, edges and
    devices on the PoseEstimation) are read through its mapper, as PoseEstimation.skeleton / .device."""
    with suppress(ImportError):
        import ndx_pose  # noqa: F401


def summarise_behavior(nwb: Any) -> BehaviorSummary | None:
    """The behavior of an opened NWBFile, or None when it holds none."""
    module = nwb.processing.get("behavior")
    interfaces = dict(module.data_interfaces) if module is not None else {}
    found = BehaviorSummary(
        poses=[_pose(obj) for obj in interfaces.values() if _type(obj) == "PoseEstimation"],
        videos=[_video(obj) for obj in nwb.objects.values() if _type(obj) == "ImageSeries"],
        training=[_training(obj) for obj in interfaces.values() if _type(obj) == "PoseTraining"],
        intervals=[_intervals(name, table) for name, table in (nwb.intervals or {}).items()],
        series=[s for obj in interfaces.values() if _type(obj) not in POSE_TYPES for s in _behavior_series(obj)],
    )
    return found or None


def _type(obj: Any) -> str:
    return type(obj).__name__


def _timing(series: Any) -> tuple[str, float | None, float | None]:
    """("30 Hz" or "timestamps", first time, duration) of a TimeSeries."""
    n = int(series.data.shape[0]) if series.data is not None else 0
    if series.rate is not None:
        rate = float(series.rate)
        return f"{rate:g} Hz", float(series.starting_time or 0.0), (n / rate if rate else None)
    stamps = series.timestamps
    if stamps is not None and len(stamps):
        return "timestamps", float(stamps[0]), float(stamps[-1] - stamps[0])
    return "none", None, None


def _pose(estimation: Any) -> PoseSummary:
    series = list(estimation.pose_estimation_series.values())
    skeleton = estimation.skeleton
    nodes = [str(n) for n in skeleton.nodes[:]] if skeleton is not None else [s.name for s in series]
    timing, start, duration = _timing(series[0]) if series else ("none", None, None)
    video = estimation.source_video
    device = estimation.device
    has_videos = estimation.original_videos is not None
    return PoseSummary(
        name=estimation.name,
        camera=device.name if device is not None else None,
        keypoints=nodes,
        frames=int(series[0].data.shape[0]) if series else 0,
        timing=timing,
        start_s=start,
        duration_s=duration,
        confidence=bool(series) and all(s.confidence is not None for s in series),
        source_video=video.name if video is not None else None,
        original_videos=[str(v) for v in estimation.original_videos[:]] if has_videos else [],
        skeleton=skeleton.name if skeleton is not None and skeleton.parent is not None else None,
        source_software=estimation.source_software,
        scorer=estimation.scorer,
    )


def _video(series: Any) -> VideoSummary:
    external = [str(f) for f in series.external_file[:]] if series.external_file is not None else []
    starting = [int(i) for i in series.starting_frame[:]] if external and series.starting_frame is not None else []
    if external:
        frames = series.timestamps.shape[0] if series.timestamps is not None else getattr(series, "num_samples", None)
    else:
        frames = int(series.data.shape[0])
    timing = _timing(series)[0]
    dimension = [int(d) for d in series.dimension[:]] if series.dimension is not None else None
    location = "acquisition/" if series.name in series.get_ancestor("NWBFile").acquisition else ""
    device = getattr(series, "device", None)
    return VideoSummary(
        name=location + series.name,
        camera=device.name if device is not None else None,
        external_files=external,
        starting_frames=starting,
        frames=int(frames) if frames is not None else None,
        frame_size=dimension,
        timing=timing,
    )


def _training(training: Any) -> TrainingSummary:
    frames = training.training_frames.training_frames.values() if training.training_frames is not None else []
    instances = sum(len(f.skeleton_instances.skeleton_instances) for f in frames)
    return TrainingSummary(training.name, len(frames), instances)


def _intervals(name: str, table: Any) -> IntervalsSummary:
    columns = [c for c in table.colnames if c not in ("start_time", "stop_time")]
    path = name if name in ("trials", "epochs", "invalid_times") else f"intervals/{name}"
    return IntervalsSummary(path, len(table), columns)


def _behavior_series(obj: Any) -> list[BehaviorSeriesSummary]:
    """A TimeSeries of processing/behavior, or each series of a container (Position, BehavioralTimeSeries, ...)."""
    from pynwb import TimeSeries

    if isinstance(obj, TimeSeries):
        return [_one_series(obj.name, obj)]
    inner = [v for v in getattr(obj, "children", []) if isinstance(v, TimeSeries)]
    return [_one_series(f"{obj.name}/{s.name}", s) for s in inner]


def _one_series(name: str, series: Any) -> BehaviorSeriesSummary:
    timing, _, _ = _timing(series)
    samples = int(series.data.shape[0]) if series.data is not None else 0
    return BehaviorSeriesSummary(name, _type(series), samples, str(series.unit), timing)
