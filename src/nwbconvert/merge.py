"""Several sources' sessions -> one Session on one clock (a session config with several `sources`).

Timing: a reader gives times in seconds from its source's header start. The merged session starts at the
earliest header start, and every other source's times (series, events, spike times) are shifted by the
difference of its header start from that one, so each series keeps its own rate and samples and lands where it
was recorded. Sources are never concatenated end to end. A header start without a zone is placed in
`timezone` before comparing; a source whose start is unknown must be given one (`start_time:` in the config).

Names: series, event tables, sortings, electrode groups and segmentations must be unique in one file; imaging
movies and segmentations are shifted like series. An imaging plane of the same name in several sources is one
plane (a movie and the segmentation made from it share their ImagingPlane); name a source to keep its planes
apart. A source given a `name` gets it appended to every name it brings (ElectricalSeriesImec0AP ->
ElectricalSeriesImec0APRig2, device imec0 -> imec0Rig2), so names are stable across runs. A name still shared by
two sources is an error naming both: nothing is renamed silently. Identical devices (same name, description,
manufacturer) are one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace

from nwbconvert import merge_behavior
from nwbconvert.errors import MetadataError, UsageError
from nwbconvert.imaging import Imaging, ImagingPlane
from nwbconvert.merge_behavior import shift_times
from nwbconvert.metadata.dandi import parse_timezone
from nwbconvert.model import Device, HeaderMetadata, Recording, Session, SourceFile


@dataclass(frozen=True)
class Part:
    """One source's session and how to place it beside the others."""

    session: Session
    name: str | None = None  # suffix for every name the source brings
    start_time: dt.datetime | None = None  # replaces the header start (unknown, or wrong in the file)


@dataclass(frozen=True)
class Merged:
    session: Session
    offsets_s: tuple[float, ...]  # per part: seconds added to its times
    parts: tuple[Session, ...]  # per part: its session as read (names and times of its source)


def merge_sessions(parts: Sequence[Part], timezone: str | None) -> Merged:
    """One Session holding every part's recordings, events, sortings, devices and files on one clock."""
    sessions = [_prepared(p) for p in parts]
    read = tuple(p.session for p in parts)
    if len(sessions) == 1:
        return Merged(sessions[0], (0.0,), read)
    starts = _starts(sessions, timezone)
    earliest = min(starts)
    offsets = tuple((start - earliest).total_seconds() for start in starts)
    shifted = [_shift(s, offset) for s, offset in zip(sessions, offsets)]
    _check_unique(shifted)
    first = shifted[0]
    header = HeaderMetadata(
        session_start_time=earliest,
        session_description=_first(s.header.session_description for s in shifted),
        subject_id=_first(s.header.subject_id for s in shifted),
        sex=_first(s.header.sex for s in shifted),
    )
    readers = list(dict.fromkeys(s.reader for s in shifted))
    session = replace(
        first,
        reader="+".join(readers),
        reader_version="+".join(dict.fromkeys(s.reader_version for s in shifted)),
        source=" + ".join(s.source for s in shifted),
        recordings=tuple(r for s in shifted for r in s.recordings),
        devices=tuple(dict.fromkeys(d for s in shifted for d in s.devices)),
        header=header,
        source_files=_files(shifted),
        events=tuple(e for s in shifted for e in s.events),
        sortings=tuple(u for s in shifted for u in s.sortings),
        imaging=_joined_imaging([s.imaging for s in shifted]),
        behavior=merge_behavior.joined([s.behavior for s in shifted]),
        notes=tuple(n for s in shifted for n in s.notes),
    )
    return Merged(session, offsets, read)


def _prepared(part: Part) -> Session:
    session = _own_devices(part.session)
    if part.start_time is not None:
        session = replace(session, header=replace(session.header, session_start_time=part.start_time))
    return _named(session, part.name) if part.name else session


