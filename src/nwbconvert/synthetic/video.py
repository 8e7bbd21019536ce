"""Behavior videos written with PyAV, for tests and the benchmark: H.264 with B-frames (display order differs
from storage order, as in camera recordings), numbered segments of one camera, and a damaged copy."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np


def frame_image(index: int, size: tuple[int, int]) -> np.ndarray:
    """Frame `index`'s picture, (height, width, 3) uint8: a gradient and a square that moves with the index."""
    width, height = size
    y, x = np.mgrid[0:height, 0:width]
    image = np.stack([(x * 255 // max(1, width - 1)), (y * 255 // max(1, height - 1)), np.full_like(x, 128)], -1)
    side = max(2, min(width, height) // 4)
    left, top = (index * 3) % max(1, width - side), (index * 2) % max(1, height - side)
    image[top : top + side, left : left + side] = (255 - index % 256, index % 256, 0)
    return image.astype("uint8")


def write_video(
    path: Path,
    n_frames: int,
    fps: int = 30,
    size: tuple[int, int] = (64, 48),
    codec: str = "libx264",
    first_frame: int = 0,
    gop: int = 30,
) -> Path:
    """A video of `n_frames` at `fps`, the first frame's time stamp `first_frame` / fps (the MP4 muxer chooses its
    own time base, 1/15360 at 30 fps, as FFmpeg does). libx264 is set to use B-frames; mpeg4 has none."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        stream: Any = container.add_stream(codec, rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.codec_context.gop_size = gop
        if codec == "libx264":
            stream.options = {"bf": "2", "crf": "18", "preset": "veryfast"}
        for index in range(n_frames):
            frame = av.VideoFrame.from_ndarray(frame_image(first_frame + index, size), format="rgb24")
            frame.pts, frame.time_base = first_frame + index, Fraction(1, fps)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def write_segments(
    folder: Path, stem: str, counts: tuple[int, ...], fps: int = 30, continue_clock: bool = False
) -> list[Path]:
    """One camera's numbered segments `<stem>_000.mp4`, `<stem>_001.mp4`, ... of `counts` frames: each restarting
    at time 0, or (`continue_clock`) each starting where the previous ended, as a recorder with one clock writes."""
    paths = []
    first = 0
    for number, count in enumerate(counts):
        start = first if continue_clock else 0
        paths.append(write_video(folder / f"{stem}_{number:03d}.mp4", count, fps, first_frame=start))
        first += count
    return paths


def damaged_copy(source: Path, dest: Path, keep: float = 0.02) -> Path:
    """The first `keep` of `source`'s bytes with the rest zeroed: a copy cut short in transfer."""
    data = bytearray(source.read_bytes())
    cut = max(16, int(len(data) * keep))
    data[cut:] = bytes(len(data) - cut)
    dest.write_bytes(bytes(data))
    return dest
