"""The real DeepLabCut .h5 converted with the CLI and read back with pynwb + ndx-pose: keypoints and likelihood
equal pandas' reading of the file, frame times equal the video's container time stamps (PyAV, read here); without
the video the pose needs pose.rate (exit 4), which then times it."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cli_runner import nwbconvert
from conftest import realdata

DLC_H5 = "behavior/dlc/dlc2nwb/m3v1mp4DLC_resnet50_openfieldAug20shuffle1_30000.h5"
METADATA = """\
session_start_time: "2020-01-01T10:00:00+00:00"
subject:
  subject_id: m1
  species: Mus musculus
  sex: F
  age: P90D
"""


@pytest.fixture
def metadata(tmp_path: Path) -> Path:
    path = tmp_path / "session.yaml"
    path.write_text(METADATA)
    return path


def _container_times(video: Path) -> np.ndarray:
    """Each frame's presentation time in seconds, from the container's packets (PyAV), in display order."""
    import av

    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        pts = [p.pts for p in container.demux(stream) if p.size and p.pts is not None]
        base = float(stream.time_base)
        start = stream.start_time or 0
    return (np.sort(np.asarray(pts, dtype="float64")) - start) * base


def _series_times(series: Any) -> np.ndarray:
    if series.timestamps is not None:
        return np.asarray(series.timestamps[:])
    return series.starting_time + np.arange(series.data.shape[0]) / series.rate


def _pose_estimation(path: Path) -> Any:
    from pynwb import NWBHDF5IO

    io = NWBHDF5IO(str(path), "r")
    return io, io.read().processing["behavior"]["PoseEstimationCameraM3v1mp4"]


def test_real_deeplabcut_converts_with_its_video_clock(tmp_path: Path, metadata: Path) -> None:
    import ndx_pose  # noqa: F401  (registers the extension for pynwb)
    import pandas as pd

    source = realdata(DLC_H5)
    out = tmp_path / "out.nwb"
    result = nwbconvert("convert", source, "-o", out, "-m", metadata)
    assert result.returncode == 0, result.stderr
    frame = pd.read_hdf(source)
    scorer = frame.columns.get_level_values("scorer")[0]
    video_times = _container_times(source.parent / "m3v1mp4.mp4")
    assert len(video_times) == 2330
    io, pose = _pose_estimation(out)
    with io:
        assert sorted(pose.pose_estimation_series) == sorted(["snout", "leftear", "rightear", "tailbase"])
        assert pose.scorer == scorer and pose.source_software == "DeepLabCut"
        assert list(pose.skeleton.nodes[:]) == ["snout", "leftear", "rightear", "tailbase"]
        assert pose.device.name == "CameraM3v1mp4" and pose.source_video.name == "VideoCameraM3v1mp4"
        assert list(pose.source_video.external_file[:]) and pose.source_video.external_file[0].endswith("m3v1mp4.mp4")
        for part, series in pose.pose_estimation_series.items():
            expected = frame[scorer][part]
            np.testing.assert_array_equal(series.data[:], expected[["x", "y"]].to_numpy())
            np.testing.assert_array_equal(series.confidence[:], expected["likelihood"].to_numpy())
            np.testing.assert_allclose(_series_times(series), video_times, atol=1e-6)


def test_deeplabcut_without_video_needs_pose_rate(tmp_path: Path, metadata: Path) -> None:
    source = realdata(DLC_H5)
    alone = tmp_path / "alone" / source.name
    alone.parent.mkdir()
    shutil.copyfile(source, alone)
    refused = nwbconvert("convert", alone, "-o", tmp_path / "untimed.nwb", "-m", metadata)
    assert refused.returncode == 4, refused.stderr
    assert "pose.rate" in refused.stderr and "Traceback" not in refused.stderr
    assert not (tmp_path / "untimed.nwb").exists()
    out = tmp_path / "timed.nwb"
    result = nwbconvert("convert", alone, "-o", out, "-m", metadata, "--set", "pose.rate=30")
    assert result.returncode == 0, result.stderr
    io, pose = _pose_estimation(out)
    with io:
        for series in pose.pose_estimation_series.values():
            assert series.rate == 30.0 and series.timestamps is None and series.data.shape == (2330, 2)
