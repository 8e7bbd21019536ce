"""Pose written to NWB (ndx-pose 0.4) and read back with pynwb + ndx-pose: Sessions built from behavior.py types
(ArrayPose with known values), planned by plan.make_plan and written by the HDF5 and Zarr backends' write path, as
a reader's Session would be. Oracle: the arrays the test made, read back through ndx-pose's own classes."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import COMPLETE_METADATA
from nwbconvert import backends
from nwbconvert.behavior import ArrayPose, Behavior, LabeledFrame, Pose, PoseTable, PoseTraining, Skeleton, Video
from nwbconvert.imaging import FrameTimes
from nwbconvert.model import Session
from nwbconvert.options import ConvertOptions, SourceSpec, resolve
from nwbconvert.pipeline import resolve_metadata
from nwbconvert.plan import make_plan
from nwbconvert.provenance import Provenance
from nwbconvert.validate.checker import check_file

NODES = ("snout", "leftear", "rightear", "tailbase")
EDGES = ((0, 1), (0, 2), (1, 3))


def values(n: int, k: int, seed: int, confidence: bool = True) -> np.ndarray:
    """(n, k, 3) x, y in pixels (some NaN: keypoint not found) and a confidence in [0, 1] (NaN without one)."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, k, 3))
    out[..., 0] = rng.uniform(0, 640, (n, k))
    out[..., 1] = rng.uniform(0, 480, (n, k))
    out[..., 2] = rng.uniform(0, 1, (n, k)) if confidence else np.nan
    out[3, 1, :2] = np.nan
    return out


def pose(name: str, camera: str, table: PoseTable, **fields: Any) -> Pose:
    skeleton = fields.pop("skeleton", Skeleton(f"Skeleton{camera}", NODES, EDGES))
    return Pose(name, camera, skeleton, table, f"/data/{name}.h5", "DeepLabCut", **fields)


def write_session(
    behavior: Behavior, out: Path, sets: tuple[str, ...] = (), backend: str = "hdf5", progress: list[int] | None = None
) -> None:
    """The Session a reader would give, planned and written as `convert` does (metadata, plan, backend)."""
    session = Session("test", "test 1", str(out.parent), (), behavior=behavior)
    options = ConvertOptions(set_values=(*COMPLETE_METADATA, *sets), timezone="UTC", backend=backend)
    _, opts = resolve(options, (SourceSpec(out.parent),))
    metadata = resolve_metadata(session, opts)
    plan = make_plan(session, metadata)
    plan = replace(plan, behavior=replace(plan.behavior, output=str(out)))  # as pipeline.convert_sources does
    provenance = Provenance("test", "test 1", str(out.parent), (), metadata.model_dump(mode="json"), opts.recorded, {})
    backends.get(opts.backend).write(plan, provenance, out, opts.write, None if progress is None else progress.append)
    if progress is not None:
        progress.insert(0, plan.raw_bytes)  # what the progress bar is started with


def errors(path: Path) -> list[str]:
    return [f"{f.check_id}: {f.message}" for f in check_file(path).findings if f.severity == "error"]


