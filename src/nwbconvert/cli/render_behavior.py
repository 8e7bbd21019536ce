"""How behavior is shown: the cameras, videos, poses (and how each is timed), training frames, interval tables and
signals a conversion writes (--dry-run and after), and the pose, videos, tables and behavioral series `info` finds."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table

from nwbconvert.cli.render import stdout

if TYPE_CHECKING:
    from nwbconvert.imaging import FrameTimes
    from nwbconvert.plan_behavior import BehaviorPlan
    from nwbconvert.summary_behavior import BehaviorSummary


def _table(title: str, columns: tuple[str, ...], numeric: tuple[str, ...] = ()) -> Table:
    table = Table(title=title, title_justify="left")
    for col in columns:
        table.add_column(col, justify="right" if col in numeric else "left")
    return table


def _timing(times: FrameTimes, video: str | None = None) -> str:
    """How a series is timed, in words: time stamps or a rate, and whether they are its video's."""
    if times.timestamps_s is not None:
        first = f" from {times.timestamps_s[0]:.6g} s" if len(times.timestamps_s) else ""
        text = "time stamps" + first
    else:
        text = f"{times.rate_hz:g} Hz from {times.t_start_s:g} s" if times.rate_hz else "untimed"
    return f"{text} (video's)" if video else text


def behavior_tables(plan: BehaviorPlan) -> None:
    """One row per video, pose, training set, interval table and signal the plan writes."""
    if plan.cameras:
        stdout.print("cameras  " + ", ".join(c.name for c in plan.cameras))
    if plan.videos:
        columns = ("series", "camera", "files", "frames", "frame (w × h)", "timing", "stored")
        videos = _table("videos", columns, ("frames",))
        for v in plan.videos:
            files = ", ".join(f.rsplit("/", 1)[-1] for f in v.files)
            size = " × ".join(map(str, v.frame_size))
            videos.add_row(v.name, v.camera, files, str(v.n_frames), size, _timing(v.times), plan.video_storage.value)
        stdout.print(videos)
    if plan.poses:
        pose_columns = ("pose", "camera", "individual", "keypoints", "frames", "confidence", "timing", "video")
        poses = _table("pose estimation", pose_columns, ("keypoints", "frames"))
        videos_times = {v.name: v.times for v in plan.videos}
        for p in plan.poses:
            paired = p.video if p.video and videos_times.get(p.video) is p.times else None
            poses.add_row(
                p.name,
                p.camera,
                p.individual or "-",
                str(len(p.skeleton.nodes)),
                str(p.n_frames),
                "yes" if p.has_confidence else "no",
                _timing(p.times, paired),
                p.video or "-",
            )
        stdout.print(poses)
    for t in plan.training:
        instances = sum(len(f.instances) for f in t.frames)
        stdout.print(
            f"training {t.name} ({t.source_software}): {len(t.frames)} labeled frames, {instances} instances of "
            f"{len(t.skeleton.nodes)} keypoints"
        )
    if plan.tables:
        tables = _table("interval tables", ("table", "rows", "columns"), ("rows",))
        for table in plan.tables:
            tables.add_row(table.name, str(len(table)), ", ".join(c.name for c in table.columns) or "-")
        stdout.print(tables)
    if plan.signals:
        signals = _table("behavioral signals", ("signal", "role", "samples", "unit", "timing"), ("samples",))
        for s in plan.signals:
            signals.add_row(s.name, s.role.value, str(s.n_samples), s.unit, _timing(s.times))
        stdout.print(signals)


def behavior_summary(b: BehaviorSummary) -> None:
    """The pose, videos, training frames, interval tables and behavioral series of a file, for `info`."""
    for p in b.poses:
        span = f", {p.duration_s:.3f} s from {p.start_s:.6g} s" if p.duration_s is not None else ""
        linked = f", video {p.source_video}" if p.source_video else ""
        confidence = "with confidence" if p.confidence else "no confidence"
        stdout.print(
            f"  pose      {p.name}: camera {p.camera or '-'}, {len(p.keypoints)} keypoints "
            f"({', '.join(p.keypoints)}), {p.frames} frames, {p.timing}{span}, {confidence}{linked}"
        )
    for v in b.videos:
        where = "external " + ", ".join(v.external_files) if v.external_files else "frames stored inside"
        size = f", {v.frame_size[0]} × {v.frame_size[1]}" if v.frame_size and len(v.frame_size) >= 2 else ""
        frames = f"{v.frames} frames" if v.frames is not None else "frames not recorded"
        stdout.print(f"  video     {v.name}: {where}, {frames}{size}, {v.timing}")
    for t in b.training:
        stdout.print(f"  training  {t.name}: {t.frames} labeled frames, {t.instances} instances")
    for i in b.intervals:
        stdout.print(f"  intervals {i.name}: {i.rows} rows ({', '.join(i.columns) or 'no columns'})")
    for s in b.series:
        stdout.print(f"  behavior  {s.name} ({s.neurodata_type}): {s.samples} samples, {s.unit}, {s.timing}")
