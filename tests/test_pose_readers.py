"""The pose readers (deeplabcut, lightning-pose, sleap, pose-sleap-io) on the real files of ../shared/realdata and on
files written in the tools' layouts, each checked against the library that reads the format (pandas, h5py,
sleap-io) and PyAV for the videos' frames."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import realdata

DLC_H5 = "behavior/dlc/dlc2nwb/m3v1mp4DLC_resnet50_openfieldAug20shuffle1_30000.h5"
LP_LABELS = "behavior/lightning_pose/mirror_mouse/CollectedData.csv"
SLEAP_DIR = "behavior/sleap/anipose_minimal/back"


def _read(path: Path) -> tuple[str, Any]:
    from nwbconvert.readers.base import ReadOptions
    from nwbconvert.readers.registry import detect

    reader = detect(path)
    return reader.name, reader.read(path, ReadOptions())


def _packets(video: Path) -> int:
    """The video's frames as PyAV demuxes them (packets of its video stream), no decoding."""
    import av

    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        return sum(1 for packet in container.demux(stream) if packet.size)


def _dlc_oracle(frame: Any, individual: str | None, part: str) -> np.ndarray:
    """(frames, 3) x, y, likelihood of one bodypart from a pandas DataFrame in DeepLabCut's layout."""
    scorer = frame.columns.get_level_values("scorer")[0]
    column = frame[scorer] if individual is None else frame[scorer][individual]
    return column[part][["x", "y", "likelihood"]].to_numpy()


def test_real_deeplabcut_h5_is_read_in_row_ranges_and_timed_by_its_video() -> None:
    import pandas as pd

    path = realdata(DLC_H5)
    name, session = _read(path)
    assert name == "deeplabcut"
    frame = pd.read_hdf(path)
    (pose,) = session.behavior.poses
    assert pose.skeleton.nodes == ("snout", "leftear", "rightear", "tailbase")
    assert pose.n_frames == len(frame) == 2330 and pose.table.n_keypoints == 4
    assert pose.name == "PoseEstimationCameraM3v1mp4" and pose.camera == "CameraM3v1mp4"
    assert pose.scorer == "DLC_resnet50_openfieldAug20shuffle1_30000" and pose.source_software == "DeepLabCut"
    values = pose.table.read(0, pose.n_frames)
    for k, part in enumerate(pose.skeleton.nodes):
        np.testing.assert_array_equal(values[:, k], _dlc_oracle(frame, None, part))
    np.testing.assert_array_equal(pose.table.read(1000, 1010), values[1000:1010])
    assert type(pose.table).__name__ == "H5Pose"  # PyTables "table": rows read on demand, never held whole
    (video,) = session.behavior.videos
    assert pose.video == video.name == "VideoCameraM3v1mp4" and pose.dimensions == (640, 480) == video.frame_size
    assert video.n_frames == _packets(path.parent / "m3v1mp4.mp4") == 2330
    assert pose.times.rate_hz is None and pose.times.timestamps_s is None  # the video times it, in the plan


def test_real_deeplabcut_h5_without_its_video_stays_untimed(tmp_path: Path) -> None:
    path = realdata(DLC_H5)
    alone = tmp_path / path.name
    shutil.copyfile(path, alone)
    _, session = _read(alone)
    (pose,) = session.behavior.poses
    assert session.behavior.videos == () and pose.video is None and pose.dimensions is None
    assert pose.times.rate_hz is None and pose.times.timestamps_s is None


@pytest.mark.parametrize("suffix", [".h5", ".csv"])
def test_generated_multi_animal_deeplabcut(tmp_path: Path, suffix: str) -> None:
    import pandas as pd

    from nwbconvert.synthetic.pose_dlc import write_dlc, write_dlc_config
    from nwbconvert.synthetic.pose_video import write_video

    write_dlc_config(tmp_path, ["snout", "tail"], [("snout", "tail")])
    write_video(tmp_path / "videos" / "arena_top.mp4", 30)
    path = write_dlc(tmp_path / "videos", "arena_top", 30, ("snout", "tail"), ("mouse1", "mouse2"), suffix)
    name, session = _read(path)
    assert name == "deeplabcut"
    frame = pd.read_hdf(path) if suffix == ".h5" else pd.read_csv(path, header=[0, 1, 2, 3], index_col=0)
    poses = session.behavior.poses
    assert [p.name for p in poses] == ["PoseEstimationCameraArenaTopMouse1", "PoseEstimationCameraArenaTopMouse2"]
    assert [p.individual for p in poses] == ["mouse1", "mouse2"]
    for pose in poses:
        assert pose.skeleton.nodes == ("snout", "tail") and pose.skeleton.edges == ((0, 1),)
        assert pose.video == "VideoCameraArenaTop" and pose.n_frames == 30
        values = pose.table.read(0, 30)
        for k, part in enumerate(pose.skeleton.nodes):
            np.testing.assert_array_equal(values[:, k], _dlc_oracle(frame, pose.individual, part))
        np.testing.assert_array_equal(pose.table.read(7, 9), values[7:9])
    assert [v.n_frames for v in session.behavior.videos] == [_packets(tmp_path / "videos" / "arena_top.mp4")]
    # rows read on demand: from the .h5 by row range, from the CSV's temporary file (parsed once), never held whole
    assert {type(p.table).__name__ for p in poses} == {"H5Pose" if suffix == ".h5" else "ColumnPose"}
    if suffix == ".csv":
        assert type(poses[0].table.values).__name__ == "SpilledRows"  # type: ignore[attr-defined]


