"""A session folder's sources on one clock (session_folder.py finds them): what is done to them between reading
and planning, and how `--dry-run` says each is placed in time.

- A source whose headers give no start time (a TIFF, a pose table, a trials CSV) is placed at the session's start
  (the earliest start the other sources give), unless `align:` times it. An IBL ephys session's ALF times count
  from the first sample of its main clock's file (ibllib syncs them to the NI-DAQ's in a 3B rig, else to a probe):
  beside that SpikeGLX recording, the ALF source is placed at the first sample of `nidq`, else of `imec0.ap`, which
  SpikeGLX counts from the start of acquisition.
- A video that a pose source brought (its reader found it beside the pose file) and that was also found as a
  source of its own is written once: the video source's copy is left out, with a note.
- A pose whose reader found no video is paired with the video source of its name (`Found.video`), found elsewhere
  in the folder: its frames take that video's frame times.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from nwbconvert.model import Session, SourceNote
from nwbconvert.session_folder import Found, Role, SessionFolder, Unplaced

if TYPE_CHECKING:
    from nwbconvert.align import Alignment
    from nwbconvert.imaging import FrameTimes
    from nwbconvert.merge import Merged, Part
    from nwbconvert.metadata.model import NwbMetadata


UNKNOWN_START = dt.datetime(1900, 1, 1, tzinfo=dt.timezone.utc)  # no source gives one: the metadata must
ALF_READER = "ibl-alf"
MAIN_CLOCKS = ("nidq", "imec0.ap")  # streams whose first sample an IBL ephys session's ALF times count from, by rank


def placed_at_start(parts: Sequence[Part]) -> list[Part]:
    """Parts whose headers give no start time (and no start_time was given) placed at the earliest start the
    others give: their times count from the session's start. When none gives one, every part starts at the
    session's start, which the metadata must give (`linked` takes the placeholder out again)."""
    starts = [p.start_time or p.session.header.session_start_time for p in parts]
    known = [s for s in starts if s is not None]
    if len({s.tzinfo is None for s in known}) > 1:
        return list(parts)  # zones mixed: merge.py says what to give
    earliest = min(known, default=UNKNOWN_START)
    probe = _main_clock_start(parts, starts)
    placed = [probe if probe is not None and p.session.reader == ALF_READER else earliest for p in parts]
    return [p if s is not None else replace(p, start_time=at) for p, s, at in zip(parts, starts, placed)]


def _main_clock_start(parts: Sequence[Part], starts: Sequence[dt.datetime | None]) -> dt.datetime | None:
    """When the first sample of the main clock (`main_clock`) was: its source's start plus where the stream's first
    segment begins on that source's clock (None without a main clock, or when its source gives no start)."""
    stream = main_clock([p.session for p in parts])
    for part, start in zip(parts, starts):
        first = [r.segments[0].t_start_s for r in part.session.recordings if r.stream_id == stream and r.segments]
        if start is not None and first:
            return start + dt.timedelta(seconds=min(first))
    return None


def main_clock(sessions: Sequence[Session]) -> str | None:
    """The stream of MAIN_CLOCKS that the sources `sessions` hold, best-ranked first."""
    streams = {r.stream_id for s in sessions for r in s.recordings}
    return next((c for c in MAIN_CLOCKS if c in streams), None)


def reported(
    folder: SessionFolder, merged: Merged, alignments: Sequence[Alignment], metadata: NwbMetadata, dry_run: bool
) -> tuple[SessionFolder, Session]:
    """`folder` with how each source is placed in time, in words, and the session to plan. A dry run lists a pose
    with no frame times (no video, no align:, no pose.rate) as not placed and plans without it; a conversion
    keeps it, so that planning refuses it (exit 4, naming the key)."""
    clock = main_clock(merged.parts)
    rows = [
        _timing(f, read, offset, alignments, metadata, clock)
        for f, read, offset in zip(folder.sources, merged.parts, merged.offsets_s)
    ]
    session = merged.session
    behavior = session.behavior
    untimed = {p.name for p in behavior.poses if not _timed(p.times) and not p.video} if dry_run else set()
    if untimed and metadata.pose.rate is None:
        why = "a pose with no video of its name, no align: and no pose.rate: give --set pose.rate=FPS or its video"
        lost = [Unplaced(f.path, why) for f, row in zip(folder.sources, rows) if row.startswith("untimed")]
        poses = tuple(p for p in behavior.poses if p.name not in untimed)
        session = replace(session, behavior=replace(behavior, poses=poses))
        folder = replace(folder, unplaced=folder.unplaced + tuple(lost))
    return replace(folder, timing=tuple(rows)), session