def test_keypoints_confidence_rate_skeleton_device(tmp_path: Path) -> None:
    from pynwb import NWBHDF5IO

    data = values(50, 4, seed=1)
    out = tmp_path / "pose.nwb"
    table = ArrayPose(data)
    found = pose("PoseEstimationCameraBack", "CameraBack", table, scorer="DLC_net", source_software_version="2.3.9")
    write_session(Behavior(poses=(found,)), out, ("pose.rate=30",))
    assert errors(out) == []
    with NWBHDF5IO(str(out), "r", load_namespaces=True) as io:
        nwb = io.read()
        behavior = nwb.processing["behavior"]
        estimation = behavior["PoseEstimationCameraBack"]
        assert type(estimation).__name__ == "PoseEstimation"
        assert set(estimation.pose_estimation_series) == set(NODES)  # HDF5 lists groups by name
        for k, node in enumerate(NODES):
            series = estimation.pose_estimation_series[node]
            np.testing.assert_array_equal(series.data[:], data[:, k, :2])
            np.testing.assert_array_equal(series.confidence[:], data[:, k, 2])
            assert series.rate == 30.0 and series.starting_time == 0.0 and series.timestamps is None
            assert series.unit == "pixels"
        assert np.isnan(estimation.pose_estimation_series["leftear"].data[3]).all()
        skeleton = behavior["Skeletons"].skeletons["SkeletonCameraBack"]
        assert estimation.skeleton is skeleton
        assert list(skeleton.nodes[:]) == list(NODES)
        assert skeleton.edges[:].tolist() == [list(e) for e in EDGES]
        assert estimation.device is nwb.devices["CameraBack"]
        assert estimation.scorer == "DLC_net"
        assert estimation.source_software == "DeepLabCut" and estimation.source_software_version == "2.3.9"
        assert estimation.source_video is None and estimation.original_videos is None
    import h5py

    with h5py.File(out, "r") as f:  # the extension's schema travels with the file
        assert list(f["specifications/ndx-pose"]) == ["0.4.0"]


def test_timestamps_are_stored_once_and_linked(tmp_path: Path) -> None:
    import h5py

    stamps = np.cumsum(np.full(40, 1 / 30)) + 2.5
    data = values(40, 4, seed=2)
    out = tmp_path / "stamps.nwb"
    timed = pose("PoseEstimationCam", "Cam", ArrayPose(data), times=FrameTimes(timestamps_s=stamps))
    write_session(Behavior(poses=(timed,)), out)
    assert errors(out) == []
    with h5py.File(out, "r") as f:
        group = f["processing/behavior/PoseEstimationCam"]
        np.testing.assert_array_equal(group["snout/timestamps"][:], stamps)
        for node in NODES[1:]:  # a soft link to the first series' dataset, not a copy
            assert group[node].get("timestamps", getlink=True).__class__ is h5py.SoftLink
            np.testing.assert_array_equal(group[f"{node}/timestamps"][:], stamps)


def test_no_confidence_when_the_tool_gives_none(tmp_path: Path) -> None:
    from pynwb import NWBHDF5IO

    data = values(20, 4, seed=3, confidence=False)
    out = tmp_path / "labels.nwb"
    found = pose("PoseEstimationCam", "Cam", ArrayPose(data), has_confidence=False, dimensions=(396, 406))
    write_session(Behavior(poses=(found,)), out, ("pose.rate=250",))
    assert errors(out) == []
    with NWBHDF5IO(str(out), "r", load_namespaces=True) as io:
        estimation = io.read().processing["behavior"]["PoseEstimationCam"]
        for k, node in enumerate(NODES):
            series = estimation.pose_estimation_series[node]
            assert series.confidence is None
            np.testing.assert_array_equal(series.data[:], data[:, k, :2])
        assert estimation.dimensions[:].tolist() == [[396, 406]]  # known: written (no video in the file)