@pytest.mark.parametrize("suffix", [".csv", ".h5"])
def test_generated_deeplabcut_labels_become_training_frames(tmp_path: Path, suffix: str) -> None:
    import pandas as pd

    from nwbconvert.synthetic.pose_dlc import write_dlc_labels
    from nwbconvert.synthetic.pose_video import write_video

    write_video(tmp_path / "videos" / "session1.mp4", 60)
    path = write_dlc_labels(tmp_path, "session1", 5, ("snout", "tail")).with_suffix(suffix)
    name, session = _read(path)
    assert name == "deeplabcut"
    frame = pd.read_hdf(path) if suffix == ".h5" else pd.read_csv(path, header=[0, 1, 2], index_col=[0, 1, 2])
    (training,) = session.behavior.training
    assert training.skeleton.nodes == ("snout", "tail") and len(training.frames) == len(frame) == 5
    assert [f.frame_index for f in training.frames] == [0, 10, 20, 30, 40]  # img0000.png ... img0040.png
    assert {f.video for f in training.frames} == {"VideoCameraSession1"}
    for labeled, (_, row) in zip(training.frames, frame.iterrows()):
        expected = row.to_numpy(dtype="float64").reshape(2, 2)
        if np.isnan(expected).all():
            assert labeled.instances == ()
        else:
            np.testing.assert_array_equal(labeled.instances[0], expected)
    assert session.behavior.poses == ()


def test_real_lightning_pose_labels_become_training_frames() -> None:
    import pandas as pd

    path = realdata(LP_LABELS)
    name, session = _read(path)
    assert name == "lightning-pose"
    frame = pd.read_csv(path, header=[0, 1, 2], index_col=0)
    (training,) = session.behavior.training
    assert len(training.frames) == len(frame) == 90 and len(training.skeleton.nodes) == 17
    assert training.skeleton.nodes == tuple(dict.fromkeys(frame.columns.get_level_values("bodyparts")))
    assert training.source_software == "Lightning Pose"
    for labeled, (image, row) in zip(training.frames, frame.iterrows()):
        assert labeled.video_path == image
        expected = row.to_numpy(dtype="float64").reshape(17, 2)
        np.testing.assert_array_equal(labeled.instances[0], expected)
    (video,) = session.behavior.videos  # the project's video (videos/ beside the labels)
    assert video.n_frames == _packets(path.parent / "videos" / "test_vid.mp4") == 994
    assert video.frame_size == (396, 406)


def test_generated_lightning_pose_predictions_are_told_from_deeplabcut(tmp_path: Path) -> None:
    import pandas as pd

    from nwbconvert.readers.base import Match
    from nwbconvert.readers.registry import readers
    from nwbconvert.synthetic.pose_dlc import write_lp_predictions
    from nwbconvert.synthetic.pose_video import write_video

    write_video(tmp_path / "videos" / "test_vid.mp4", 25)
    path = write_lp_predictions(tmp_path / "video_preds", "test_vid", 25, ("nose", "tail"), "heatmap_mhcrnn_tracker")
    claims = {n: r.probe(path) for n, r in readers().items() if r.probe(path) != Match.NO}
    assert claims["lightning-pose"] == Match.CONTENT and "deeplabcut" not in claims
    assert max((v for n, v in claims.items() if n != "lightning-pose"), default=Match.NO) < Match.CONTENT
    _, session = _read(path)
    (pose,) = session.behavior.poses
    frame = pd.read_csv(path, header=[0, 1, 2], index_col=0)
    assert pose.scorer == "heatmap_mhcrnn_tracker" and pose.source_software == "Lightning Pose"
    assert pose.video == "VideoCameraTestVid" and pose.n_frames == 25
    for k, part in enumerate(pose.skeleton.nodes):
        np.testing.assert_array_equal(pose.table.read(0, 25)[:, k], _dlc_oracle(frame, None, part))


