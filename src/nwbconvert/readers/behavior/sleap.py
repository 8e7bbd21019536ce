"""SLEAP: a labels file (`.slp`) or an analysis HDF5 export (`.analysis.h5`), read with sleap-io.

Predicted instances become one `Pose` per video × track (confidence: the point scores; frames without an
instance are NaN); user-labeled instances become `PoseTraining` (one per skeleton). Each video the file names is
looked for where it was recorded, then by its name beside the file (or in `videos/` beside it), then as the one
video beside the file whose stem starts the file's name — SLEAP records absolute paths, often from another
computer (`D:/session/back.mp4`); a video found is part of the session and
times its poses. The camera is named from the video's stem (`back.mp4` -> `CameraBack`), the pose
`PoseEstimation<Camera>`, + the track's name when the video has several tracks.

A frame holding two predicted instances of one track (or two untracked ones) keeps the one of highest score; the
others are counted in a note. The whole file is read by sleap-io (as SLEAP does): the arrays are in memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nwbconvert.behavior import ArrayPose, LabeledFrame, Pose, PoseTraining, Skeleton, Video
from nwbconvert.errors import SourceError
from nwbconvert.model import Session, SourceNote
from nwbconvert.readers.base import Match, ReaderBase, ReadOptions, head
from nwbconvert.readers.behavior.pose_common import (
    BEHAVIOR,
    VIDEO_SUFFIXES,
    PoseSource,
    camera_name,
    find_video,
    open_video,
    pose_name,
    skeleton_name,
    video_stem,
)

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


@dataclass
class _Track:
    """The predicted instances of one video × track, gathered frame by frame."""

    name: str
    skeleton: Any
    video: int  # index of the (first) sleap-io Video of its camera
    frames: dict[int, Any] = field(default_factory=dict)  # frame index -> instance of highest score
    dropped: int = 0


def recorded_path(video: Any) -> str:
    """The path a sleap-io Video records (the first image of an image sequence)."""
    name = video.filename
    return str(name[0] if isinstance(name, (list, tuple)) and name else name)


def _video_file(video: Any, source: Path) -> Path | None:
    """The video file where it was recorded, else by name beside the labels (or in `videos/` beside them)."""
    recorded = recorded_path(video)
    if isinstance(video.filename, (list, tuple)) or Path(recorded).suffix.lower() not in VIDEO_SUFFIXES:
        return None
    where = Path(recorded) if Path(recorded).is_absolute() else source.parent / recorded
    if where.is_file():
        return where
    found = find_video(video_stem(recorded), [source.parent, source.parent / "videos"])
    return found if found is not None else _named_like(source)


def _named_like(source: Path) -> Path | None:
    """The one video beside `source` whose stem starts its name (`back.predictions.csv` -> `back.mp4`)."""
    try:
        videos = [p for p in source.parent.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file()]
    except OSError:
        return None
    named = [p for p in videos if source.name.startswith(p.stem + ".")]
    return named[0] if len(named) == 1 else None


def _camera_stem(video: Any) -> str:
    """A video's stem, or an image sequence's folder name."""
    recorded = recorded_path(video)
    if isinstance(video.filename, (list, tuple)):
        parts = [p for p in recorded.replace("\\", "/").split("/") if p]
        return parts[-2] if len(parts) >= 2 else "Images"
    return video_stem(recorded)


def _cameras(labels: Any, source: Path) -> tuple[list[str], dict[int, Video]]:
    """Each video's camera name and the videos found. Entries that record one path (a label export writes one
    entry per labeled frame) are one camera and one video; other videos of one stem are told apart by position."""
    names: list[str] = []
    found: dict[int, Video] = {}
    by_path: dict[str, tuple[str, Video | None]] = {}
    for i, video in enumerate(labels.videos):
        recorded = recorded_path(video) if not isinstance(video.filename, (list, tuple)) else f"images {i}"
        if recorded not in by_path:
            path = _video_file(video, source)
            name = camera_name(path.stem if path is not None else _camera_stem(video))
            name = name if name not in names else f"{name}{i}"
            by_path[recorded] = (name, open_video(path, name) if path is not None else None)
        name, opened = by_path[recorded]
        names.append(name)
        if opened is not None:
            found[i] = opened
    return names, found


def _points(instance: Any) -> tuple[np.ndarray, np.ndarray]:
    """(nodes, 2) coordinates and (nodes,) scores of an instance (NaN scores for a user instance)."""
    xy = np.asarray(instance.numpy(), dtype="float64")[:, :2]
    scores = np.asarray(instance.points["score"], dtype="float64") if _predicted(instance) else None
    return xy, scores if scores is not None else np.full(len(xy), np.nan)


def _predicted(instance: Any) -> bool:
    from sleap_io import PredictedInstance

    return isinstance(instance, PredictedInstance)


def _tracks(labels: Any, cameras: Sequence[str]) -> dict[tuple[str, str], _Track]:
    """Predicted instances by (camera, track name); "" for untracked instances."""
    videos = {id(v): i for i, v in enumerate(labels.videos)}
    tracks: dict[tuple[str, str], _Track] = {}
    for frame in labels.labeled_frames:
        for instance in frame.instances:
            if not _predicted(instance):
                continue
            vi = videos[id(frame.video)]
            key = (cameras[vi], instance.track.name if instance.track is not None else "")
            track = tracks.setdefault(key, _Track(key[1], instance.skeleton, vi))
            kept = track.frames.get(frame.frame_idx)
            if kept is not None:
                track.dropped += 1
                if float(kept.score) >= float(instance.score):
                    continue
            track.frames[frame.frame_idx] = instance
    return tracks


def _pose_array(track: _Track, n_frames: int) -> np.ndarray:
    values = np.full((n_frames, len(track.skeleton.nodes), 3), np.nan, dtype="float64")
    for index, instance in track.frames.items():
        xy, scores = _points(instance)
        values[index, :, :2], values[index, :, 2] = xy, scores
    return values


def _skeleton(skeleton: Any, name: str) -> Skeleton:
    nodes = tuple(str(n) for n in skeleton.node_names)
    return Skeleton(name, nodes, tuple((int(a), int(b)) for a, b in skeleton.edge_inds))


@dataclass(frozen=True)
class Software:
    reader: str
    name: str  # "SLEAP", "JABS", ...
    version: str = ""


def labels_source(labels: Any, path: Path, software: Software) -> PoseSource:
    """The poses, training frames and videos of a sleap-io `Labels`."""
    cameras, videos = _cameras(labels, path)
    tracks = _tracks(labels, cameras)
    per_camera: dict[str, int] = {}
    for camera, _ in tracks:
        per_camera[camera] = per_camera.get(camera, 0) + 1
    poses, notes = [], []
    for (camera, who), track in tracks.items():
        vi = track.video
        video = videos.get(vi)
        suffix = who if per_camera[camera] > 1 else ""
        n = max([video.n_frames if video else 0, *(i + 1 for i in track.frames)])
        poses.append(_pose(path, software, labels, vi, camera, who, suffix, track, n, video))
        if track.dropped:
            message = (
                f"{path}: {track.dropped} predicted instance(s) of {who or 'untracked instances'} in video "
                f"{recorded_path(labels.videos[vi])} share a frame with another of the same track: the one of "
                "highest score is kept in each frame."
            )
            notes.append(SourceNote("not-used", str(path), message))
    training = _training(labels, path, software, cameras, videos)
    files = tuple(Path(f) for v in videos.values() for f in v.files)
    return PoseSource(
        software.reader, software.version, path, tuple(poses), training, tuple(videos.values()), files, tuple(notes)
    )


def _pose(
    path: Path,
    software: Software,
    labels: Any,
    vi: int,
    camera: str,
    who: str,
    suffix: str,
    track: _Track,
    n: int,
    video: Video | None,
) -> Pose:
    return Pose(
        name=pose_name(camera, suffix),
        camera=camera,
        skeleton=_skeleton(track.skeleton, skeleton_name(camera, suffix)),
        table=ArrayPose(_pose_array(track, n)),
        source=str(path),
        source_software=software.name,
        individual=who,
        video=video.name if video else None,
        original_videos=(recorded_path(labels.videos[vi]),),
        source_software_version=software.version,
        dimensions=video.frame_size if video else None,
        description=f"Keypoints of {who or 'the animal'} predicted by {software.name}, {path.name}.",
    )


def _training(
    labels: Any, path: Path, software: Software, cameras: Sequence[str], videos: dict[int, Video]
) -> tuple[PoseTraining, ...]:
    """User-labeled instances: one PoseTraining per skeleton."""
    index = {id(v): i for i, v in enumerate(labels.videos)}
    by_skeleton: dict[int, list[LabeledFrame]] = {}
    for frame in labels.labeled_frames:
        users = [inst for inst in frame.instances if not _predicted(inst)]
        vi = index[id(frame.video)]
        for si, skeleton in enumerate(labels.skeletons):
            mine = tuple(_points(inst)[0] for inst in users if inst.skeleton is skeleton)
            if mine:
                video = videos.get(vi)
                recorded = recorded_path(labels.videos[vi])
                by_skeleton.setdefault(si, []).append(
                    LabeledFrame(int(frame.frame_idx), mine, video.name if video else None, recorded)
                )
    out = []
    for si, frames in by_skeleton.items():
        suffix = "" if len(by_skeleton) == 1 else str(si)
        skeleton = _skeleton(labels.skeletons[si], f"SkeletonTraining{suffix}")
        out.append(PoseTraining(f"PoseTraining{suffix}", skeleton, tuple(frames), str(path), software.name))
    return tuple(out)


def is_analysis_h5(path: Path) -> bool:
    """SLEAP's analysis export: an HDF5 file with `tracks` and `node_names` (h5py, names only)."""
    if path.suffix.lower() not in (".h5", ".hdf5") or head(path, 8) != HDF5_MAGIC:
        return False
    try:
        import h5py

        with h5py.File(path, "r") as f:
            return "tracks" in f and "node_names" in f and "track_occupancy" in f
    except Exception:
        return False


