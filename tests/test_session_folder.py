"""Session folders: what `nwbconvert convert DIR` finds under DIR (sources, roles, a pose's video by name), what it
cannot place and why, and the error for two candidates for one role (with the config keys that choose). The
folders are built in tmp from the project's generators and the real DeepLabCut files (symlinked)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import tifffile

from cli_runner import nwbconvert
from conftest import COMPLETE_METADATA, realdata
from nwbconvert.config import config_job
from nwbconvert.errors import UsageError
from nwbconvert.options import ConvertOptions
from nwbconvert.pipeline import read_sources
from nwbconvert.session_folder import Role, discover, pose_video
from nwbconvert.synthetic.ophys_suite2p import write_suite2p_folder
from nwbconvert.synthetic.spikeglx import write_spikeglx_run

DLC = "behavior/dlc/dlc2nwb"
POSE = "m3v1mp4DLC_resnet50_openfieldAug20shuffle1_30000.h5"
VIDEO = "m3v1mp4.mp4"
SET = [a for kv in COMPLETE_METADATA for a in ("--set", kv)]


def link(real: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    os.symlink(real, folder / real.name)
    return folder / real.name


def trials(path: Path, rows: int = 3) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["start_time,stop_time,choice"] + [
        f"{2 * i}.0,{2 * i + 1}.5,{'left' if i % 2 else 'right'}" for i in range(rows)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ephys/ (a SpikeGLX run), imaging/ (a TIFF movie beside a two-plane suite2p folder), trials.csv, and what is
    not a source: notes.txt, a hidden file, an nwbconvert partial, the output."""
    root = tmp_path_factory.mktemp("session")
    write_spikeglx_run(root / "ephys", seconds=0.5, n_channels=4)
    (root / "imaging").mkdir()
    movie = np.arange(40 * 32 * 48, dtype=np.uint16).reshape(40, 32, 48)
    tifffile.imwrite(root / "imaging" / "movie.tif", movie, photometric="minisblack")
    write_suite2p_folder(root / "imaging", n_planes=2, two_channels=False)
    trials(root / "trials.csv")
    (root / "notes.txt").write_text("mouse was calm\n")
    (root / ".DS_Store").write_bytes(b"\0\0")
    (root / ".out.nwb.nwbconvert-partial-1234").write_bytes(b"\x89HDF\r\n")
    (root / "out.nwb").write_bytes(b"\x89HDF\r\n\x1a\n")
    return root


def rows(root: Path, skip: tuple[Path, ...] = ()) -> tuple[set[tuple[str, str, str]], dict[str, str]]:
    found = discover(root, skip=skip)
    sources = {(str(s.path.relative_to(root)), s.reader, s.role.value) for s in found.sources}
    return sources, {str(u.path.relative_to(root)): u.reason for u in found.unplaced}


def test_every_source_found_with_its_role(session: Path) -> None:
    """The run folder is one source (not its .bin files), the suite2p folder one (not its planes, though its reader
    claims each; nor `imaging/`, which it claims too), the movie beside it one; skipped entries are not listed."""
    sources, unplaced = rows(session, skip=(session / "out.nwb",))
    assert sources == {
        ("ephys", "spikeglx", "recording"),
        ("imaging/movie.tif", "tiff", "imaging movie"),
        ("imaging/suite2p", "suite2p", "segmentation"),
        ("trials.csv", "behavior-table", "table"),
    }
    assert unplaced == {"notes.txt": "no reader recognises it"}


def test_the_output_is_not_searched_only_when_named(session: Path) -> None:
    _, unplaced = rows(session)
    assert unplaced == {"notes.txt": "no reader recognises it", "out.nwb": "no reader recognises it"}


@pytest.mark.parametrize(
    ("pose", "expected"),
    [
        ("cam1DLC_resnet50_x.h5", "cam1.mp4"),
        ("cam10DLC_resnet50_x.h5", "cam10.mp4"),
        ("cam1.predictions.slp", "cam1.mp4"),
        ("cam1.csv", "cam1.mp4"),
        ("cam2DLC_resnet50_x.h5", None),
        ("cam.h5", None),
    ],
)
def test_pose_paired_with_its_video_by_name(pose: str, expected: str | None) -> None:
    """The longest video stem the pose's name starts with, not followed by a digit (cam1 is not cam10's video)."""
    videos = [Path("v/cam1.mp4"), Path("v/cam10.mp4"), Path("v/cam1x.avi")]
    found = pose_video(Path("p") / pose, videos)
    assert (found.name if found else None) == expected


def test_a_video_beside_its_pose_is_not_a_source_of_its_own(tmp_path: Path) -> None:
    """The real DeepLabCut table and its video, side by side: one pose source (its reader brings the video)."""
    real = realdata(DLC)
    link(real / POSE, tmp_path / "behavior")
    link(real / VIDEO, tmp_path / "behavior")
    trials(tmp_path / "trials.csv")
    found = discover(tmp_path)
    assert [(s.path.name, s.reader, s.role) for s in found.sources] == [
        (POSE, "deeplabcut", Role.POSE),
        ("trials.csv", "behavior-table", Role.TABLE),
    ]
    assert found.sources[0].video == tmp_path / "behavior" / VIDEO