@pytest.mark.parametrize("file", ["minimal_back_proofread.slp", "minimal_back_proofread.analysis.h5"])
def test_real_sleap_files_are_read_as_sleap_io_reads_them(file: str) -> None:
    import sleap_io as sio

    path = realdata(f"{SLEAP_DIR}/{file}")
    name, session = _read(path)
    assert name == "sleap"
    labels = sio.load_slp(str(path)) if file.endswith(".slp") else sio.load_analysis_h5(str(path))
    expected = labels.numpy(return_confidence=True)  # (frames, tracks, nodes, x y score)
    (pose,) = session.behavior.poses
    assert pose.n_frames == 120 == expected.shape[0] and pose.individual == "track_0"
    assert pose.skeleton.nodes == tuple(labels.skeleton.node_names) and len(pose.skeleton.nodes) == 15
    assert pose.skeleton.edges == tuple(tuple(e) for e in labels.skeleton.edge_inds) and len(pose.skeleton.edges) == 14
    values = pose.table.read(0, 120)
    np.testing.assert_array_equal(values[:, :, :2], expected[:, 0, :, :2])
    seen = ~np.isnan(values[:, :, 0])
    np.testing.assert_allclose(values[:, :, 2][seen], expected[:, 0, :, 2][seen])
    (video,) = session.behavior.videos  # recorded as D:/..., found beside the file by its name
    assert pose.video == video.name == "VideoCameraMinimalBack" and video.frame_size == (1280, 1024)
    assert video.n_frames == _packets(path.parent / "minimal_back.mp4") == 120
    assert "minimal_back.mp4" in pose.original_videos[0]


def test_generated_sleap_tracks_and_user_instances(tmp_path: Path) -> None:
    import sleap_io as sio

    from nwbconvert.synthetic.pose_sleap import write_slp

    path = write_slp(tmp_path, n_frames=12, tracks=("mouse1", "mouse2"))
    _, session = _read(path)
    labels = sio.load_slp(str(path))
    poses = {p.individual: p for p in session.behavior.poses}
    assert sorted(poses) == ["mouse1", "mouse2"]
    assert poses["mouse1"].name == "PoseEstimationCameraBackMouse1"
    for track in labels.tracks:
        pose = poses[track.name]
        for frame in labels.labeled_frames:
            (instance,) = [i for i in frame.predicted_instances if i.track is track]
            got = pose.table.read(frame.frame_idx, frame.frame_idx + 1)[0]
            np.testing.assert_array_equal(got[:, :2], instance.numpy())
            np.testing.assert_array_equal(got[:, 2], instance.points["score"])
    (training,) = session.behavior.training
    users = [(f.frame_idx, [i.numpy() for i in f.user_instances]) for f in labels.labeled_frames if f.user_instances]
    assert [f.frame_index for f in training.frames] == [i for i, _ in users] == [0, 3]
    for labeled, (_, expected) in zip(training.frames, users):
        assert len(labeled.instances) == len(expected) == 2
        for got, want in zip(labeled.instances, expected):
            np.testing.assert_array_equal(got, want)


PREDICTIONS = {"write_jabs": "arena_pose_est_v5.h5", "write_sleap_csv": "back.predictions.csv"}
LABELS = ("write_coco", "write_labelstudio", "write_ultralytics", "write_alphatracker")


@pytest.mark.parametrize("writer", sorted(PREDICTIONS))
def test_sleap_io_prediction_formats(tmp_path: Path, writer: str) -> None:
    import sleap_io as sio

    from nwbconvert.synthetic import pose_sleap

    path = getattr(pose_sleap, writer)(tmp_path)
    name, session = _read(path)
    assert name == "pose-sleap-io"
    labels = sio.load_file(str(path))
    expected = labels.numpy(return_confidence=True)
    poses = session.behavior.poses
    assert len(poses) == len(labels.tracks) == 2
    for t, track in enumerate(labels.tracks):
        (pose,) = [p for p in poses if p.individual == track.name]
        values = pose.table.read(0, pose.n_frames)
        np.testing.assert_allclose(values[:, :, :2], expected[: pose.n_frames, t, :, :2])
        assert pose.video is not None and pose.n_frames == session.behavior.videos[0].n_frames


@pytest.mark.parametrize("writer", LABELS)
def test_sleap_io_label_formats_become_training_frames(tmp_path: Path, writer: str) -> None:
    import sleap_io as sio

    from nwbconvert.synthetic import pose_sleap

    path = getattr(pose_sleap, writer)(tmp_path)
    name, session = _read(path)
    assert name == "pose-sleap-io"
    labels = sio.load_file(str(path))
    (training,) = session.behavior.training
    expected = [[i.numpy() for i in f.user_instances] for f in labels.labeled_frames]
    assert len(training.frames) == len(expected) > 0 and session.behavior.poses == ()
    assert training.skeleton.nodes == tuple(labels.skeletons[0].node_names)
    for labeled, want in zip(training.frames, expected):
        assert len(labeled.instances) == len(want)
        for got, points in zip(labeled.instances, want):
            np.testing.assert_array_equal(got, points)
