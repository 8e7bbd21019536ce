"""A video's decoded frames for `--video internal`, read on demand through PyAV: (frames, x, y, 3) uint8 RGB.

Frames are found by their presentation time stamp, the same stamps the frame times came from: a read seeks to
the key frame before its first frame and decodes forward, dropping frames before it. The first frame is decoded
before any seek: some H.264 files carry their parameter sets only in the first packet, and a decoder that never
saw it gives black frames (the DeepLabCut example video does). A few decoding positions
(`CURSORS` per file) stay open, so the writer's threads, which ask for neighbouring chunks in turn, continue
decoding where they stopped instead of seeking again. Memory is bounded by the frames asked for.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from nwbconvert.errors import SourceError

if TYPE_CHECKING:
    from nwbconvert.readers.behavior.video import ContainerTimes

CURSORS = 4  # decoding positions kept open per file
FORWARD = 300  # frames decoded forward rather than seeking (about a key-frame interval)


@dataclass(eq=False)
class _Cursor:
    container: Any
    frames: Iterator[Any]
    next_index: int  # the index (in the file) of the frame `frames` yields next


@dataclass(eq=False)
class DecodedFrames:
    """`behavior.VideoFrames` over one or several files (in playing order)."""

    parts: tuple[ContainerTimes, ...]
    _cursors: dict[int, list[_Cursor]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def shape(self) -> tuple[int, ...]:
        width, height = self.parts[0].frame_size
        return (sum(int(p.pts.size) for p in self.parts), width, height, 3)

    @property
    def dtype(self) -> np.dtype:
        return np.dtype("uint8")

    def read(self, start: int, stop: int) -> np.ndarray:
        """Frames [start, stop) of the whole video, (stop - start, width, height, 3)."""
        out = np.empty((max(0, stop - start), *self.shape[1:]), dtype="uint8")
        first = 0
        with self._lock:
            for number, part in enumerate(self.parts):
                lo, hi = max(start, first), min(stop, first + int(part.pts.size))
                if lo < hi:
                    out[lo - start : hi - start] = self._decode(number, lo - first, hi - first)
                first += int(part.pts.size)
        return out

    def close(self) -> None:
        with self._lock:
            for cursors in self._cursors.values():
                for cursor in cursors:
                    cursor.container.close()
            self._cursors.clear()

    def _decode(self, number: int, lo: int, hi: int) -> np.ndarray:
        part = self.parts[number]
        cursor = self._cursor(number, lo)
        frames = np.empty((hi - lo, *self.shape[1:]), dtype="uint8")
        while cursor.next_index < hi:
            frame = next(cursor.frames, None)
            if frame is None:
                raise SourceError(
                    f"{part.path}: decoding stopped at frame {cursor.next_index} of {part.pts.size} (the file is cut "
                    "short or damaged). Check that it was copied completely, or keep it external (--video external)."
                )
            index = cursor.next_index if frame.pts is None else int(np.searchsorted(part.pts, frame.pts))
            cursor.next_index = index + 1
            if lo <= index < hi:
                frames[index - lo] = frame.to_ndarray(format="rgb24").transpose(1, 0, 2)
        return frames

    def _cursor(self, number: int, lo: int) -> _Cursor:
        """An open decoding position at or shortly before frame `lo` of file `number`, else a new one seeked there."""
        cursors = self._cursors.setdefault(number, [])
        near = [c for c in cursors if c.next_index <= lo < c.next_index + FORWARD]
        if near:
            return max(near, key=lambda c: c.next_index)
        if len(cursors) >= CURSORS:
            cursors.pop(0).container.close()
        cursor = self._open(number, lo)
        cursors.append(cursor)
        return cursor

    def _open(self, number: int, lo: int) -> _Cursor:
        import av

        part = self.parts[number]
        container = av.open(str(part.path))
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        if lo > 0:  # to the key frame at or before frame lo; the frames' own time stamps then say where it is
            next(container.decode(stream), None)  # the first packet may carry the parameter sets later ones lack
            container.seek(int(part.pts[lo]), stream=stream, backward=True, any_frame=False)
        return _Cursor(container, container.decode(stream), 0)
