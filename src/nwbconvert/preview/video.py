"""One frame of a video: from an external file (PyAV, seeking to the frame) or from an ImageSeries' own data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg")


def external_frame(path: Path, index: int) -> np.ndarray:
    """Frame `index` (from 0) of a video file as (height, width, 3) RGB, decoded from the first frame on:
    frames decoded after a seek come out wrong in some real files (so the pose picks an early frame)."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        last = None
        for i, frame in enumerate(container.decode(stream)):
            last = frame
            if i >= index:
                break
        if last is None:
            raise ValueError(f"{path.name} holds no frame that can be decoded")
        return np.asarray(last.to_ndarray(format="rgb24"))


def series_frame(series: Any, index: int, nwb_path: Path) -> tuple[np.ndarray, str]:
    """Frame `index` of an ImageSeries: its external file (relative to the NWB file) or its data."""
    files = list(series.external_file[:]) if getattr(series, "external_file", None) is not None else []
    if files:
        starting = np.asarray(series.starting_frame[:]) if series.starting_frame is not None else np.zeros(1, int)
        which = int(np.searchsorted(starting, index, side="right") - 1) if len(starting) == len(files) else 0
        local = index - int(starting[which]) if len(starting) == len(files) else index
        path = resolve(str(files[which]), nwb_path)
        if path is None:
            raise FileNotFoundError(f"the video {files[which]} of {series.name} is not beside the NWB file")
        return external_frame(path, local), f"frame {local} of {path.name}"
    frame = np.asarray(series.data[index])
    return (frame.T if frame.ndim == 2 else frame.transpose(1, 0, 2)), f"frame {index} of {series.name}"


def resolve(name: str, nwb_path: Path) -> Path | None:
    """A video named in a file: as given, or relative to the NWB file's folder, or by its name in that folder."""
    given = Path(name)
    for candidate in (given, nwb_path.parent / given, nwb_path.parent / given.name):
        if candidate.is_file():
            return candidate
    return None


def sibling_video(nwb_path: Path) -> Path | None:
    """A video beside the NWB file whose name begins the file's name (DeepLabCut names its output
    <video>DLC_<scorer>...)."""
    folder = nwb_path.parent
    try:
        videos = sorted(p for p in folder.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file())
    except OSError:
        return None
    matching = [p for p in videos if nwb_path.name.startswith(p.stem)]
    return max(matching, key=lambda p: len(p.stem)) if matching else None