def _timed(times: FrameTimes) -> bool:
    return times.timestamps_s is not None or bool(times.rate_hz)


def _timing(
    found: Found,
    read: Session,
    offset_s: float,
    alignments: Sequence[Alignment],
    metadata: NwbMetadata,
    clock: str | None,
) -> str:
    own = {found.name} if found.name else set()
    own |= {s + (found.name or "") for s in _series(read)}
    aligned = [a for a in alignments if a.target in own]
    if aligned:
        return f"frame times: the {aligned[0].pulses} of {aligned[0].channel} (align:)"
    poses = read.behavior.poses
    if found.role is Role.POSE and poses:
        if all(_timed(p.times) for p in poses):
            return "its own frame times"
        if all(p.video for p in poses):
            return f"the frame times of its video {found.video.name if found.video else poses[0].video}"
        if metadata.pose.rate is not None:
            return f"pose.rate: {metadata.pose.rate:g} Hz from the session start"
        return "untimed: no video of its name, no align:, no pose.rate (exit 4 when converted)"
    start = read.header.session_start_time
    if start is None and clock and read.reader == ALF_READER:
        return f"IBL ALF times: placed at the first sample of {clock} (+{offset_s:g} s), where they count from"
    if start is None:
        return f"no start time in its headers: placed at the session start (+{offset_s:g} s)"
    return f"header start {start.isoformat()} (+{offset_s:g} s)"


def _series(session: Session) -> list[str]:
    """The names of what a source brings that `align:` may target."""
    b = session.behavior
    names = [m.name for m in session.imaging.movies] + [g.name for g in session.imaging.segmentations]
    return names + [v.name for v in b.videos] + [p.name for p in b.poses]


def _resolved(path: str | Path) -> Path:
    try:
        return Path(path).resolve()
    except OSError:
        return Path(path)


def prepared(parts: Sequence[Part]) -> list[Part]:
    """The parts of a session folder before they are merged: videos written once, starts placed."""
    return placed_at_start(_videos_once(parts))


def _videos_once(parts: Sequence[Part]) -> list[Part]:
    """A video source's videos that another source (a pose's, an ALF session's) brought too are left out of the
    video source, with a note."""
    brought = {
        _resolved(f) for p in parts if p.session.reader != "video" for v in p.session.behavior.videos for f in v.files
    }
    out = []
    for part in parts:
        behavior = part.session.behavior
        if part.session.reader != "video" or not behavior.videos:
            out.append(part)
            continue
        kept = tuple(v for v in behavior.videos if not {_resolved(f) for f in v.files} <= brought)
        if len(kept) == len(behavior.videos):
            out.append(part)
            continue
        note = SourceNote(
            "not-used",
            part.session.source,
            f"{part.session.source}: a video it holds is written once, with the source that brought it too (the "
            "pose estimated on it, or the session it was timed by).",
        )
        session = replace(part.session, behavior=replace(behavior, videos=kept), notes=(*part.session.notes, note))
        out.append(replace(part, session=session))
    return out


def linked(session: Session, parts: Sequence[Part], found: Sequence[Found]) -> Session:
    """The merged `session` with each pose that has no video paired with the video source found by its name (and
    no start time when no source gave one)."""
    if session.header.session_start_time is UNKNOWN_START:
        session = replace(session, header=replace(session.header, session_start_time=None))
    videos = {_resolved(f): v.name for v in session.behavior.videos for f in v.files[:1]}
    wanted: dict[str, str] = {}
    for part, f in zip(parts, found):
        target = videos.get(_resolved(f.video)) if f.video is not None else None
        if target is None:
            continue
        for pose in part.session.behavior.poses:
            if pose.video is None:
                wanted[pose.name + (part.name or "")] = target
    if not wanted:
        return session
    poses = tuple(replace(p, video=wanted.get(p.name, p.video)) for p in session.behavior.poses)
    return replace(session, behavior=replace(session.behavior, poses=poses))
