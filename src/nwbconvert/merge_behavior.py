"""The behavior part of `merge.py`: names suffixed, times shifted, parts joined (videos, pose, tables, signals)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from nwbconvert.behavior import Behavior
from nwbconvert.imaging import FrameTimes


def named(behavior: Behavior, name: str) -> Behavior:
    """Append `name` to every camera, video, pose, training set, table (but `trials`) and signal name, and to the
    video and camera each pose names."""
    return Behavior(
        videos=tuple(replace(v, name=v.name + name, camera=v.camera + name) for v in behavior.videos),
        poses=tuple(
            replace(p, name=p.name + name, camera=p.camera + name, video=p.video and p.video + name)
            for p in behavior.poses
        ),
        training=tuple(
            replace(t, name=t.name + name, frames=tuple(replace(f, video=f.video and f.video + name) for f in t.frames))
            for t in behavior.training
        ),
        tables=tuple(t if t.name == "trials" else replace(t, name=t.name + name) for t in behavior.tables),
        signals=tuple(replace(s, name=s.name + name) for s in behavior.signals),
    )


def shifted(behavior: Behavior, offset_s: float) -> Behavior:
    """Every time of `behavior` moved by `offset_s` seconds (onto the merged clock)."""
    return Behavior(
        videos=tuple(replace(v, times=shift_times(v.times, offset_s)) for v in behavior.videos),
        poses=tuple(replace(p, times=shift_times(p.times, offset_s)) for p in behavior.poses),
        training=behavior.training,
        tables=tuple(replace(t, start_s=t.start_s + offset_s, stop_s=t.stop_s + offset_s) for t in behavior.tables),
        signals=tuple(replace(s, times=shift_times(s.times, offset_s)) for s in behavior.signals),
    )


def shift_times(times: FrameTimes, offset_s: float) -> FrameTimes:
    """`times` moved by `offset_s`; times not known yet (no rate, no stamps) stay unknown."""
    stamps = None if times.timestamps_s is None else times.timestamps_s + offset_s
    return replace(times, t_start_s=times.t_start_s + offset_s, timestamps_s=stamps)


def joined(parts: Sequence[Behavior]) -> Behavior:
    return Behavior(
        videos=tuple(v for b in parts for v in b.videos),
        poses=tuple(p for b in parts for p in b.poses),
        training=tuple(t for b in parts for t in b.training),
        tables=tuple(t for b in parts for t in b.tables),
        signals=tuple(s for b in parts for s in b.signals),
    )


def names(behavior: Behavior) -> set[tuple[str, str]]:
    """(kind, name) of everything that must be unique in one file (merge._check_unique)."""
    found = {("video", v.name) for v in behavior.videos} | {("pose estimation", p.name) for p in behavior.poses}
    found |= {("pose training", t.name) for t in behavior.training}
    found |= {("interval table", t.name) for t in behavior.tables}
    return found | {("behavioral signal", s.name) for s in behavior.signals}
