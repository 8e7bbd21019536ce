"""`nwbconvert info` (text and --json) shows a file's behavior: pose estimations, videos, training frames, interval
tables and behavioral series; and `validate` / `info` read the real NWB file another tool (dlc2nwb) wrote with
ndx-pose 0.1. Files are written by the pipeline's writer from known values (tests/test_pose_writer.write_session) or
are real; the expected figures are the literals the test wrote, or what the real file's MANIFEST entry says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cli_runner import nwbconvert
from conftest import realdata
from nwbconvert.behavior import (
    ArrayPose,
    Behavior,
    BehaviorSignal,
    IntervalTable,
    LabeledFrame,
    PoseTraining,
    SignalRole,
    Skeleton,
    TableColumn,
)
from nwbconvert.imaging import FrameTimes
from test_pose_writer import NODES, pose, values, write_session

DLC2NWB = "behavior/dlc/dlc2nwb/m3v1mp4DLC_resnet50_openfieldAug20shuffle1_30000.nwb"


def _info(path: Path) -> dict[str, Any]:
    done = nwbconvert("info", path, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["result"]


@pytest.fixture(scope="module")
def session_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two cameras' pose (one timed by stamps, one by a rate, one without confidence), training frames, trials with
    typed columns, a wheel position and licks."""
    out = tmp_path_factory.mktemp("info") / "session.nwb"
    stamps = 5.0 + np.arange(60) / 30
    back = pose(
        "PoseEstimationCameraBack", "CameraBack", ArrayPose(values(60, 4, 1)), times=FrameTimes(timestamps_s=stamps)
    )
    side_nodes = Skeleton("SkeletonCameraSide", ("nose", "tail"), ((0, 1),))
    side = pose(
        "PoseEstimationCameraSide",
        "CameraSide",
        ArrayPose(values(250, 2, 2, confidence=False)),
        skeleton=side_nodes,
        has_confidence=False,
        times=FrameTimes(t_start_s=1.5, rate_hz=250.0),
    )
    label = LabeledFrame(3, (np.array([[1.0, 2.0], [3.0, 4.0]]),), video_path="labeled-data/side/img003.png")
    training = PoseTraining("PoseTrainingCameraSide", side_nodes, (label, label), "/data/CollectedData.csv", "DLC")
    trials = IntervalTable(
        "trials",
        np.array([0.0, 2.0, 4.0]),
        np.array([1.5, 3.5, 5.5]),
        (TableColumn("choice", np.array([1, -1, 1])), TableColumn("correct", np.array([True, False, True]))),
        source="/data/trials.csv",
    )
    moves = IntervalTable("wheelMoves", np.array([0.1, 0.7]), np.array([0.3, 0.9]), source="/data/alf")
    wheel = BehaviorSignal(
        "WheelPosition", SignalRole.POSITION, np.linspace(0, 1, 1000), "radians", FrameTimes(rate_hz=1000.0)
    )
    licks = BehaviorSignal(
        "Licks", SignalRole.EVENTS, np.ones(4), "n.a.", FrameTimes(timestamps_s=np.array([0.5, 1.0, 2.0, 3.0]))
    )
    behavior = Behavior(poses=(back, side), training=(training,), tables=(trials, moves), signals=(wheel, licks))
    write_session(behavior, out)
    return out


def test_info_json_shows_pose_training_tables_and_signals(session_file: Path) -> None:
    found = _info(session_file)["behavior"]
    poses = {p["name"]: p for p in found["poses"]}
    back, side = poses["PoseEstimationCameraBack"], poses["PoseEstimationCameraSide"]
    assert back["camera"] == "CameraBack" and back["keypoints"] == list(NODES) and back["frames"] == 60
    assert back["timing"] == "timestamps" and back["start_s"] == 5.0 and back["confidence"] is True
    assert back["duration_s"] == pytest.approx(59 / 30)
    assert back["skeleton"] == "SkeletonCameraBack" and back["source_software"] == "DeepLabCut"
    assert side["camera"] == "CameraSide" and side["keypoints"] == ["nose", "tail"] and side["frames"] == 250
    assert side["timing"] == "250 Hz" and side["start_s"] == 1.5 and side["confidence"] is False
    assert found["training"] == [{"name": "PoseTrainingCameraSide", "frames": 1 + 1, "instances": 2}]
    intervals = {t["name"]: t for t in found["intervals"]}
    assert intervals["trials"] == {"name": "trials", "rows": 3, "columns": ["choice", "correct"]}
    assert intervals["intervals/wheelMoves"]["rows"] == 2
    series = {s["name"]: (s["neurodata_type"], s["samples"], s["unit"], s["timing"]) for s in found["series"]}
    assert series["Position/WheelPosition"] == ("SpatialSeries", 1000, "radians", "1000 Hz")
    assert series["BehavioralEvents/Licks"][1:] == (4, "n.a.", "timestamps")
    assert found["videos"] == []


