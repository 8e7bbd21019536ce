"""SLEAP labels and the other formats sleap-io writes, for the pose readers' tests: a sleap-io `Labels` of random
keypoints on a generated video (predicted instances on every frame, one per track, and user instances on a few
frames), saved by sleap-io itself (.slp, analysis .h5, JABS .h5, Label Studio / COCO .json, Ultralytics, CSV);
AlphaTracker's JSON (sleap-io has no writer for it) in its own layout."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nwbconvert.synthetic.pose_video import write_video

NODES = ("nose", "head", "tail")
EDGES = (("nose", "head"), ("head", "tail"))


def sleap_labels(
    video_path: Path,
    n_frames: int,
    tracks: Sequence[str] = ("mouse1", "mouse2"),
    user_frames: Sequence[int] = (0, 3),
    skeleton: Any = None,
    seed: int = 0,
) -> Any:
    """Labels on a video written at `video_path` (`n_frames` frames): predicted instances of each track on every
    frame (point scores in [0, 1], a few points missing) and user instances on `user_frames`."""
    import sleap_io as sio

    rng = np.random.default_rng(seed)
    if not video_path.exists():
        write_video(video_path, n_frames)
    video = sio.Video.from_filename(str(video_path))
    skeleton = skeleton or sio.Skeleton(nodes=list(NODES), edges=[list(e) for e in EDGES], name="mouse")
    n_nodes = len(skeleton.nodes)
    known = [sio.Track(name=t) for t in tracks]
    frames = []
    for i in range(n_frames):
        instances: list[Any] = []
        for track in known:
            points = rng.uniform(0, 48, size=(n_nodes, 2))
            points[rng.uniform(size=n_nodes) < 0.1] = np.nan
            scores = rng.uniform(0.05, 1, size=n_nodes)
            instances.append(
                sio.PredictedInstance.from_numpy(
                    points_data=points, skeleton=skeleton, point_scores=scores, score=float(scores.mean()), track=track
                )
            )
        if i in user_frames:
            for track in known:
                instances.append(
                    sio.Instance.from_numpy(rng.uniform(0, 48, size=(n_nodes, 2)), skeleton=skeleton, track=track)
                )
        frames.append(sio.LabeledFrame(video=video, frame_idx=i, instances=instances))
    return sio.Labels(labeled_frames=frames, videos=[video], skeletons=[skeleton], tracks=known)


def write_slp(folder: Path, n_frames: int = 12, tracks: Sequence[str] = ("mouse1", "mouse2")) -> Path:
    """folder/session.slp beside folder/back.mp4 (and the same labels as session.analysis.h5)."""
    import sleap_io as sio

    labels = sleap_labels(folder / "back.mp4", n_frames, tracks)
    sio.save_slp(labels, str(folder / "session.slp"))
    return folder / "session.slp"


def write_analysis_h5(folder: Path, n_frames: int = 12, tracks: Sequence[str] = ("mouse1", "mouse2")) -> Path:
    import sleap_io as sio

    labels = sleap_labels(folder / "back.mp4", n_frames, tracks, user_frames=())
    sio.save_analysis_h5(labels, str(folder / "session.analysis.h5"))
    return folder / "session.analysis.h5"


def write_jabs(folder: Path, n_frames: int = 12) -> Path:
    """folder/arena_pose_est_v5.h5 (JABS's 12-keypoint mouse, two mice) beside folder/arena.avi."""
    import sleap_io as sio
    from sleap_io.io.jabs import JABS_DEFAULT_SKELETON

    labels = sleap_labels(folder / "arena.avi", n_frames, ("1", "2"), user_frames=(), skeleton=JABS_DEFAULT_SKELETON)
    sio.save_jabs(labels, 5)  # written beside the video: arena_pose_est_v5.h5
    return folder / "arena_pose_est_v5.h5"


def write_labelstudio(folder: Path, n_frames: int = 6) -> Path:
    import sleap_io as sio

    labels = sleap_labels(folder / "back.mp4", n_frames, ("mouse1",), user_frames=tuple(range(0, n_frames, 2)))
    labels = _user_only(labels)
    sio.save_labelstudio(labels, str(folder / "tasks.json"))
    return folder / "tasks.json"


def write_coco(folder: Path, n_frames: int = 6) -> Path:
    """COCO keypoints (annotations.json) over images exported from the video (images/)."""
    import imageio.v3 as iio
    from sleap_io.io import coco

    labels = _user_only(sleap_labels(folder / "back.mp4", n_frames, ("mouse1",), user_frames=tuple(range(n_frames))))
    names = [f"images/back_{f.frame_idx:04d}.png" for f in labels.labeled_frames]
    (folder / "images").mkdir(exist_ok=True)
    for name, frame in zip(names, labels.labeled_frames):
        iio.imwrite(folder / name, np.asarray(frame.video[frame.frame_idx]).squeeze())
    coco.write_labels(labels, folder / "annotations.json", image_filenames=names)
    return folder / "annotations.json"


def write_ultralytics(folder: Path, n_frames: int = 5) -> Path:
    """An Ultralytics YOLO pose dataset (data.yaml, images/, labels/) exported by sleap-io."""
    import sleap_io as sio

    labels = _user_only(sleap_labels(folder / "back.mp4", n_frames, ("mouse1",), user_frames=tuple(range(n_frames))))
    sio.save_ultralytics(labels, str(folder / "yolo"), split_ratios={"train": 1.0}, verbose=False)
    return folder / "yolo"


def write_sleap_csv(folder: Path, n_frames: int = 10) -> Path:
    """SLEAP's analysis CSV (track, frame_idx, instance.score, <node>.x / .y / .score)."""
    import sleap_io as sio

    labels = sleap_labels(folder / "back.mp4", n_frames, ("mouse1", "mouse2"), user_frames=())
    sio.save_csv(labels, str(folder / "back.predictions.csv"))
    return folder / "back.predictions.csv"


def _user_only(labels: Any) -> Any:
    """The labels with their predicted instances removed (label exports carry user instances)."""
    import sleap_io as sio

    frames = [
        sio.LabeledFrame(video=f.video, frame_idx=f.frame_idx, instances=list(f.user_instances))
        for f in labels.labeled_frames
        if f.user_instances
    ]
    return sio.Labels(labeled_frames=frames, videos=labels.videos, skeletons=labels.skeletons, tracks=labels.tracks)


def write_alphatracker(folder: Path, n_images: int = 4, n_animals: int = 2, n_points: int = 4, seed: int = 3) -> Path:
    """AlphaTracker's annotation JSON (a list of images, each a `Face` box followed by its `point`s per animal),
    written in its layout (sleap-io has no writer for it), with the images beside it."""
    import json

    import imageio.v3 as iio

    rng = np.random.default_rng(seed)
    frames = []
    for i in range(n_images):
        name = f"frame{i:03d}.png"
        iio.imwrite(folder / name, np.zeros((48, 64, 3), dtype="uint8"))
        annotations: list[dict[str, Any]] = []
        for _ in range(n_animals):
            x, y = (float(v) for v in rng.uniform(0, 40, size=2))
            annotations.append({"class": "Face", "height": 8.0, "width": 8.0, "x": x, "y": y})
            points = rng.uniform(0, 48, size=(n_points, 2))
            annotations += [{"class": "point", "x": float(px), "y": float(py)} for px, py in points]
        frames.append({"annotations": annotations, "class": "image", "filename": name})
    path = folder / "alphatracker.json"
    path.write_text(json.dumps(frames, indent=2))
    return path
