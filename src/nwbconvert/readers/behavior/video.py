"""Behavior videos (.mp4, .avi, .mov, .mkv, ...): frame times from the container, read through PyAV (`av`).

Frame times are the container's presentation time stamps: every packet of the video stream is demuxed (never
decoded), its pts × time_base taken and the list sorted (B-frames store frames out of display order). Packets the
demuxer marks for discarding (an MP4 edit list's pre-roll) and empty flush packets show no frame and are skipped,
as a decoder does. The times stay the container's own (a file whose first frame is at 1.4 s keeps 1.4 s). When the
steps between frames are all equal (at 1 ns, NWB Inspector's rule) the times become a rate and a start.

Names (stable across runs): the camera is `Camera` + the CamelCase words of the file's stem, a word "camera" or
"cam" dropped when others remain (`m3v1mp4.mp4` -> `CameraM3v1mp4`, `back_cam.avi` -> `CameraBack`); an ALF file
(`_namespace_object.attribute.ext`) is named by its object (`_iblrig_leftCamera.raw.mp4` -> `CameraLeft`). The
video is `Video` + the camera's name (`VideoCameraLeft`).

Several files of one camera (numbered segments `cam_000.mp4`, `cam_001.mp4`: the same stem but for a trailing
number, played in the number's order) are one video. A file's times are its own when they start at or after the
previous file's end (the recorder kept one clock across files); otherwise (each file restarts at 0) they are
shifted to start one frame after the previous file's last frame.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nwbconvert.behavior import Behavior, Video
from nwbconvert.errors import MissingDependency, SourceError
from nwbconvert.imaging import FrameTimes
from nwbconvert.model import Session
from nwbconvert.readers.base import Match, ReaderBase, ReadOptions, head
from nwbconvert.readers.behavior.video_frames import DecodedFrames

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".m4v", ".mpg", ".mpeg", ".wmv", ".webm", ".flv", ".mj2")
_DROPPED_WORDS = {"camera", "cam"}
_ALF_NAME = re.compile(r"^_[A-Za-z0-9]+_(?P<object>[A-Za-z0-9]+)\.[A-Za-z0-9_]+\.")
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")  # camelCase words: leftCamera -> left, Camera
_NUMBERED = re.compile(r"^(?P<stem>.*?)[_\-. ]?(?P<number>\d+)$")


@dataclass(frozen=True, eq=False)
class ContainerTimes:
    """What one file's container says of its video stream, read without decoding."""

    path: Path
    pts: np.ndarray  # int64 presentation time stamps (in time_base), sorted: one per frame, display order
    time_base: float
    frame_duration_s: float  # the last frame's duration (or 1 / the stream's rate)
    frame_size: tuple[int, int]  # (width, height)
    codec: str

    @property
    def times_s(self) -> np.ndarray:
        return self.pts * self.time_base


def camera_name(path: Path | str) -> str:
    """The camera's stable name from a video's file name (module docstring)."""
    name = Path(path).name
    alf = _ALF_NAME.match(name)
    stem = alf.group("object") if alf else Path(name).stem
    return "Camera" + _camel(stem)


def _camel(stem: str) -> str:
    words = [w for part in re.split(r"[^A-Za-z0-9]+", stem) for w in _WORD.findall(part)]
    kept = [w for w in words if w.lower() not in _DROPPED_WORDS] or words
    return "".join(w[0].upper() + w[1:] for w in kept) or "Video"


def video_name(camera: str) -> str:
    """The ImageSeries' name of a camera's video: `VideoCameraBack`."""
    return "Video" + camera