def test_two_cameras_two_individuals_do_not_collide(tmp_path: Path) -> None:
    from pynwb import NWBHDF5IO

    tables = {}
    poses = []
    other = Skeleton("SkeletonCameraSide", ("nose", "tail"), ((0, 1),))
    for camera in ("CameraBack", "CameraSide"):
        for mouse in ("Mouse1", "Mouse2"):
            name = f"PoseEstimation{camera}{mouse}"
            skeleton = other if camera == "CameraSide" else Skeleton(f"Skeleton{camera}", NODES, EDGES)
            tables[name] = values(30, len(skeleton.nodes), seed=len(tables) + 10)
            poses.append(pose(name, camera, ArrayPose(tables[name]), individual=mouse, skeleton=skeleton))
    # a third skeleton named as the side camera's but with other nodes: it gets its own, numbered name
    clash = Skeleton("SkeletonCameraSide", ("nose", "tail", "paw"))
    tables["PoseEstimationCameraTop"] = values(30, 3, seed=99)
    top = ArrayPose(tables["PoseEstimationCameraTop"])
    poses.append(pose("PoseEstimationCameraTop", "CameraTop", top, skeleton=clash))
    out = tmp_path / "many.nwb"
    write_session(Behavior(poses=tuple(poses)), out, ("pose.rate=30",))
    assert errors(out) == []
    with NWBHDF5IO(str(out), "r", load_namespaces=True) as io:
        nwb = io.read()
        behavior = nwb.processing["behavior"]
        found = {n for n, obj in behavior.data_interfaces.items() if type(obj).__name__ == "PoseEstimation"}
        assert found == set(tables)
        skeletons = behavior["Skeletons"].skeletons
        assert set(skeletons) == {"SkeletonCameraBack", "SkeletonCameraSide", "SkeletonCameraSide2"}
        assert list(skeletons["SkeletonCameraSide2"].nodes[:]) == ["nose", "tail", "paw"]
        for name, data in tables.items():
            estimation = behavior[name]
            camera = name.removeprefix("PoseEstimation")[:10] if "Top" not in name else "CameraTop"
            assert estimation.device is nwb.devices[camera]
            nodes = list(estimation.skeleton.nodes[:])
            for k, node in enumerate(nodes):
                np.testing.assert_array_equal(estimation.pose_estimation_series[node].data[:], data[:, k, :2])
        # the two mice of one camera share that camera's one Skeleton
        mice = [behavior[f"PoseEstimationCameraBack{m}"] for m in ("Mouse1", "Mouse2")]
        assert mice[0].skeleton is mice[1].skeleton


def test_pose_training_frames(tmp_path: Path) -> None:
    from pynwb import NWBHDF5IO

    skeleton = Skeleton("SkeletonCam", NODES, EDGES)
    first = np.array([[10.0, 20.0], [np.nan, np.nan], [30.0, 40.0], [50.5, 60.25]])
    frames = (
        LabeledFrame(7, (first,), video_path="labeled-data/vid/img007.png"),
        LabeledFrame(300, (first + 1, first + 2), video_path="labeled-data/vid/img300.png"),
        LabeledFrame(412, (first,), video="VideoCam", video_path="videos/cam.mp4"),  # its video is in the file
    )
    training = PoseTraining("PoseTrainingCam", skeleton, frames, "/data/CollectedData.csv", "Lightning Pose")
    (tmp_path / "cam.mp4").write_bytes(b"")  # the external file the ImageSeries names (never opened here)
    video = Video("VideoCam", "Cam", (str(tmp_path / "cam.mp4"),), (994,), (396, 406), FrameTimes(rate_hz=250.0))
    out = tmp_path / "training.nwb"
    write_session(Behavior(videos=(video,), training=(training,)), out)
    assert errors(out) == []
    with NWBHDF5IO(str(out), "r", load_namespaces=True) as io:
        behavior = io.read().processing["behavior"]
        found = behavior["PoseTrainingCam"].training_frames.training_frames
        assert set(found) == {"img007_frame7", "img300_frame300", "VideoCam_frame412"}
        linked = found["VideoCam_frame412"]
        assert linked.source_video is io.read().acquisition["VideoCam"] and linked.source_video_frame_index == 412
        assert found["img007_frame7"].source_video is None
        one = found["img007_frame7"].skeleton_instances.skeleton_instances["instance0"]
        np.testing.assert_array_equal(one.node_locations[:], first)
        assert one.node_visibility[:].tolist() == [True, False, True, True]
        assert one.skeleton is behavior["Skeletons"].skeletons["SkeletonCam"]
        two = found["img300_frame300"].skeleton_instances.skeleton_instances
        assert set(two) == {"instance0", "instance1"}
        np.testing.assert_array_equal(two["instance1"].node_locations[:], first + 2)