def test_dry_run_lists_a_pose_without_its_video_as_not_placed(tmp_path: Path) -> None:
    """A pose table alone: --dry-run --json says it could not be placed and why; converting it is exit 4 naming
    pose.rate; with --set pose.rate it is timed by that rate."""
    link(realdata(DLC) / POSE, tmp_path / "dlc")
    trials(tmp_path / "trials.csv")
    (tmp_path / "readme.md").write_text("# session\n")
    dry = nwbconvert("convert", tmp_path, "--dry-run", "--json", *SET)
    assert dry.returncode == 0, dry.stderr
    folder = json.loads(dry.stdout)["result"]["session_folder"]
    assert [(s["path"], s["role"]) for s in folder["sources"]] == [
        (str(tmp_path / "dlc" / POSE), "pose"),
        (str(tmp_path / "trials.csv"), "table"),
    ]
    assert folder["sources"][0]["timing"].startswith("untimed")
    reasons = {Path(u["path"]).name: u["reason"] for u in folder["not_placed"]}
    assert reasons["readme.md"] == "no reader recognises it"
    assert "no video of its name" in reasons[POSE] and "pose.rate" in reasons[POSE]
    text = nwbconvert("convert", tmp_path, "--dry-run", *SET)
    assert "not placed:" in text.stdout and "readme.md: no reader recognises it" in text.stdout
    converted = nwbconvert("convert", tmp_path, "-o", tmp_path / "out.nwb", *SET)
    assert converted.returncode == 4, converted.stderr
    assert "pose.rate" in converted.stderr and not (tmp_path / "out.nwb").exists()
    rated = nwbconvert("convert", tmp_path, "--dry-run", "--json", *SET, "--set", "pose.rate=30")
    assert rated.returncode == 0, rated.stderr
    folder = json.loads(rated.stdout)["result"]["session_folder"]
    assert folder["sources"][0]["timing"] == "pose.rate: 30 Hz from the session start"
    assert POSE not in {Path(u["path"]).name for u in folder["not_placed"]}


def test_a_video_elsewhere_in_the_folder_times_its_pose(tmp_path: Path) -> None:
    """dlc/POSE and videos/VIDEO (a DeepLabCut project's layout): the pose takes the video's frame times and the
    video is written once."""
    real = realdata(DLC)
    link(real / POSE, tmp_path / "dlc")
    link(real / VIDEO, tmp_path / "videos")
    trials(tmp_path / "trials.csv")
    dry = nwbconvert("convert", tmp_path, "--dry-run", "--json", *SET)
    assert dry.returncode == 0, dry.stderr
    doc = json.loads(dry.stdout)["result"]
    pose = doc["session_folder"]["sources"][0]
    assert pose["video"] == str(tmp_path / "videos" / VIDEO)
    assert pose["timing"].startswith("the frame times of its video")
    assert len(doc["plan"]["behavior"]["videos"]) == 1


def test_two_runs_of_one_probe_are_two_candidates(tmp_path: Path) -> None:
    """Two SpikeGLX runs of the same probe: exit 2 naming both and the keys that choose; a session config with
    `folder:` and `ignore:` converts the other one."""
    for day in ("day1", "day2"):
        write_spikeglx_run(tmp_path / "session" / day, run="Run", seconds=0.2, n_channels=2)
    trials(tmp_path / "session" / "trials.csv")
    root = tmp_path / "session"
    with pytest.raises(UsageError) as refused:
        discover(root)
    assert "recording (spikeglx)" in str(refused.value)
    done = nwbconvert("convert", root, "--dry-run")
    assert done.returncode == 2, done.stderr
    message = " ".join(done.stderr.split())
    assert str(root / "day1") in message and str(root / "day2") in message
    assert "folder:" in message and "ignore:" in message
    config = tmp_path / "session.yaml"
    config.write_text(json.dumps({"folder": "session", "ignore": ["session/day2"]}))
    chosen = nwbconvert("convert", "--config", config, "--dry-run", "--json", *SET, "--timezone", "UTC")
    assert chosen.returncode == 0, chosen.stderr
    sources = json.loads(chosen.stdout)["result"]["session_folder"]["sources"]
    assert [(Path(s["path"]).name, s["reader"]) for s in sources] == [
        ("day1", "spikeglx"),
        ("trials.csv", "behavior-table"),
    ]