def is_video(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_SUFFIXES


def group_files(paths: Iterable[Path]) -> list[tuple[str, tuple[Path, ...]]]:
    """Video files grouped by camera, each group in playing order: numbered files sharing a stem (2 or more) are
    one camera's segments, in number order; any other file is a camera of its own. Groups in name order."""
    numbered: dict[tuple[Path, str, str], list[tuple[int, Path]]] = {}
    singles: list[Path] = []
    for path in sorted(set(paths)):
        match = _NUMBERED.match(path.stem)
        if match and match.group("stem"):
            key = (path.parent, match.group("stem"), path.suffix.lower())
            numbered.setdefault(key, []).append((int(match.group("number")), path))
        else:
            singles.append(path)
    groups: list[tuple[str, tuple[Path, ...]]] = []
    for (parent, stem, suffix), members in numbered.items():
        if len(members) == 1:
            singles.append(members[0][1])
        else:
            ordered = tuple(p for _, p in sorted(members))
            groups.append((camera_name(parent / (stem + suffix)), ordered))
    groups += [(camera_name(p), (p,)) for p in singles]
    return sorted(groups, key=lambda g: str(g[1][0]))


def _av() -> object:
    try:
        import av
    except ImportError as exc:
        raise MissingDependency("Reading videos", "av", "behavior") from exc
    return av


def container_times(path: Path) -> ContainerTimes:
    """One file's frame times from its packets' time stamps (no decoding); a file PyAV cannot open, or one with no
    video stream or no time stamps, is a SourceError in plain words."""
    av = _av()
    try:
        with av.open(str(path)) as container:  # type: ignore[attr-defined]
            if not container.streams.video:
                raise SourceError(f"{path}: the file holds no video stream (audio or data only); give a video file.")
            stream = container.streams.video[0]
            stamps, found = _stamps(container, stream)
            declared = int(stream.frames or 0)  # MP4/MOV and some AVI headers say how many frames they hold
            last_duration = _frame_duration(stream)
            size = (int(stream.codec_context.width), int(stream.codec_context.height))
            codec, base = str(stream.codec_context.name), stream.time_base
    except SourceError:
        raise
    except Exception as exc:
        raise SourceError(
            f"{path}: could not be read as a video: the container cannot be parsed or is cut short ({_plain(exc)}). "
            "Check that the file was copied completely and plays in a video player."
        ) from exc
    if not stamps:
        raise SourceError(f"{path}: the video holds no frames. Check that it is the recording you meant to give.")
    if any(s is None for s in stamps) or base is None:
        raise SourceError(
            f"{path}: the video's packets carry no time stamps, so its frame times are unknown. Re-mux it with time "
            "stamps (ffmpeg -i IN -c copy OUT.mp4), or time it by a camera TTL channel (`align:` in a session config)."
        )
    if declared and found < declared:
        raise SourceError(
            f"{path}: the video is cut short: its header declares {declared} frames but only {found} are in "
            "the file. Copy it again from where it was recorded."
        )
    pts = np.sort(np.asarray(stamps, dtype="int64"))
    return ContainerTimes(path, pts, float(base), last_duration, size, codec)


def _stamps(container: Any, stream: Any) -> tuple[list[int | None], int]:
    """Each shown frame's pts (its dts where the container gives none) and how many packets hold a frame; packets
    are not kept (their data would hold the whole video in memory)."""
    stamps: list[int | None] = []
    found = 0
    for packet in container.demux(stream):
        if not packet.size:
            continue  # the flush packet at the end
        found += 1
        if not packet.is_discard:
            pts = packet.pts
            stamps.append(pts if pts is not None else packet.dts)
    return stamps, found


def _frame_duration(stream: object) -> float:
    """One frame's duration: 1 / the stream's average (or guessed) rate, 0 when the container gives none."""
    rate = getattr(stream, "average_rate", None) or getattr(stream, "guessed_rate", None)
    return 1.0 / float(rate) if rate else 0.0


def _plain(exc: Exception) -> str:
    """FFmpeg's reason (PyAV's errors carry it as strerror), without the file name it appends."""
    text = getattr(exc, "strerror", None) or str(exc).split(":")[0]
    return str(text).strip().rstrip(".").lower() or "the data are not a video FFmpeg knows"


def concatenate(parts: Sequence[ContainerTimes]) -> np.ndarray:
    """The times of several files played one after the other (module docstring's rule)."""
    out: list[np.ndarray] = []
    end = -np.inf
    for part in parts:
        times = part.times_s
        if out and times.size and times[0] < end:
            times = times - times[0] + end
        out.append(times)
        if times.size:
            step = part.frame_duration_s or (float(np.median(np.diff(times))) if times.size > 1 else 0.0)
            end = float(times[-1]) + step
    return np.concatenate(out) if out else np.zeros(0)


def frame_times(times_s: np.ndarray) -> FrameTimes:
    """A rate and a start when every step is the same at 1 ns (NWB Inspector's `is_regular_series`), else stamps."""
    if times_s.size > 2:
        steps = np.unique(np.diff(times_s).round(9))
        if steps.size == 1 and steps[0] > 0:
            rate = (times_s.size - 1) / float(times_s[-1] - times_s[0])  # exact, not the rounded step
            return FrameTimes(t_start_s=float(times_s[0]), rate_hz=rate)
    return FrameTimes(t_start_s=float(times_s[0]) if times_s.size else 0.0, timestamps_s=times_s)


def open_videos(paths: Sequence[Path], camera: str) -> Video:
    """One camera's video of one or several files (in playing order), timed from the containers."""
    if not paths:
        raise SourceError(f"No video file given for camera {camera}.")
    parts = [container_times(Path(p)) for p in paths]
    sizes = {p.frame_size for p in parts}
    if len(sizes) > 1:
        raise SourceError(
            f"The video files of camera {camera} have different frame sizes ("
            + "; ".join(f"{p.path}: {p.frame_size[0]} × {p.frame_size[1]}" for p in parts)
            + "): they cannot be one video. Give them as separate sources."
        )
    return Video(
        name=video_name(camera),
        camera=camera,
        files=tuple(str(Path(p).resolve()) for p in paths),
        frame_counts=tuple(int(p.times_s.size) for p in parts),
        frame_size=parts[0].frame_size,
        times=frame_times(concatenate(parts)),
        codec=parts[0].codec,
        frames=DecodedFrames(tuple(parts)),
        description=f"Behavior video of camera {camera} ({parts[0].codec}, {len(parts)} file(s)).",
    )


def open_video(path: Path, camera: str) -> Video:
    """One video file of `camera` (named `Video` + camera), timed from its container without decoding."""
    return open_videos([path], camera)


def all_times(video: Video) -> np.ndarray:
    """Every frame's time of a video (its stamps, or start + i / rate)."""
    if video.times.timestamps_s is not None:
        return np.asarray(video.times.timestamps_s, dtype="float64")
    rate = video.times.rate_hz or 0.0
    return video.times.t_start_s + np.arange(video.n_frames) / rate if rate else np.zeros(video.n_frames)


_MAGIC = ((4, b"ftyp"), (0, b"RIFF"), (0, b"\x1a\x45\xdf\xa3"), (0, b"\x00\x00\x01\xba"), (0, b"FLV"))


def _video_files_in(folder: Path) -> list[Path] | None:
    """The video files of a folder holding only videos (at its top level); None otherwise."""
    try:
        entries = [p for p in folder.iterdir() if not p.name.startswith(".")]
    except OSError:
        return None
    if not entries or any(not p.is_file() or not is_video(p) for p in entries):
        return None
    return entries


class VideoReader(ReaderBase):
    name = "video"
    description = "behavior video (.mp4, .avi, .mov, .mkv, ...; a folder of one or several cameras' videos)"
    suffixes = VIDEO_SUFFIXES
    requires = (("av", "behavior"),)
    verified = "real"  # tests/test_video.py: the DeepLabCut, Lightning Pose and SLEAP videos of ../shared/realdata
    input_kind = "file or folder"
    manufacturer = "any camera (read through PyAV / FFmpeg)"

    def probe(self, path: Path) -> Match:
        """CONTENT for a video file whose first bytes are a known container (MP4/MOV, AVI, Matroska/WebM, MPEG,
        FLV), SUFFIX for another video suffix; a folder holding only video files is CONTENT."""
        try:
            if path.is_dir():
                return Match.CONTENT if _video_files_in(path) else Match.NO
            if not is_video(path):
                return Match.NO
        except OSError:
            return Match.NO
        start = head(path, 12)
        return Match.CONTENT if any(start[o : o + len(m)] == m for o, m in _MAGIC) else Match.SUFFIX

    def read(self, path: Path, options: ReadOptions) -> Session:
        from nwbconvert.provenance import describe_files

        files = _video_files_in(path) if path.is_dir() else [path]
        if not files:
            raise SourceError(f"{path}: no video file found (give a video file or a folder holding only videos).")
        videos = tuple(open_videos(group, camera) for camera, group in group_files(files))
        av = _av()
        return Session(
            reader=self.name,
            reader_version=str(getattr(av, "__version__", "")),
            source=str(path),
            recordings=(),
            source_files=describe_files(Path(f) for v in videos for f in v.files),
            behavior=Behavior(videos=videos),
        )
