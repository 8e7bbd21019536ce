"""Frame times from another source's pulses (`align:` in a session config): one clock for every device.

A microscope (or a camera) that sends a TTL pulse per frame to an acquisition board (a SpikeGLX NI-DAQ digital
line, an Open Ephys TTL input) is timed by those pulses: an `Alignment` names what is timed (`target`: a source's
`name` in the session config, standing for every series it brought, or one series as `--dry-run` shows it, e.g.
TwoPhotonSeriesPlane0Green) and the event channel whose events are its frames (`channel`, as `--dry-run` shows
it, e.g. EventsXD1Nidq; `label` keeps only the events with that label, e.g. "XD1 ON", the rising edges of
SpikeGLX line XD1; without it every event of the channel is a pulse). `apply` replaces each timed series' frame
times by the pulses' times on the merged clock (merge.py), in time order.

One pulse per frame of each timed series: a series of n frames takes n pulses, and every series of a target
(each plane × channel of a movie, the traces of a segmentation) takes the same pulses. A volume scan is timed by
a pulse per volume (one frame of each plane); a trigger that fires once per plane of a volume gives n_planes
times too many pulses and is refused. Counts that differ are an error naming both (exit 3), never a silent
truncation; the one exception is `--stub`, where a shortened series takes the first pulses.

The mechanism is general: anything with frame times (`FrameTimes`) and a frame count is timed by `frame_times`;
imaging movies and segmentations are timed here, and the behavior sources (video, pose) reuse it by adding their
series to `_timed` / `_retimed`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from nwbconvert.behavior import Video
from nwbconvert.errors import SourceError, UsageError
from nwbconvert.imaging import FrameTimes, Movie
from nwbconvert.model import EventChannel, Session

if TYPE_CHECKING:
    from nwbconvert.merge import Part

T = TypeVar("T", Movie, Video)


@dataclass(frozen=True)
class Alignment:
    """What is timed by which events: one `align:` entry of a session config."""

    target: str  # a source's `name` (all its series) or a series name: TwoPhotonSeriesPlane0Green
    channel: str  # an EventChannel's name in the merged session: EventsXD1Nidq
    label: str | None = None  # only the events with this label ("XD1 ON": rising edges); None: every event
    block: int | None = None  # only the events of this source block (from 1, as the events table's `block`)

    @property
    def pulses(self) -> str:
        """'channel EventsXD1Nidq has 998 events labelled "XD1 ON"' reads `channel ... has N <pulses>`."""
        label = f" labelled {self.label!r}" if self.label is not None else ""
        return f"events{label}" + (f" in block {self.block}" if self.block is not None else "")


def source_series(parts: Sequence[Part]) -> dict[str, tuple[str, ...]]:
    """For each named source, the (merged) names of the series with frame times it brought: what a target naming
    the source stands for."""
    return {p.name: tuple(_timed(p.session, p.name)) for p in parts if p.name}


def placed(parts: Sequence[Part], alignments: Sequence[Alignment]) -> list[Part]:
    """The parts, with a source whose every series is timed by another source's pulses placed at that source's
    start: its own clock is not used, so it needs no start time and its header's (a ScanImage epoch) does not
    move the session's start; a `start_time` given for it in the config is kept. A target that names no source
    or series is refused here (UsageError), before the merge asks for starts."""
    sources = source_series(parts)
    timed = {name: 0 for p in parts for name in _timed(p.session, p.name or "")}
    channels = {e.name + (p.name or ""): p for p in parts for e in p.session.events}
    targets = [(a, set(_targets(a, timed, sources))) for a in alignments]
    out = list(parts)
    for i, part in enumerate(parts):
        if part.start_time is not None:
            continue
        series = set(_timed(part.session, part.name or "")) - _paired(part.session, part.name or "")
        mine = [a for a, covered in targets if covered & series]
        if not mine or not series <= {s for _, covered in targets for s in covered}:
            continue
        # an unknown channel is reported by `apply`: any other source's start places the part until then
        clocks = [channels[mine[0].channel]] if mine[0].channel in channels else list(parts)
        starts = [c.start_time or c.session.header.session_start_time for c in clocks if c is not part]
        start = next((s for s in starts if s is not None), None)
        out[i] = replace(part, start_time=start) if start is not None else part
    return out


def apply(
    session: Session,
    alignments: Sequence[Alignment],
    sources: Mapping[str, Sequence[str]] | None = None,
    stubbed: bool = False,
) -> Session:
    """`session` with each timed series' frame times replaced by its alignment's pulses. `sources` maps a source's
    name to its series (`source_series`); `stubbed` (--stub): a series shorter than its pulses takes the first.
    Unknown targets or channels, or a series timed twice: UsageError; counts that differ: SourceError."""
    if not alignments:
        return session
    timed = _timed(session)
    sources = sources or {}
    times: dict[str, tuple[FrameTimes, str]] = {}
    for alignment in alignments:
        pulses = pulse_times(session, alignment)
        for series in _targets(alignment, timed, sources):
            if series in times:
                raise UsageError(f"align: {series} is timed by two entries; keep one.")
            how = f"Frame times: the {alignment.pulses} of {alignment.channel} (one per frame)."
            times[series] = frame_times(pulses, timed[series], series, alignment, stubbed), how
    return _retimed(session, times)


def pulse_times(session: Session, alignment: Alignment) -> np.ndarray:
    """The times (seconds on the session clock, ascending) of the channel's events with the alignment's label."""
    channel = next((e for e in session.events if e.name == alignment.channel), None)
    if channel is None:
        known = ", ".join(f"{e.name} ({len(e)} events)" for e in session.events) or "none"
        raise UsageError(
            f"align: {alignment.target}: there is no event channel {alignment.channel!r} in the session. Event "
            f"channels (names as --dry-run shows them): {known}."
        )
    labels = np.asarray(channel.labels).astype(str)
    times = np.asarray(channel.times_s, dtype="float64")
    if alignment.label is not None:
        if alignment.label not in set(labels.tolist()):
            raise UsageError(
                f"align: {alignment.target}: channel {channel.name} has no event labelled {alignment.label!r}; "
                f"its labels: {_label_counts(channel)}."
            )
        times = times[labels == alignment.label]
    return np.sort(times[_in_block(channel, alignment, labels)], kind="stable")


def _in_block(channel: EventChannel, alignment: Alignment, labels: np.ndarray) -> np.ndarray | slice:
    """Which of the (label-selected) events are of the alignment's block; a channel whose blocks restart their
    clock (Open Ephys experiments, neo blocks) must be given one when its events span several."""
    if channel.blocks is None:
        if alignment.block not in (None, 1):
            raise UsageError(f"align: {alignment.target}: channel {channel.name} has one block; drop `block:`.")
        return slice(None)
    blocks = np.asarray(channel.blocks) + 1
    if alignment.label is not None:
        blocks = blocks[labels == alignment.label]
    if alignment.block is not None:
        if alignment.block not in set(blocks.tolist()):
            raise UsageError(
                f"align: {alignment.target}: channel {channel.name} has no {alignment.pulses}; its "
                f"blocks: {', '.join(map(str, sorted(set(blocks.tolist())))) or 'none'}."
            )
        return blocks == alignment.block
    if len(set(blocks.tolist())) > 1:
        raise UsageError(
            f"align: {alignment.target}: the {alignment.pulses} of channel {channel.name} come from blocks "
            f"{', '.join(map(str, sorted(set(blocks.tolist()))))}, each on its own clock; give `block:` (from 1)."
        )
    return slice(None)


def frame_times(
    pulses: np.ndarray, n_frames: int, series: str, alignment: Alignment, stubbed: bool = False
) -> FrameTimes:
    """The frame times of a series of `n_frames` frames timed by `pulses`: one pulse per frame, else SourceError
    naming both counts (with --stub, a shortened series takes the first pulses)."""
    if len(pulses) != n_frames and not (stubbed and n_frames < len(pulses)):
        raise SourceError(
            f"align: {series} has {n_frames} frames but channel {alignment.channel} has {len(pulses)} "
            f"{alignment.pulses}: a series takes one pulse per frame, so the frames cannot be timed by them. "
            "Check the channel and label (`label:` chooses one edge of a TTL line), and that the recording "
            "captured every frame's pulse."
        )
    stamps = np.array(pulses[:n_frames], dtype="float64")
    return FrameTimes(t_start_s=float(stamps[0]) if len(stamps) else 0.0, timestamps_s=stamps)


def _timed(session: Session, suffix: str = "") -> dict[str, int]:
    """Every series with frame times, by name (+ `suffix`, a source's name as merge.py appends it): its frame
    count (a segmentation's: its traces' frames)."""
    imaging = session.imaging
    counts = {m.name + suffix: m.n_frames for m in imaging.movies}
    counts.update({s.name + suffix: s.n_frames for s in imaging.segmentations if s.traces})
    counts.update({v.name + suffix: v.n_frames for v in session.behavior.videos})
    counts.update({p.name + suffix: p.n_frames for p in session.behavior.poses})
    return counts


def _paired(session: Session, suffix: str) -> set[str]:
    """Poses that take their video's frame times (plan_behavior.py): timed when their video is."""
    return {
        p.name + suffix
        for p in session.behavior.poses
        if p.video and p.times.rate_hz is None and p.times.timestamps_s is None
    }


def _retimed(session: Session, times: Mapping[str, tuple[FrameTimes, str]]) -> Session:
    """The series' new frame times; a movie's or a video's description says where they came from."""
    imaging, behavior = session.imaging, session.behavior
    segmentations = tuple(replace(s, times=times[s.name][0]) if s.name in times else s for s in imaging.segmentations)
    poses = tuple(replace(p, times=times[p.name][0]) if p.name in times else p for p in behavior.poses)
    return replace(
        session,
        imaging=replace(imaging, movies=_described(imaging.movies, times), segmentations=segmentations),
        behavior=replace(behavior, videos=_described(behavior.videos, times), poses=poses),
    )


def _described(series: tuple[T, ...], times: Mapping[str, tuple[FrameTimes, str]]) -> tuple[T, ...]:
    """Movies or videos with their new frame times and a description saying where they came from."""
    return tuple(
        replace(m, times=times[m.name][0], description=_joined(m.description, times[m.name][1]))
        if m.name in times
        else m
        for m in series
    )


def _targets(alignment: Alignment, timed: Mapping[str, int], sources: Mapping[str, Sequence[str]]) -> list[str]:
    """The series an alignment's target stands for: a source's (by its name) or one series."""
    if alignment.target in sources:
        series = [s for s in sources[alignment.target] if s in timed]
        if series:
            return series
        raise UsageError(f"align: source {alignment.target} has no series with frames to time.")
    if alignment.target in timed:
        return [alignment.target]
    names = ", ".join(sorted(sources)) or "none"
    series_names = ", ".join(sorted(timed)) or "none"
    raise UsageError(
        f"align: {alignment.target!r} is neither a source's name nor a series with frames. Named sources: "
        f"{names}; series with frames (names as --dry-run shows them): {series_names}."
    )


def _joined(description: str, note: str) -> str:
    return f"{description.rstrip('. ')}. {note}" if description.strip() else note


def _label_counts(channel: EventChannel, shown: int = 12) -> str:
    """A channel's labels with their counts, the most frequent first (a TTL line's few states before the many
    texts of a message channel), the rest counted: 'XD1 OFF' (12), 'XD1 ON' (11)."""
    found, counts = np.unique(np.asarray(channel.labels).astype(str), return_counts=True)
    order = np.argsort(-counts, kind="stable")[:shown].tolist()
    text = ", ".join(f"{str(found[i])!r} ({int(counts[i])})" for i in order) or "none (it has no events)"
    return text + (f", and {len(found) - shown} more" if len(found) > shown else "")