def test_zarr_store(tmp_path: Path) -> None:
    from nwbconvert.validate.zarr_store import open_io

    data = values(25, 4, seed=5)
    out = tmp_path / "pose.nwb.zarr"
    write_session(Behavior(poses=(pose("PoseEstimationCam", "Cam", ArrayPose(data)),)), out, ("pose.rate=60",), "zarr")
    assert errors(out) == []
    with open_io(out) as io:
        estimation = io.read().processing["behavior"]["PoseEstimationCam"]
        for k, node in enumerate(NODES):
            np.testing.assert_array_equal(estimation.pose_estimation_series[node].data[:], data[:, k, :2])
            np.testing.assert_array_equal(estimation.pose_estimation_series[node].confidence[:], data[:, k, 2])


class CountingPose:
    """A lazy PoseTable that records every block asked of it (an oracle for bounded reads)."""

    def __init__(self, values: np.ndarray) -> None:
        self.values, self.reads = values, []  # type: ignore[var-annotated]

    @property
    def n_frames(self) -> int:
        return int(self.values.shape[0])

    @property
    def n_keypoints(self) -> int:
        return int(self.values.shape[1])

    def read(self, start: int, stop: int) -> np.ndarray:
        self.reads.append((start, stop))
        return self.values[start:stop].copy()


def test_large_tables_are_read_in_bounded_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pynwb import NWBHDF5IO

    from nwbconvert.writer import pose as pose_writer

    monkeypatch.setattr(pose_writer, "WHOLE_BYTES", 1000)  # this table (4 keypoints, 300 000 frames) is "large"
    monkeypatch.setattr(pose_writer, "BLOCK_BYTES", 96 * 131_072)  # 96 bytes a frame: blocks of 2 chunks
    data = values(300_000, 4, seed=6)
    table = CountingPose(data)
    out = tmp_path / "large.nwb"
    write_session(Behavior(poses=(pose("PoseEstimationCam", "Cam", table),)), out, ("pose.rate=100",))
    assert table.reads == [(0, 131_072), (131_072, 262_144), (262_144, 300_000)]  # bounded blocks, one pass
    with NWBHDF5IO(str(out), "r", load_namespaces=True) as io:
        estimation = io.read().processing["behavior"]["PoseEstimationCam"]
        np.testing.assert_array_equal(estimation.pose_estimation_series["tailbase"].data[:], data[:, 3, :2])
        np.testing.assert_array_equal(estimation.pose_estimation_series["snout"].confidence[:], data[:, 0, 2])


def test_small_tables_are_read_once(tmp_path: Path) -> None:
    table = CountingPose(values(1000, 4, seed=7))
    out = tmp_path / "small.nwb"
    write_session(Behavior(poses=(pose("PoseEstimationCam", "Cam", table),)), out, ("pose.rate=100",))
    assert table.reads == [(0, 1000)]


def test_real_deeplabcut_file_through_the_cli(tmp_path: Path) -> None:
    """The real DeepLabCut .h5 beside its video, converted by `nwbconvert convert`: keypoints and likelihoods equal
    pandas' reading of the file; the pose takes its video's frame times and links to its ImageSeries and camera."""
    import pandas as pd
    from pynwb import NWBHDF5IO

    from cli_runner import nwbconvert
    from conftest import realdata

    source = realdata("behavior/dlc/dlc2nwb/m3v1mp4DLC_resnet50_openfieldAug20shuffle1_30000.h5")
    out = tmp_path / "dlc.nwb"
    sets = [a for kv in COMPLETE_METADATA for a in ("--set", kv)]
    done = nwbconvert("convert", source, "-o", out, *sets, "--timezone", "UTC")
    assert done.returncode == 0, done.stderr
    assert "Validated: no errors" in done.stdout
    oracle = pd.read_hdf(source)
    scorer = "DLC_resnet50_openfieldAug20shuffle1_30000"
    with NWBHDF5IO(str(out), "r", load_namespaces=True) as io:
        nwb = io.read()
        estimation = nwb.processing["behavior"]["PoseEstimationCameraM3v1mp4"]
        video = nwb.acquisition["VideoCameraM3v1mp4"]
        assert estimation.source_video is video
        assert estimation.device is nwb.devices["CameraM3v1mp4"]
        assert list(estimation.skeleton.nodes[:]) == list(NODES)
        assert estimation.scorer == scorer and estimation.source_software == "DeepLabCut"
        for node in NODES:
            series = estimation.pose_estimation_series[node]
            np.testing.assert_array_equal(series.data[:, 0], oracle[(scorer, node, "x")].to_numpy())
            np.testing.assert_array_equal(series.data[:, 1], oracle[(scorer, node, "y")].to_numpy())
            np.testing.assert_array_equal(series.confidence[:], oracle[(scorer, node, "likelihood")].to_numpy())
            assert series.data.shape == (2330, 2)
            if video.rate is not None:
                assert series.rate == video.rate and series.starting_time == video.starting_time
            else:
                np.testing.assert_array_equal(series.timestamps[:], video.timestamps[:])


