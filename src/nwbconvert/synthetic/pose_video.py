"""A small video for the pose readers' tests: `n` frames of a moving square, written with PyAV (mpeg4 in .mp4),
so a generated pose file has a real container beside it to be timed by."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def write_video(path: Path, n_frames: int, size: tuple[int, int] = (64, 48), fps: int = 30) -> Path:
    """`path` (.mp4 or .avi) holding `n_frames` frames of (width, height) `size` at `fps`."""
    import av

    width, height = size
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(n_frames):
            image = np.zeros((height, width, 3), dtype="uint8")
            x = (2 * i) % max(1, width - 8)
            image[8:16, x : x + 8] = 255
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
