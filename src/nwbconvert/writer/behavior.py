"""The behavior plan -> pynwb: camera devices, then each family's writer (videos, pose, tables and signals)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nwbconvert.plan_behavior import BehaviorPlan

if TYPE_CHECKING:
    from nwbconvert.writer.nwbfile import DataWrapping


def add_behavior(nwbfile: Any, plan: BehaviorPlan, wrap: DataWrapping) -> None:
    """Cameras (Devices), videos (ImageSeries in acquisition), pose (ndx-pose in processing/behavior), interval
    tables (trials, intervals/) and behavioral signals (processing/behavior), in that order: pose links to its
    video and camera."""
    cameras = {c.name: nwbfile.create_device(c.name, c.description, c.manufacturer or None) for c in plan.cameras}
    videos: dict[str, Any] = {}
    if plan.videos:
        from nwbconvert.writer.video import add_videos

        videos = add_videos(nwbfile, plan, cameras, wrap)
    if plan.poses or plan.training:
        from nwbconvert.writer.pose import add_poses

        add_poses(nwbfile, plan, cameras, videos, wrap)
    if plan.tables or plan.signals:
        from nwbconvert.writer.behavior_tables import add_tables_and_signals

        add_tables_and_signals(nwbfile, plan, wrap)


def behavior_module(nwbfile: Any) -> Any:
    """processing/behavior, made on first use."""
    if "behavior" not in nwbfile.processing:
        nwbfile.create_processing_module("behavior", "Behavior: pose estimation and behavioral signals.")
    return nwbfile.processing["behavior"]