def is_slp(path: Path) -> bool:
    """A SLEAP labels file: `.slp`, HDF5 with a `metadata` group (or a zip package, `.pkg.slp` too)."""
    if path.suffix.lower() != ".slp":
        return False
    magic = head(path, 8)
    if magic == HDF5_MAGIC:
        try:
            import h5py

            with h5py.File(path, "r") as f:
                return "metadata" in f
        except Exception:
            return False
    return False


class SleapReader(ReaderBase):
    name = "sleap"
    description = "SLEAP labels (.slp) and analysis exports (.analysis.h5)"
    suffixes = (".slp", ".h5")
    requires = (BEHAVIOR,)
    verified = "real"  # tests/test_pose_readers.py: the real anipose back camera (.slp, .analysis.h5, video)
    manufacturer = "SLEAP (Talmo lab)"
    note = "the video the file names (or of that name beside it) times it; else --set pose.rate"
    unreadable_advice = "Check that it is a complete SLEAP file (it may be truncated)."

    def probe(self, path: Path) -> Match:
        try:
            return Match.CONTENT if path.is_file() and (is_slp(path) or is_analysis_h5(path)) else Match.NO
        except Exception:
            return Match.NO

    def read(self, path: Path, options: ReadOptions) -> Session:
        import sleap_io

        with self.reading(path):
            if path.suffix.lower() == ".slp":
                labels = sleap_io.load_slp(str(path), open_videos=False)
            elif is_analysis_h5(path):
                labels = sleap_io.load_analysis_h5(str(path))
            else:
                raise SourceError(f"{path}: not a SLEAP file (.slp, or an analysis .h5 with tracks and node_names).")
            version = str((labels.provenance or {}).get("sleap_version", "") or "")
            software = Software(self.name, "SLEAP", version)
            if not labels.labeled_frames:
                raise SourceError(f"{path}: holds no labeled or predicted frames: there is no pose to convert.")
            return labels_source(labels, path, software).session()
