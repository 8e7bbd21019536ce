"""`--stub SECONDS` for an ALF session: each signal, pose and unit keeps its first seconds (from its own first time);
interval tables are small and kept whole, as the behavior-table reader keeps them. A pose estimated on a video is
kept whole: the video's files are."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from nwbconvert.behavior import Behavior, BehaviorSignal, Pose
from nwbconvert.model import Sorting


def _kept(times: np.ndarray, seconds: float) -> int:
    """How many of the ascending `times` fall in the first `seconds` from the first."""
    return int(np.searchsorted(times, times[0] + seconds, side="left")) if len(times) else 0


def _signal(signal: BehaviorSignal, seconds: float) -> BehaviorSignal:
    stamps = signal.times.timestamps_s
    if stamps is None:
        return signal
    n = _kept(stamps, seconds)
    return replace(signal, data=signal.data[:n], times=replace(signal.times, timestamps_s=stamps[:n]))


def _pose(pose: Pose, seconds: float) -> Pose:
    from nwbconvert.readers.behavior.pose_common import ColumnPose

    stamps = pose.times.timestamps_s
    if pose.video is not None or stamps is None or not isinstance(pose.table, ColumnPose):
        return pose
    n = _kept(stamps, seconds)
    table = replace(pose.table, values=pose.table.values[:n])
    return replace(pose, table=table, times=replace(pose.times, timestamps_s=stamps[:n]))


def stubbed(behavior: Behavior, sortings: tuple[Sorting, ...], seconds: float) -> tuple[Behavior, tuple[Sorting, ...]]:
    first = [float(u.spike_times_s[0]) for s in sortings for u in s.units if len(u.spike_times_s)]
    end = min(first) + seconds if first else 0.0
    cut = tuple(
        replace(s, units=tuple(replace(u, spike_times_s=u.spike_times_s[u.spike_times_s < end]) for u in s.units))
        for s in sortings
    )
    kept = replace(
        behavior,
        signals=tuple(_signal(s, seconds) for s in behavior.signals),
        poses=tuple(_pose(p, seconds) for p in behavior.poses),
    )
    return kept, cut
