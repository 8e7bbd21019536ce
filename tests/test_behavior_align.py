"""`align:` for behavior: a camera triggered by a SpikeGLX NI-DAQ line. Its video (and the DeepLabCut pose estimated
on it, which takes the video's frame times) is timed by the line's rising edges, read straight from the .bin with
numpy; a video with more frames than pulses is refused with both counts."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

from cli_runner import nwbconvert
from conftest import COMPLETE_METADATA
from nwbconvert.synthetic.pose_dlc import write_dlc
from nwbconvert.synthetic.spikeglx import write_spikeglx_run
from nwbconvert.synthetic.video import write_video
from test_ophys_align import rising_edges

SET = dict(kv.split("=", 1) for kv in COMPLETE_METADATA)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3 s SpikeGLX run whose NI-DAQ line XD1 pulses every 0.25 s (11 rising edges)."""
    return write_spikeglx_run(tmp_path_factory.mktemp("behavior_align"), seconds=3.0, n_channels=4).folder


def _config(folder: Path, run: Path, pose: Path) -> Path:
    config = {
        "sources": [{"path": str(run), "streams": ["nidq"], "name": "Nidq"}, {"path": str(pose), "name": "Rig"}],
        "timezone": "Europe/Berlin",
        "align": [{"target": "VideoCameraBehaviorcamRig", "channel": "EventsXD1Nidq", "label": "XD1 ON"}],
        "set": SET,
    }
    path = folder / "session.yaml"
    path.write_text(json.dumps(config))
    return path


def test_video_and_its_pose_take_the_rising_edges(run: Path, tmp_path: Path) -> None:
    edges = rising_edges(run, 1)
    assert len(edges) == 11
    write_video(tmp_path / "behaviorcam.mp4", 11)
    pose = write_dlc(tmp_path, "behaviorcam", 11)
    out = tmp_path / "out.nwb"
    result = nwbconvert("convert", "--config", _config(tmp_path, run, pose), "-o", out)
    assert result.returncode == 0, result.stderr
    with h5py.File(out, "r") as f:
        video = f["acquisition/VideoCameraBehaviorcamRig"]
        np.testing.assert_allclose(video["timestamps"][()], edges, atol=1e-9)
        estimation = f["processing/behavior/PoseEstimationCameraBehaviorcamRig"]
        series = [g for g in estimation.values() if isinstance(g, h5py.Group) and "timestamps" in g]
        assert series, list(estimation)
        np.testing.assert_allclose(series[0]["timestamps"][()], edges, atol=1e-9)
        assert estimation["source_video"] == video


def test_more_frames_than_pulses_is_refused_with_both_counts(run: Path, tmp_path: Path) -> None:
    write_video(tmp_path / "behaviorcam.mp4", 12)
    pose = write_dlc(tmp_path, "behaviorcam", 12)
    out = tmp_path / "out.nwb"
    result = nwbconvert("convert", "--config", _config(tmp_path, run, pose), "-o", out)
    assert result.returncode == 3, result.stderr
    assert "12 frames" in result.stderr and "11 events" in result.stderr
    assert not out.exists() and "Traceback" not in result.stderr
