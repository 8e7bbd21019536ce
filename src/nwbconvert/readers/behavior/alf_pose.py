"""IBL cameras: `_ibl_<cam>Camera.times` (each frame's time on the session clock), the raw video
(`raw_video_data/_iblrig_<cam>Camera.raw.mp4`), and the pose tables estimated on it (`_ibl_<cam>Camera.dlc.pqt`,
`.lightningPose.pqt`: columns `<bodypart>_x`, `_y`, `_likelihood`).

The camera times time both the video (they replace its container's stamps: they are on the session's clock) and
the poses; a video or pose whose frame count differs from the times' is refused with both counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from nwbconvert.behavior import Pose, Skeleton, Video
from nwbconvert.errors import SourceError
from nwbconvert.imaging import FrameTimes
from nwbconvert.model import SourceNote
from nwbconvert.readers.behavior.alf_objects import AlfFile, AlfObject, clock_notes, unused_note

TOOLS = {"dlc": "DeepLabCut", "lightningPose": "Lightning Pose"}  # pose attribute -> source_software
POSE_PARTS = ("_x", "_y", "_likelihood")


@dataclass(frozen=True)
class Cameras:
    videos: tuple[Video, ...]
    poses: tuple[Pose, ...]
    files: tuple[Path, ...]  # what was read (times, pose tables, videos)
    notes: tuple[SourceNote, ...]


def camera_objects(objects: Mapping[str, AlfObject]) -> list[AlfObject]:
    """The `<cam>Camera` objects (leftCamera, rightCamera, bodyCamera, ...), `_ibl_` namespace first."""
    found: dict[str, AlfObject] = {}
    for key in sorted(objects, key=lambda k: not k.startswith("ibl/")):
        obj = objects[key]
        if obj.name.endswith("Camera") and len(obj.name) > len("Camera"):
            found.setdefault(obj.name, obj)
    return list(found.values())


def camera_of(obj: AlfObject) -> str:
    """`leftCamera` -> `CameraLeft`."""
    side = obj.name[: -len("Camera")]
    return "Camera" + side[:1].upper() + side[1:]


def read_cameras(cameras: list[AlfObject], session: Path) -> Cameras:
    videos: list[Video] = []
    poses: list[Pose] = []
    files: list[Path] = []
    notes: list[SourceNote] = []
    for obj in cameras:
        camera = camera_of(obj)
        times_file = obj.find("times")
        times = np.asarray(obj.load((times_file,))["times"], dtype="float64") if times_file else None
        files += [times_file.path] if times_file else []
        video = _video(obj, camera, times, session)
        if video is not None:
            videos.append(video)
            files += [Path(f) for f in video.files]
        tables = [f for f in obj.on_session_clock() if f.attribute in TOOLS and f.extension == "pqt"]
        for table in tables:
            pose, pose_notes = _pose(obj, camera, table, times, video, len(tables) > 1)
            poses.append(pose)
            notes += pose_notes
            files.append(table.path)
        rest = tuple(f for f in obj.on_session_clock() if f is not times_file and f not in tables)
        if rest:
            notes.append(unused_note(obj, rest, "only the camera's frame times and pose tables are converted"))
        notes += clock_notes(obj)
        if times is None and tables and video is None:
            notes.append(
                SourceNote(
                    "untimed",
                    str(obj.folder),
                    f"{obj.folder}: {obj.label}.times.npy is missing and there is no raw video: the camera's pose "
                    "has no frame times (give --set pose.rate=<fps> or time it with align:).",
                )
            )
    return Cameras(tuple(videos), tuple(poses), tuple(files), tuple(notes))


def _video(obj: AlfObject, camera: str, times: np.ndarray | None, session: Path) -> Video | None:
    """The raw video of the camera, when copied, timed by the camera times (its own container's stamps without)."""
    from nwbconvert.readers.behavior.video import frame_times, open_video

    folder = session / "raw_video_data"
    path = (
        next((p for p in sorted(folder.glob(f"_iblrig_{obj.name}.raw.*")) if p.is_file()), None)
        if folder.is_dir()
        else None
    )
    if path is None:
        return None
    video = open_video(path, camera)
    if times is None:
        return video
    if len(times) != video.n_frames:
        raise SourceError(
            f"{path}: the video has {video.n_frames} frames but {obj.folder / (obj.label + '.times.npy')} gives "
            f"{len(times)} frame times: each frame takes one time, so they cannot be paired. Check that the video and "
            "the ALF folder come from the same session and that the video was copied whole."
        )
    return replace(video, times=frame_times(times))


def _pose(
    obj: AlfObject, camera: str, table: AlfFile, times: np.ndarray | None, video: Video | None, several: bool
) -> tuple[Pose, list[SourceNote]]:
    """One pose table -> a Pose timed by the camera times (or its video's, or not yet: the plan refuses it)."""
    from one.alf.io import load_file_content

    from nwbconvert.readers.behavior.pose_common import ColumnPose
    from nwbconvert.readers.behavior.video import frame_times

    frame = load_file_content(table.path)
    names = [str(c) for c in frame.columns]
    parts = [c[: -len("_x")] for c in names if c.endswith("_x") and all(c[:-2] + s in names for s in POSE_PARTS)]
    if not parts:
        raise SourceError(
            f"{table.path}: no keypoint columns found (a pose table has <bodypart>_x, <bodypart>_y and "
            f"<bodypart>_likelihood for each body part; its columns are {', '.join(names[:10]) or 'none'})."
        )
    # one copy of the keypoint columns (x, y, likelihood per part); each keypoint is picked from it when written
    values = frame[[p + s for p in parts for s in POSE_PARTS]].to_numpy(dtype="float64")
    x, y, confidence = (tuple(range(k, 3 * len(parts), 3)) for k in range(3))
    if times is not None and len(times) != len(values):
        raise SourceError(
            f"{table.path}: the pose table has {len(values)} frames but {obj.label}.times.npy gives {len(times)} "
            "frame times: each pose frame takes the time of one camera frame, so they cannot be paired. Check that "
            "both come from the same session and were copied whole."
        )
    used = {p + s for p in parts for s in POSE_PARTS}
    rest = [c for c in names if c not in used]
    notes = [
        SourceNote(
            "not-used",
            str(table.path),
            f"{table.path}: columns {', '.join(rest[:10])}{', ...' if len(rest) > 10 else ''} not converted: only "
            "each body part's _x, _y and _likelihood are pose keypoints.",
        )
    ][: 1 if rest else 0]
    software = TOOLS[table.attribute]
    suffix = software.replace(" ", "") if several else ""
    timing = frame_times(times) if times is not None else FrameTimes()
    pose = Pose(
        name=f"PoseEstimation{camera}{suffix}",
        camera=camera,
        skeleton=Skeleton(f"Skeleton{camera}{suffix}", tuple(parts)),
        table=ColumnPose(values, x, y, confidence),
        source=str(table.path),
        source_software=software,
        times=timing,
        video=video.name if video is not None else None,
        dimensions=video.frame_size if video is not None else None,
        description=f"{software} pose estimated on the IBL {obj.name} video ({table.path.name}), timed by "
        f"{obj.label}.times.",
    )
    return pose, notes