def test_two_trials_tables_are_two_candidates(tmp_path: Path) -> None:
    trials(tmp_path / "a" / "trials.csv")
    trials(tmp_path / "b" / "old_trials.csv")
    (tmp_path / "wheel.csv").write_text("time,position\n0.0,1.0\n0.1,1.5\n")
    done = nwbconvert("convert", tmp_path, "--dry-run")
    assert done.returncode == 2, done.stderr
    message = " ".join(done.stderr.split())
    assert "trials table" in message
    assert str(tmp_path / "a" / "trials.csv") in message and str(tmp_path / "b" / "old_trials.csv") in message


def test_a_config_needs_sources_or_a_folder(tmp_path: Path) -> None:
    config = tmp_path / "session.yaml"
    config.write_text("ignore: [x]\n")
    done = nwbconvert("convert", "--config", config, "--dry-run")
    assert done.returncode == 2
    message = " ".join(done.stderr.split())
    assert "sources: is required" in message and "give the folder too" in message


def test_one_recording_folder_is_read_as_before(tmp_path: Path) -> None:
    """A SpikeGLX run with a notes file: one source, so no session folder (no `session_folder` in --json)."""
    run = write_spikeglx_run(tmp_path, seconds=0.2, n_channels=2).folder
    (run / "notes.txt").write_text("x\n")
    done = nwbconvert("convert", run, "--dry-run", "--json", *SET, "--timezone", "UTC")
    assert done.returncode == 0, done.stderr
    assert "session_folder" not in json.loads(done.stdout)["result"]


def test_two_cameras_of_one_file_name_get_names_from_their_folders(tmp_path: Path) -> None:
    """left/m3v1mp4.mp4 and right/m3v1mp4.mp4 (the real video twice): two video sources named Left and Right, so
    the series they bring do not collide; a trials table keeps its name."""
    real = realdata(DLC) / VIDEO
    link(real, tmp_path / "left")
    link(real, tmp_path / "right")
    trials(tmp_path / "trials.csv")
    found = discover(tmp_path)
    assert [(s.path.relative_to(tmp_path).as_posix(), s.name) for s in found.sources] == [
        ("left", "Left"),
        ("right", "Right"),
        ("trials.csv", None),
    ]
    dry = nwbconvert("convert", tmp_path, "--dry-run", "--json", *SET)
    assert dry.returncode == 0, dry.stderr
    videos = json.loads(dry.stdout)["result"]["plan"]["behavior"]["videos"]
    assert sorted(v["name"] for v in videos) == ["VideoCameraM3v1mp4Left", "VideoCameraM3v1mp4Right"]


def test_a_config_folder_with_align_times_the_movie_by_a_ttl_line(tmp_path: Path) -> None:
    """`folder:` with `align:`: the TIFF movie found in the folder takes the rising edges of the run's NI-DAQ line
    XD1 (11 in 3 s, read from the .bin with numpy), and --dry-run says so."""
    root = tmp_path / "session"
    run = write_spikeglx_run(root, seconds=3.0, n_channels=2).folder
    (nidq,) = run.glob("*.nidq.bin")
    meta = dict(r.split("=", 1) for r in nidq.with_suffix(".meta").read_text().splitlines() if "=" in r)
    word = np.fromfile(nidq, dtype="<i2").reshape(-1, int(meta["nSavedChans"]))[:, -1].view(np.uint16)
    bit = (word >> 1) & 1
    rising = np.flatnonzero((bit[1:] == 1) & (bit[:-1] == 0)) + 1
    edges = (rising + int(meta["firstSample"])) / float(meta["niSampRate"])
    assert len(edges) == 11
    frames = np.arange(11 * 16 * 12, dtype=np.uint16).reshape(11, 16, 12)
    tifffile.imwrite(root / "movie.tif", frames, photometric="minisblack")
    config = tmp_path / "session.yaml"
    align = [{"target": "TwoPhotonSeriesPlane0Channel0", "channel": "EventsXD1", "label": "XD1 ON"}]
    ophys = {"ophys.indicator": "GCaMP6f", "ophys.location": "VISp", "ophys.excitation_lambda": "920"}
    config.write_text(json.dumps({"folder": "session", "align": align, "timezone": "UTC", "set": ophys}))
    dry = nwbconvert("convert", "--config", config, "--dry-run", "--json", *SET, "--set", "ophys.emission_lambda=510")
    assert dry.returncode == 0, dry.stderr
    doc = json.loads(dry.stdout)["result"]
    timing = {Path(s["path"]).name: s["timing"] for s in doc["session_folder"]["sources"]}
    assert timing["movie.tif"] == "frame times: the events labelled 'XD1 ON' of EventsXD1 (align:)"
    assert timing[run.name].startswith("header start 2026-01-15T10:00:00")
    (movie,) = doc["plan"]["imaging"]["movies"]
    assert movie["n_frames"] == 11 and movie["timing"] == "timestamps"
    job = config_job(config, ConvertOptions(), None)
    merged = read_sources(job.sources, "UTC", job.alignments, job.folder)
    (timed,) = merged.session.imaging.movies
    assert timed.times.timestamps_s is not None
    np.testing.assert_allclose(timed.times.timestamps_s, edges, atol=1e-9)