def test_an_empty_table_is_written_empty(tmp_path: Path) -> None:
    from pynwb import NWBHDF5IO

    out = tmp_path / "empty.nwb"
    empty = pose("PoseEstimationCam", "Cam", ArrayPose(np.zeros((0, 4, 3))))
    write_session(Behavior(poses=(empty,)), out, ("pose.rate=30",))
    assert errors(out) == []
    with NWBHDF5IO(str(out), "r", load_namespaces=True) as io:
        series = io.read().processing["behavior"]["PoseEstimationCam"].pose_estimation_series
        assert {name: s.data.shape for name, s in series.items()} == {node: (0, 2) for node in NODES}


def test_real_lightning_pose_labels_become_pose_training(tmp_path: Path) -> None:
    """The real Lightning Pose CollectedData.csv (90 labeled frames, 17 keypoints, no likelihood) through the CLI:
    each frame's node locations equal pandas' reading of the CSV, unlabeled nodes (empty cells) are not visible."""
    import pandas as pd
    from pynwb import NWBHDF5IO

    from cli_runner import nwbconvert
    from conftest import realdata

    source = realdata("behavior/lightning_pose/mirror_mouse/CollectedData.csv")
    out = tmp_path / "labels.nwb"
    sets = [a for kv in COMPLETE_METADATA for a in ("--set", kv)]
    done = nwbconvert("convert", source, "-o", out, *sets, "--timezone", "UTC")
    assert done.returncode == 0, done.stderr
    assert "Validated: no errors" in done.stdout
    oracle = pd.read_csv(source, header=[0, 1, 2], index_col=0)
    values = oracle.to_numpy(dtype="float64").reshape(len(oracle), -1, 2)  # (frames, keypoints, x/y)
    nodes = list(dict.fromkeys(oracle.columns.get_level_values(1)))
    with NWBHDF5IO(str(out), "r", load_namespaces=True) as io:
        behavior = io.read().processing["behavior"]
        (training,) = [obj for obj in behavior.data_interfaces.values() if type(obj).__name__ == "PoseTraining"]
        frames = training.training_frames.training_frames
        assert len(frames) == len(oracle) == 90
        first = next(iter(frames.values())).skeleton_instances.skeleton_instances["instance0"]
        assert list(first.skeleton.nodes[:]) == nodes and len(nodes) == 17
        for i, image in enumerate(oracle.index):
            (name,) = [n for n in frames if n.startswith(Path(image).stem + "_frame")]  # named after its image
            instance = frames[name].skeleton_instances.skeleton_instances["instance0"]
            np.testing.assert_array_equal(instance.node_locations[:], values[i])
            assert instance.node_visibility[:].tolist() == (~np.isnan(values[i]).any(axis=1)).tolist()


def test_progress_reaches_the_planned_bytes(tmp_path: Path) -> None:
    with_confidence = pose("PoseEstimationA", "A", ArrayPose(values(70_000, 4, seed=8)))
    without = pose("PoseEstimationB", "B", ArrayPose(values(1000, 4, seed=9, confidence=False)), has_confidence=False)
    progress: list[int] = []
    write_session(Behavior(poses=(with_confidence, without)), tmp_path / "p.nwb", ("pose.rate=30",), progress=progress)
    planned, *advanced = progress
    assert planned == (70_000 + 1000) * 4 * 3 * 8 and sum(advanced) == planned