def _own_devices(session: Session) -> Session:
    """Name each recording's device explicitly (the writer's fallback would pick another source's device)."""
    if not session.has_electrodes:
        return session
    devices = session.devices or (Device(session.reader, f"Recorded with {session.reader}"),)
    names = {d.name for d in devices}
    recordings = tuple(r if r.device in names else replace(r, device=devices[0].name) for r in session.recordings)
    return replace(session, devices=devices, recordings=recordings)


def _named(session: Session, name: str) -> Session:
    """Append `name` to every series, stream, event table, sorting, electrode group and device name."""
    renamed = {r.name: r.name + name for r in session.recordings} | {
        r.stream_id: f"{r.stream_id}@{name}" for r in session.recordings
    }
    recordings = tuple(
        replace(
            r,
            name=r.name + name,
            stream_id=f"{r.stream_id}@{name}",
            device=r.device + name,
            channels=tuple(c if c.group == "default" else replace(c, group=c.group + name) for c in r.channels),
        )
        for r in session.recordings
    )
    sortings = tuple(
        replace(s, name=s.name + name, recording=renamed.get(s.recording, s.recording) if s.recording else None)
        for s in session.sortings
    )
    return replace(
        session,
        recordings=recordings,
        devices=tuple(replace(d, name=d.name + name) for d in session.devices),
        events=tuple(replace(e, name=e.name + name) for e in session.events),
        sortings=sortings,
        imaging=_named_imaging(session.imaging, name),
        behavior=merge_behavior.named(session.behavior, name),
    )


def _starts(sessions: list[Session], timezone: str | None) -> list[dt.datetime]:
    zone = parse_timezone(timezone) if timezone else None
    starts: list[dt.datetime] = []
    problems: list[str] = []
    for i, s in enumerate(sessions):
        start = s.header.session_start_time
        if start is None:
            problems.append(
                f"sources[{i}] ({s.source}): its headers give no start time, so its times cannot be placed beside "
                "the other sources'; give the source a start_time (e.g. start_time: 2026-01-15T10:00:00+01:00)"
            )
            continue
        starts.append(start.replace(tzinfo=zone) if start.tzinfo is None and zone is not None else start)
    if not problems and len({start.tzinfo is None for start in starts}) > 1:
        naive = [f"sources[{i}] ({s.source})" for i, (s, t) in enumerate(zip(sessions, starts)) if t.tzinfo is None]
        problems.append(
            f"{', '.join(naive)} start at a time without a zone while other sources' carry one, so they cannot be "
            "ordered; give the zone the headers were written in (timezone: Area/City, or --timezone), or a full "
            "start_time for the source"
        )
    if problems:
        raise MetadataError("Cannot merge the sources on one clock: " + "; ".join(problems) + ".")
    return starts


def _shift(session: Session, offset_s: float) -> Session:
    if offset_s == 0.0:
        return session
    return replace(
        session,
        recordings=tuple(_shift_recording(r, offset_s) for r in session.recordings),
        events=tuple(replace(e, times_s=e.times_s + offset_s) for e in session.events),
        sortings=tuple(
            replace(s, units=tuple(replace(u, spike_times_s=u.spike_times_s + offset_s) for u in s.units))
            for s in session.sortings
        ),
        imaging=_shift_imaging(session.imaging, offset_s),
        behavior=merge_behavior.shifted(session.behavior, offset_s),
    )


def _shift_recording(rec: Recording, offset_s: float) -> Recording:
    return replace(rec, segments=tuple(replace(seg, t_start_s=seg.t_start_s + offset_s) for seg in rec.segments))


