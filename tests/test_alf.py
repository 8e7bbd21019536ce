"""IBL ALF session folders (ibl-alf): what the reader finds equals what ONE's one.alf.io loads from the same folder
(the oracle), on a session generated in ONE's layout and on the real IBL trials table; then the CLI conversion
read back with pynwb / ndx-pose / h5py."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cli_runner import nwbconvert
from conftest import COMPLETE_METADATA, realdata
from nwbconvert.model import Session
from nwbconvert.readers.base import ReadOptions
from nwbconvert.readers.behavior.alf import AlfReader
from nwbconvert.synthetic.alf import ACRONYMS, AREA_IDS, AlfSession, channel_acronyms, write_alf_session

REAL_TRIALS = "behavior/ibl/photometry_v5"
SETS = [a for pair in (("--set", s) for s in COMPLETE_METADATA if not s.startswith("session_start")) for a in pair]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> AlfSession:
    return write_alf_session(tmp_path_factory.mktemp("alf"), n_trials=8, videos=("left",))


@pytest.fixture(scope="module")
def session(generated: AlfSession) -> Session:
    return AlfReader().read(generated.session, ReadOptions())


def _load(folder: Path, obj: str) -> dict:
    from one.alf.io import load_object

    return dict(load_object(folder, obj))


def test_trials_and_wheel_moves_equal_one_alf_io(generated: AlfSession, session: Session) -> None:
    alf = generated.session / "alf"
    trials = {t.name: t for t in session.behavior.tables}
    assert sorted(trials) == ["trials", "wheelMoves"]
    for name in trials:
        oracle = _load(alf, name)
        table = trials[name]
        np.testing.assert_array_equal(table.start_s, oracle["intervals"][:, 0])
        np.testing.assert_array_equal(table.stop_s, oracle["intervals"][:, 1])
        expected = {k for k in oracle if k not in ("intervals", "intervals_bpod")}
        assert {c.name for c in table.columns} == expected
        for column in table.columns:
            np.testing.assert_array_equal(column.values, oracle[column.name])
    assert len(trials["trials"]) == generated.n_trials == 8 and len(trials["wheelMoves"]) == 25
    choice = next(c for c in trials["trials"].columns if c.name == "choice")
    assert choice.values.dtype == np.int64  # the table.pqt's own type (one.alf.io gives floats)
    assert any("_ibl_trials.intervals_bpod.npy not converted" in n.message for n in session.notes)


def test_per_attribute_trials_equal_one_alf_io(tmp_path: Path) -> None:
    generated = write_alf_session(tmp_path, n_trials=12, trials_table=False)
    read = AlfReader().read(generated.session / "alf", ReadOptions())  # the alf folder itself
    oracle = _load(generated.session / "alf", "trials")
    table = next(t for t in read.behavior.tables if t.name == "trials")
    assert len(table) == 12 and {c.name for c in table.columns} == set(oracle) - {"intervals", "intervals_bpod"}
    np.testing.assert_array_equal(np.c_[table.start_s, table.stop_s], oracle["intervals"])
    for column in table.columns:
        np.testing.assert_array_equal(column.values, oracle[column.name])


def test_each_task_collection_is_read(tmp_path: Path) -> None:
    generated = write_alf_session(tmp_path, n_trials=5, tasks=("task_00", "task_01"))
    read = AlfReader().read(generated.session, ReadOptions())
    tables = {t.name: t for t in read.behavior.tables}
    signals = {s.name: s for s in read.behavior.signals}
    assert sorted(tables) == ["trials", "trialsTask01", "wheelMoves", "wheelMovesTask01"]
    assert sorted(signals) == ["Licks", "WheelPosition", "WheelPositionTask01"]
    for suffix, task in (("", "task_00"), ("Task01", "task_01")):
        folder = generated.session / "alf" / task
        np.testing.assert_array_equal(tables["trials" + suffix].start_s, _load(folder, "trials")["intervals"][:, 0])
        np.testing.assert_array_equal(signals["WheelPosition" + suffix].data, _load(folder, "wheel")["position"])
    assert tables["trialsTask01"].start_s[0] > tables["trials"].stop_s[-1]  # the second task follows the first


def test_wheel_and_licks_equal_one_alf_io(generated: AlfSession, session: Session) -> None:
    alf = generated.session / "alf"
    signals = {s.name: s for s in session.behavior.signals}
    assert sorted(signals) == ["Licks", "WheelPosition"]
    wheel, oracle = signals["WheelPosition"], _load(alf, "wheel")
    assert wheel.role.value == "position" and wheel.unit == "radians"
    np.testing.assert_array_equal(wheel.data, oracle["position"])
    np.testing.assert_array_equal(wheel.times.timestamps_s, oracle["timestamps"])
    licks = signals["Licks"]
    assert licks.role.value == "events" and licks.n_samples == 150
    np.testing.assert_array_equal(licks.times.timestamps_s, _load(alf, "licks")["times"])


def test_pose_per_camera_timed_by_camera_times(generated: AlfSession, session: Session) -> None:
    alf = generated.session / "alf"
    poses = {p.name: p for p in session.behavior.poses}
    assert sorted(poses) == ["PoseEstimationCameraLeft", "PoseEstimationCameraRight"]  # the body camera has none
    for name, camera, tool, software in (
        ("PoseEstimationCameraLeft", "left", "dlc", "DeepLabCut"),
        ("PoseEstimationCameraRight", "right", "lightningPose", "Lightning Pose"),
    ):
        pose = poses[name]
        frame = pd.read_parquet(alf / f"_ibl_{camera}Camera.{tool}.pqt")
        parts = ["nose_tip", "paw_l", "paw_r", "tongue_end_l"]
        assert pose.source_software == software and pose.skeleton.nodes == tuple(parts)
        assert pose.n_frames == generated.cameras[camera] == len(frame)
        values = pose.table.read(0, pose.n_frames)
        for k, part in enumerate(parts):
            for axis, suffix in enumerate(("_x", "_y", "_likelihood")):
                np.testing.assert_array_equal(values[:, k, axis], frame[part + suffix].to_numpy())
        np.testing.assert_array_equal(pose.times.timestamps_s, _load(alf, f"{camera}Camera")["times"])
    assert poses["PoseEstimationCameraLeft"].video == "VideoCameraLeft"


def test_raw_video_takes_the_camera_times(generated: AlfSession, session: Session) -> None:
    import av

    (video,) = session.behavior.videos
    path = generated.session / "raw_video_data" / "_iblrig_leftCamera.raw.mp4"
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for p in container.demux(stream) if p.size)
        size = (stream.codec_context.width, stream.codec_context.height)
    assert video.files == (str(path.resolve()),) and video.n_frames == frames == generated.cameras["left"]
    assert video.frame_size == size == (64, 48)
    np.testing.assert_array_equal(video.times.timestamps_s, _load(generated.session / "alf", "leftCamera")["times"])


def test_one_sorting_per_probe_with_brain_areas(generated: AlfSession, session: Session) -> None:
    sortings = {s.name: s for s in session.sortings}
    assert sorted(sortings) == ["probe00-pykilosort", "probe01"]
    for name, collection in (("probe00-pykilosort", "probe00/pykilosort"), ("probe01", "probe01")):
        folder = generated.session / "alf" / collection
        spikes, clusters, channels = (_load(folder, o) for o in ("spikes", "clusters", "channels"))
        sorting = sortings[name]
        assert len(sorting.units) == len(clusters["channels"]) == generated.n_clusters
        for unit in sorting.units:
            k = int(unit.name)
            np.testing.assert_array_equal(unit.spike_times_s, np.sort(spikes["times"][spikes["clusters"] == k]))
            assert unit.channel_ids == (str(int(clusters["channels"][k])),)
            assert unit.properties["ks2_label"] == clusters["metrics"]["ks2_label"][k]
            assert unit.properties["peakToTrough"] == clusters["peakToTrough"][k]
        assert len(sorting.units[-1].spike_times_s) == 0  # a cluster without spikes stays a unit
        assert [c.position_um for c in sorting.channels] == [tuple(xy) for xy in channels["localCoordinates"]]
        assert {c.group for c in sorting.channels} == {collection.split("/")[0]}
    locations = [c.location for c in sortings["probe00-pykilosort"].channels]
    assert (
        locations
        == channel_acronyms()
        == list(_load(generated.session / "alf/probe00/pykilosort", "channels")["acronym"])
    )
    ids = _load(generated.session / "alf/probe01", "channels")["brainLocationIds_ccf_2017"]
    assert set(ids) == set(AREA_IDS) and set(locations) == set(ACRONYMS)
    assert [c.location for c in sortings["probe01"].channels] == [f"Allen CCF 2017 structure id {i}" for i in ids]
    assert any("clusters.waveforms.npy not converted" in n.message for n in session.notes)


def test_session_start_and_subject_from_the_folder(generated: AlfSession, session: Session) -> None:
    settings = json.loads((generated.session / "raw_behavior_data/_iblrig_taskSettings.raw.json").read_text())
    assert session.header.session_start_time == dt.datetime(2023, 4, 5, 10, 11, 12, 345678)
    assert settings["SESSION_DATETIME"] == "2023-04-05T10:11:12.345678" and session.header.subject_id == "KS023"
    assert session.header.session_description == "IBL session KS023 2023-04-05 number 001 (ALF folder)."
    notes = " ".join(n.message for n in session.notes)
    assert "leftCamera.ROIMotionEnergy.npy not converted" in notes and "spikes.amps.npy" in notes


def test_probe_claims_the_alf_folder_and_leaves_a_session_to_a_recording_beside_it(generated: AlfSession) -> None:
    from nwbconvert.readers.base import Match

    reader = AlfReader()
    assert reader.probe(generated.session / "alf") == Match.CONTENT
    assert reader.probe(generated.session) == Match.SUFFIX  # a raw_ephys_data/ recording's reader wins the folder
    assert reader.probe(generated.session / "alf" / "probe00") == Match.NO  # a probe folder is a part of alf/
    assert reader.probe(generated.session / "raw_video_data") == Match.NO


def test_an_ephys_session_starts_with_its_recording(tmp_path: Path) -> None:
    generated = write_alf_session(tmp_path, n_trials=4)
    (generated.session / "raw_ephys_data").mkdir()
    read = AlfReader().read(generated.session, ReadOptions())
    assert read.header.session_start_time is None and read.header.subject_id == "KS023"
    (note,) = [n for n in read.notes if n.what == "ephys-clock"]
    assert "2023-04-05T10:11:12.345678" in note.message
    assert "placed at the first sample of its main clock" in note.message


def test_real_ibl_trials_table() -> None:
    folder = realdata(REAL_TRIALS)
    frame = pd.read_parquet(folder / "_ibl_trials.table.pqt")
    read = AlfReader().read(folder, ReadOptions())
    (table,) = read.behavior.tables
    assert table.name == "trials" and len(table) == len(frame) == 617
    np.testing.assert_array_equal(table.start_s, frame["intervals_0"].to_numpy())
    np.testing.assert_array_equal(table.stop_s, frame["intervals_1"].to_numpy())
    assert [c.name for c in table.columns] == [c for c in frame.columns if not c.startswith("intervals")]
    for column in table.columns:
        np.testing.assert_array_equal(column.values, frame[column.name].to_numpy())
        assert column.values.dtype == frame[column.name].dtype
    assert read.header.session_start_time is None
    assert any("no _iblrig_taskSettings.raw.json" in n.message for n in read.notes)


def _convert(source: Path, out: Path, *extra: str) -> object:
    return nwbconvert("convert", source, "-o", out, *SETS, "--timezone", "UTC", *extra)


def test_a_missing_attribute_file_is_named(tmp_path: Path) -> None:
    generated = write_alf_session(tmp_path, n_trials=4, trials_table=False)
    (generated.session / "alf" / "_ibl_trials.intervals.npy").unlink()
    done = _convert(generated.session, tmp_path / "out.nwb", "--format", "ibl-alf")
    assert done.returncode == 3, done.stderr
    assert "_ibl_trials.intervals.npy is missing" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out.nwb").exists()


def test_pose_and_camera_times_of_different_lengths_are_refused(tmp_path: Path) -> None:
    generated = write_alf_session(tmp_path, n_trials=4)
    times = generated.session / "alf" / "_ibl_rightCamera.times.npy"
    np.save(times, np.load(times)[:-7])
    done = _convert(generated.session, tmp_path / "out.nwb", "--format", "ibl-alf")
    n = generated.cameras["right"]
    assert done.returncode == 3, done.stderr
    assert f"has {n} frames but _ibl_rightCamera.times.npy gives {n - 7} frame times" in done.stderr


def test_without_task_settings_the_start_must_be_given(tmp_path: Path) -> None:
    generated = write_alf_session(tmp_path, n_trials=4, session_datetime=None)
    done = _convert(generated.session, tmp_path / "out.nwb", "--format", "ibl-alf")
    assert done.returncode == 4 and "session_start_time: is missing" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "out.nwb").exists()


def test_a_whole_session_converts_and_validates(generated: AlfSession, tmp_path: Path) -> None:
    from one.alf.io import load_object
    from pynwb import NWBHDF5IO

    out = tmp_path / "sub-KS023_ses-1_behavior+ecephys.nwb"
    done = _convert(generated.session, out)
    assert done.returncode == 0, done.stderr
    alf = generated.session / "alf"
    with NWBHDF5IO(str(out), "r", load_namespaces=True) as io:
        nwb = io.read()
        trials, oracle = nwb.trials.to_dataframe(), load_object(alf, "trials")
        assert len(trials) == 8 and set(trials.columns) == {"start_time", "stop_time"} | (
            set(oracle) - {"intervals", "intervals_bpod"}
        )
        np.testing.assert_array_equal(trials[["start_time", "stop_time"]].to_numpy(), oracle["intervals"])
        for name in set(oracle) - {"intervals", "intervals_bpod"}:
            np.testing.assert_array_equal(trials[name].to_numpy(), oracle[name])
        moves = nwb.intervals["wheelMoves"].to_dataframe()
        np.testing.assert_array_equal(moves["peakAmplitude"], load_object(alf, "wheelMoves")["peakAmplitude"])
        behavior = nwb.processing["behavior"]
        wheel, oracle = behavior["Position"]["WheelPosition"], load_object(alf, "wheel")
        assert type(wheel).__name__ == "SpatialSeries" and wheel.unit == "radians"
        np.testing.assert_array_equal(wheel.data[:], oracle["position"])
        np.testing.assert_array_equal(wheel.timestamps[:], oracle["timestamps"])
        licks = behavior["BehavioralEvents"]["Licks"]
        np.testing.assert_array_equal(licks.timestamps[:], load_object(alf, "licks")["times"])
        for camera, tool in (("left", "dlc"), ("right", "lightningPose")):
            pose = behavior[f"PoseEstimationCamera{camera.capitalize()}"]
            frame = pd.read_parquet(alf / f"_ibl_{camera}Camera.{tool}.pqt")
            series = pose.pose_estimation_series["paw_r"]
            np.testing.assert_array_equal(series.data[:], frame[["paw_r_x", "paw_r_y"]].to_numpy())
            np.testing.assert_array_equal(series.confidence[:], frame["paw_r_likelihood"].to_numpy())
            np.testing.assert_array_equal(series.timestamps[:], load_object(alf, f"{camera}Camera")["times"])
        video = nwb.acquisition["VideoCameraLeft"]
        np.testing.assert_array_equal(video.timestamps[:], load_object(alf, "leftCamera")["times"])
        units = nwb.units.to_dataframe()
        electrodes = nwb.electrodes.to_dataframe()
    assert sorted(set(units["sorting"])) == ["probe00-pykilosort", "probe01"] and len(units) == 24
    for sorting, rows in units.groupby("sorting"):
        spikes = load_object(alf / str(sorting).replace("-", "/"), "spikes")
        for _, unit in rows.iterrows():
            k = int(unit["unit_name"])
            np.testing.assert_array_equal(unit["spike_times"], np.sort(spikes["times"][spikes["clusters"] == k]))
    probe00 = electrodes[electrodes["group_name"] == "probe00"]
    channels = load_object(alf / "probe00/pykilosort", "channels")
    assert list(probe00["location"]) == list(channels["acronym"])
    np.testing.assert_array_equal(probe00[["rel_x", "rel_y"]].to_numpy(), channels["localCoordinates"])
    checked = nwbconvert("validate", out)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_real_trials_table_converts(tmp_path: Path) -> None:
    from pynwb import NWBHDF5IO

    folder = realdata(REAL_TRIALS)
    out = tmp_path / "trials.nwb"
    done = _convert(folder, out, "--set", "session_start_time=2024-01-31T10:00:00+00:00")
    assert done.returncode == 0, done.stderr
    frame = pd.read_parquet(folder / "_ibl_trials.table.pqt")
    with NWBHDF5IO(str(out), "r") as io:
        trials = io.read().trials.to_dataframe()
    assert len(trials) == 617
    np.testing.assert_array_equal(trials["start_time"], frame["intervals_0"])
    for name in ("choice", "feedbackType", "contrastLeft", "firstMovement_times"):
        np.testing.assert_array_equal(trials[name].to_numpy(), frame[name].to_numpy())
        assert trials[name].dtype == frame[name].dtype


def test_reading_stays_offline_without_a_one_configuration(generated: AlfSession, tmp_path: Path) -> None:
    """ONE's Alyx client (one.api, one.webclient, one.params) is never imported, and nothing is written to HOME."""
    import os
    import subprocess
    import sys

    home = tmp_path / "home"
    home.mkdir()
    script = (
        "import json, sys; from pathlib import Path; from nwbconvert.readers.behavior.alf import AlfReader; "
        "from nwbconvert.readers.base import ReadOptions; "
        f"s = AlfReader().read(Path({str(generated.session)!r}), ReadOptions()); "
        "print(json.dumps([len(s.sortings), sorted(m for m in sys.modules if m.startswith('one.'))]))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ONE_", "XDG_"))} | {"HOME": str(home)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    count, modules = json.loads(done.stdout)
    assert count == 2 and "one.alf.io" in modules
    assert not {"one.api", "one.webclient", "one.params", "one.remote"} & set(modules)
    assert list(home.iterdir()) == []


def test_pose_columns_that_are_not_keypoints_are_a_note(tmp_path: Path) -> None:
    generated = write_alf_session(tmp_path, n_trials=3)
    path = generated.session / "alf" / "_ibl_rightCamera.lightningPose.pqt"
    frame = pd.read_parquet(path)
    frame["nose_tip_ens_var"] = 0.5
    frame.drop(columns="paw_r_likelihood").to_parquet(path)  # paw_r without a likelihood: not a keypoint
    read = AlfReader().read(generated.session, ReadOptions())
    pose = next(p for p in read.behavior.poses if p.camera == "CameraRight")
    assert pose.skeleton.nodes == ("nose_tip", "paw_l", "tongue_end_l")
    np.testing.assert_array_equal(pose.table.read(0, 5)[:, 1, 0], frame["paw_l_x"].to_numpy()[:5])
    (note,) = [n for n in read.notes if n.path == str(path)]
    assert "paw_r_x, paw_r_y, nose_tip_ens_var not converted" in note.message


def test_stub_keeps_the_first_seconds(generated: AlfSession) -> None:
    read = AlfReader().read(generated.session, ReadOptions(stub_seconds=5.0))
    trials = next(t for t in read.behavior.tables if t.name == "trials")
    full = _load(generated.session / "alf", "trials")["intervals"][:, 0]
    assert list(trials.start_s) == list(full)  # tables are small: kept whole, as the behavior-table reader keeps them
    wheel = next(s for s in read.behavior.signals if s.name == "WheelPosition")
    stamps = wheel.times.timestamps_s
    assert stamps is not None and stamps[-1] < stamps[0] + 5.0 and len(wheel.data) == len(stamps)
    poses = {p.camera: p for p in read.behavior.poses}
    assert poses["CameraLeft"].n_frames == generated.cameras["left"]  # its video is kept whole
    assert 0 < poses["CameraRight"].n_frames < generated.cameras["right"]
    spikes = [t for s in read.sortings for u in s.units for t in u.spike_times_s]
    assert spikes and max(spikes) < min(spikes) + 5.0


def test_beside_its_recording_alf_times_count_from_the_main_probes_first_sample(tmp_path: Path) -> None:
    """IBL's ALF times count from the first sample of the main clock's file (the NI-DAQ's in a 3B rig); SpikeGLX
    counts that sample from acquisition start (`firstSample`), so in the NWB file trials and wheel start that much
    after the file's start time, on the recording's clock."""
    from pynwb import NWBHDF5IO

    from nwbconvert.synthetic.spikeglx import write_spikeglx_run

    generated = write_alf_session(tmp_path / "lab", n_trials=4)
    write_spikeglx_run(generated.session / "raw_ephys_data", seconds=1.0, n_channels=4)
    (meta,) = generated.session.glob("raw_ephys_data/**/*.nidq.meta")
    fields = dict(line.split("=", 1) for line in meta.read_text().splitlines() if "=" in line)
    first_s = int(fields["firstSample"]) / float(fields["niSampRate"])  # the oracle: SpikeGLX's own .meta
    assert first_s > 50  # the generated run, as the real np1 .meta, starts 57.9 s into acquisition
    out = tmp_path / "session.nwb"
    sets = [a for kv in COMPLETE_METADATA if not kv.startswith("session_start_time") for a in ("--set", kv)]
    done = nwbconvert("convert", generated.session, "-o", out, "--timezone", "UTC", *sets)
    assert done.returncode == 0, done.stderr
    alf = generated.session / "alf"
    trials = pd.read_parquet(alf / "_ibl_trials.table.pqt")
    wheel = np.load(alf / "_ibl_wheel.timestamps.npy")
    with NWBHDF5IO(str(out), "r") as io:
        nwbfile = io.read()
        assert nwbfile.acquisition["TimeSeriesNIDQ"].starting_time == pytest.approx(first_s)
        np.testing.assert_allclose(nwbfile.trials["start_time"][:], trials["intervals_0"] + first_s)
        series = nwbfile.processing["behavior"]["Position"]["WheelPosition"]
        np.testing.assert_allclose(series.timestamps[:], wheel + first_s)