def test_info_text_names_each_part(session_file: Path) -> None:
    done = nwbconvert("info", session_file)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    pose_lines = [line for line in lines if line.strip().startswith("pose ")]
    assert len(pose_lines) == 2
    assert any(
        "PoseEstimationCameraSide: camera CameraSide, 2 keypoints (nose, tail), 250 frames, 250 Hz" in x
        for x in pose_lines
    )
    assert any(line.strip().startswith("intervals trials: 3 rows (choice, correct)") for line in lines)
    assert any("Position/WheelPosition (SpatialSeries): 1000 samples, radians" in line for line in lines)
    assert any(line.strip().startswith("training  PoseTrainingCameraSide: 2 labeled frames") for line in lines)


def test_dry_run_shows_each_pose_and_how_it_is_timed() -> None:
    from conftest import COMPLETE_METADATA

    source = realdata("behavior/dlc/dlc2nwb/m3v1mp4DLC_resnet50_openfieldAug20shuffle1_30000.h5")
    sets = [a for kv in COMPLETE_METADATA for a in ("--set", kv)]
    done = nwbconvert("convert", source, "--dry-run", *sets, "--timezone", "UTC")
    assert done.returncode == 0, done.stderr
    rows = {cells[0]: cells for cells in _rows(done.stdout)}
    pose = rows["PoseEstimationCameraM3v1mp4"]
    assert pose[1:6] == ["CameraM3v1mp4", "-", "4", "2330", "yes"]
    assert pose[6].endswith("(video's)") and pose[7] == "VideoCameraM3v1mp4"  # timed by its video's frames
    video = rows["VideoCameraM3v1mp4"]
    assert video[1:5] == ["CameraM3v1mp4", "m3v1mp4.mp4", "2330", "640 × 480"] and video[6] == "external"
    assert "cameras  CameraM3v1mp4" in done.stdout


def _rows(text: str) -> list[list[str]]:
    """The cells of every row of the rich tables in `text`."""
    return [[c.strip() for c in line.strip("│ ").split("│")] for line in text.splitlines() if line.startswith("│")]


def test_validate_reads_the_real_ndx_pose_0_1_file() -> None:
    path = realdata(DLC2NWB)
    done = nwbconvert("validate", path, "--json")
    assert done.returncode == 1, done.stderr  # the file has no Subject: an error for DANDI
    findings = json.loads(done.stdout)["result"]["files"][0]["findings"]
    errors = {f["check_id"] for f in findings if f["severity"] == "error"}
    assert errors == {"check_subject_exists"}  # no schema error, no check that failed to read the file
    assert not [f for f in findings if f["check_id"].endswith(".failed")]
    # dlc2nwb wrote the row index as seconds (the 1 Hz files the issue describes): Inspector sees a constant rate
    regular = {f["location"] for f in findings if f["check_id"] == "check_regular_timestamps"}
    assert regular == {f"/processing/behavior/PoseEstimation/ind1_{n}" for n in NODES}


def test_info_reads_the_real_ndx_pose_0_1_file() -> None:
    found = _info(realdata(DLC2NWB))["behavior"]
    (estimation,) = found["poses"]
    assert estimation["name"] == "PoseEstimation" and estimation["frames"] == 2330
    assert estimation["keypoints"] == [f"ind1_{n}" for n in NODES]  # 0.1 kept nodes on the PoseEstimation
    assert estimation["timing"] == "timestamps" and estimation["duration_s"] == 2329.0
    assert estimation["skeleton"] is None and estimation["camera"] is None  # 0.1 had neither a Skeleton nor a link
    assert estimation["scorer"] == "DLC_resnet50_openfieldAug20shuffle1" and estimation["confidence"] is True
    assert estimation["original_videos"] == ["fake_path"]