def _check_unique(sessions: list[Session]) -> None:
    """Every name that two sources share (identical devices excepted) -> one UsageError listing them."""
    owners: dict[tuple[str, str], int] = {}
    devices: dict[str, tuple[Device, int]] = {}
    clashes: list[str] = []
    for i, s in enumerate(sessions):
        names = {("series", r.name) for r in s.recordings}
        names |= {("electrode group", c.group) for r in s.recordings for c in r.channels if c.group != "default"}
        names |= {("event table", e.name) for e in s.events} | {("sorting", u.name) for u in s.sortings}
        names |= {("series", m.name) for m in s.imaging.movies}  # a plane may be shared: see _joined_planes
        names |= {("segmentation", g.name) for g in s.imaging.segmentations}
        names |= merge_behavior.names(s.behavior)
        for key in sorted(names):
            j = owners.setdefault(key, i)
            if j != i:
                clashes.append(f"{key[0]} {key[1]} (sources[{j}] and sources[{i}])")
        for d in s.devices:
            other, j = devices.setdefault(d.name, (d, i))
            if other != d:
                clashes.append(f"device {d.name} (different devices in sources[{j}] and sources[{i}])")
    if clashes:
        raise UsageError(
            "The sources cannot go into one file: these names come from more than one source: "
            + "; ".join(clashes)
            + ". Give each such source a name in the config (e.g. name: Run2): it is appended to every series, "
            "event table, sorting, electrode group and device name of that source (ElectricalSeriesImec0APRun2)."
        )


def _named_imaging(imaging: Imaging, name: str) -> Imaging:
    """Append `name` to every imaging plane, movie and segmentation name (and to the plane and device they name)."""
    return Imaging(
        planes=tuple(replace(p, name=p.name + name, device=p.device and p.device + name) for p in imaging.planes),
        movies=tuple(replace(m, name=m.name + name, plane=m.plane + name) for m in imaging.movies),
        segmentations=tuple(replace(g, name=g.name + name, plane=g.plane + name) for g in imaging.segmentations),
    )


def _shift_imaging(imaging: Imaging, offset_s: float) -> Imaging:
    return Imaging(
        planes=imaging.planes,
        movies=tuple(replace(m, times=shift_times(m.times, offset_s)) for m in imaging.movies),
        segmentations=tuple(replace(g, times=shift_times(g.times, offset_s)) for g in imaging.segmentations),
    )


def _joined_imaging(parts: Sequence[Imaging]) -> Imaging:
    filmed = [(p, p.name in {m.plane for m in i.movies}) for i in parts for p in i.planes]
    return Imaging(
        planes=_joined_planes(filmed),
        movies=tuple(m for i in parts for m in i.movies),
        segmentations=tuple(g for i in parts for g in i.segmentations),
    )


def _joined_planes(planes: list[tuple[ImagingPlane, bool]]) -> tuple[ImagingPlane, ...]:
    """Planes of one name from several sources are one plane (a movie and the segmentation made from it): what the
    earlier source's headers say wins, what it leaves unsaid a later one gives. Its channels are those of the
    sources that film it (each (plane, filmed) pair says whether its source holds a movie of it); a segmentation's
    own channel names count only for a plane no movie films."""
    joined: dict[str, ImagingPlane] = {}
    filmed_by: dict[str, bool] = {}
    for plane, filmed in planes:
        first = joined.get(plane.name)
        if first is None:
            joined[plane.name], filmed_by[plane.name] = plane, filmed
            continue
        channels = first.channels
        if filmed and not filmed_by[plane.name]:
            channels, filmed_by[plane.name] = plane.channels, True
        elif filmed or not filmed_by[plane.name]:
            channels += tuple(c for c in plane.channels if c.name not in {k.name for k in first.channels})
        unsaid = {f.name: getattr(plane, f.name) for f in fields(first) if getattr(first, f.name) in (None, "")}
        joined[plane.name] = replace(first, **unsaid, channels=channels)
    return tuple(joined.values())


def _files(sessions: list[Session]) -> tuple[SourceFile, ...]:
    return tuple({f.path: f for s in sessions for f in s.source_files}.values())


def _first(values: Iterable[str | None]) -> str | None:
    return next((v for v in values if v), None)
