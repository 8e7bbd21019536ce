"""Pose (ndx-pose): the skeleton over a frame of its video (in the file or external) and keypoint trajectories."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nwbconvert.preview.arrays import series_times, strings
from nwbconvert.preview.model import Figure, Section
from nwbconvert.preview.plot import finish, new_figure, spread
from nwbconvert.preview.video import external_frame, resolve, series_frame, sibling_video

SAMPLES = 100_000  # samples of each keypoint read for the trajectories
SEARCH = 1000  # samples searched for a frame where every keypoint is found
EARLY = 300  # ... from the middle, or from this sample when earlier (a video is decoded up to that frame)


@dataclass(frozen=True)
class Keypoints:
    names: list[str]
    series: list[Any]
    edges: list[tuple[int, int]]


def pose_section(nwb: Any, path: Path) -> Section | None:
    poses = [o for o in nwb.objects.values() if type(o).__name__ == "PoseEstimation"]
    if not poses:
        return None
    figures: list[Figure] = []
    notes: list[str] = []
    for pose in poses:
        points = _keypoints(pose)
        if not points.series:
            notes.append(f"{pose.name} holds no keypoint series.")
            continue
        skeleton, note = skeleton_figure(nwb, pose, points, path)
        figures += [skeleton, trajectories(pose, points)]
        notes += [note] if note else []
    return Section("pose", "Pose", figures=tuple(figures), notes=tuple(notes))


def _keypoints(pose: Any) -> Keypoints:
    """The keypoint series in the skeleton's node order (series no node names come last) and its edges."""
    series = dict(pose.pose_estimation_series.items())
    skeleton = getattr(pose, "skeleton", None)
    nodes = strings(skeleton.nodes[:]) if skeleton is not None and skeleton.nodes is not None else []
    matched = {i: name for i, node in enumerate(nodes) if (name := _match(node, series)) is not None}
    names = list(matched.values()) + [n for n in series if n not in matched.values()]
    position = {node: names.index(name) for node, name in matched.items()}
    edges: list[tuple[int, int]] = []
    if skeleton is not None and getattr(skeleton, "edges", None) is not None:
        pairs = np.asarray(skeleton.edges[:]).reshape(-1, 2)
        edges = [(position[int(a)], position[int(b)]) for a, b in pairs if int(a) in position and int(b) in position]
    return Keypoints(names, [series[n] for n in names], edges)


def _match(node: str, series: dict[str, Any]) -> str | None:
    if node in series:
        return node
    return next((name for name in series if name.endswith(f"_{node}")), None)


def _frame_index(points: Keypoints) -> int:
    """A sample from the middle (or from sample EARLY) on where every keypoint is found, else that one."""
    length = min(int(s.data.shape[0]) for s in points.series)
    middle = min(length // 2, EARLY)
    window = np.stack([np.asarray(s.data[middle : middle + SEARCH, :2], dtype="float64") for s in points.series])
    complete = np.isfinite(window).all(axis=(0, 2))
    return middle + int(np.argmax(complete)) if complete.any() else middle


def _video_frame(nwb: Any, pose: Any, index: int, time: float, path: Path) -> tuple[np.ndarray | None, str]:
    """The video frame at pose sample `index` (at `time`): the linked ImageSeries by time, else the pose's
    original video or one beside the file, frame for sample."""
    video = getattr(pose, "source_video", None)
    try:
        if video is not None and (video.rate or video.timestamps is not None):
            stamps = series_times(video, 0, int(video.data.shape[0]) if video.data is not None else 0)
            frame = round((time - float(video.starting_time or 0.0)) * float(video.rate)) if video.rate else 0
            if video.timestamps is not None:
                frame = int(np.clip(np.searchsorted(stamps, time), 0, max(len(stamps) - 1, 0)))
            return series_frame(video, max(frame, 0), path)
        names = strings(pose.original_videos[:]) if getattr(pose, "original_videos", None) is not None else []
        found = next((p for p in (resolve(n, path) for n in names) if p is not None), None) or sibling_video(path)
        if found is None:
            return None, f"no video found (the file names {', '.join(names) or 'none'})"
        return external_frame(found, index), f"frame {index} of {found.name}"
    except Exception as exc:  # a missing or undecodable video leaves the keypoints drawn on a blank frame
        return None, f"the video frame could not be read ({exc})"


def skeleton_figure(nwb: Any, pose: Any, points: Keypoints, path: Path) -> tuple[Figure, str]:
    index = _frame_index(points)
    xy = np.stack([np.asarray(s.data[index, :2], dtype="float64") for s in points.series])
    time = float(series_times(points.series[0], index, index + 1)[0])
    frame, source = _video_frame(nwb, pose, index, time, path)
    fig = new_figure(8, 6)
    ax = fig.subplots()
    if frame is not None:
        ax.imshow(frame, cmap="gray" if frame.ndim == 2 else None)
    else:
        ax.set_facecolor("#f0f0f0")
        ax.invert_yaxis()
    for a, b in points.edges:
        ax.plot(xy[[a, b], 0], xy[[a, b], 1], color="#ffcc00", lw=2)
    from matplotlib import colormaps

    colours = colormaps["tab10"]
    for i, name in enumerate(points.names):
        ax.scatter(xy[i, 0], xy[i, 1], s=40, color=colours(i % 10), edgecolor="white", label=name, zorder=3)
    ax.legend(fontsize=7, loc="upper right")
    ax.set_title(f"{pose.name}: sample {index} at {time:.3f} s over {source}", fontsize=9)
    edges = f"{len(points.edges)} skeleton edges" if points.edges else "the skeleton has no edges"
    keypoints = f"{len(points.names)} keypoints ({', '.join(points.names)})"
    caption = f"{keypoints} at sample {index} ({time:.3f} s), {edges}; {source}."
    note = "" if frame is not None else f"{pose.name}: {source}; keypoints are drawn on a blank frame."
    return finish(fig, f"pose_{pose.name}", f"Pose: {pose.name}", caption), note


def trajectories(pose: Any, points: Keypoints) -> Figure:
    from matplotlib import colormaps

    colours = colormaps["tab10"]
    fig = new_figure(12, 4.5)
    paths, course = fig.subplots(1, 2)
    for i, (name, series) in enumerate(zip(points.names, points.series, strict=True)):
        n = int(min(series.data.shape[0], SAMPLES))
        xy = np.asarray(series.data[:n, :2], dtype="float64")
        keep = spread(n, 5000)
        paths.plot(xy[keep, 0], xy[keep, 1], lw=0.5, color=colours(i % 10), label=name)
        course.plot(series_times(series, 0, n)[keep], xy[keep, 0], lw=0.5, color=colours(i % 10))
    paths.invert_yaxis()
    paths.set_xlabel("x (px)")
    paths.set_ylabel("y (px)")
    paths.legend(fontsize=7)
    course.set_xlabel("time (s)")
    course.set_ylabel("x (px)")
    caption = f"{pose.name}: every keypoint's path (left) and x over time (right), up to {SAMPLES} samples each."
    return finish(fig, f"trajectories_{pose.name}", f"Keypoint trajectories: {pose.name}", caption)
