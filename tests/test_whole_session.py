"""A whole session in one file: `nwbconvert convert DIR -o out.nwb -m meta.yaml` on a session folder holding a
SpikeGLX run (the project's generator), a TIFF movie beside a suite2p folder (generators), the real DeepLabCut
table with its real video (symlinked from ../shared/realdata) and a trials CSV. One file on one clock, read back
with pynwb against independent oracles (the .meta, tifffile, pandas, PyAV); `validate` finds no error; `info`
shows every part."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tifffile

from cli_runner import nwbconvert
from conftest import realdata
from nwbconvert.synthetic.ophys_suite2p import write_suite2p_folder
from nwbconvert.synthetic.spikeglx import write_spikeglx_run

DLC = "behavior/dlc/dlc2nwb"
POSE = "m3v1mp4DLC_resnet50_openfieldAug20shuffle1_30000.h5"
VIDEO = "m3v1mp4.mp4"
METADATA = """\
session_start_time: null
subject: {subject_id: m1, species: Mus musculus, sex: F, age: P90D}
ophys: {indicator: GCaMP6f, location: VISp, excitation_lambda: 920, emission_lambda: 510, rate: 30}
"""
TRIALS = "start_time,stop_time,choice,reward\n1.0,2.5,left,0.5\n3.0,4.0,right,0.0\n5.5,7.0,left,1.5\n"


@dataclass(frozen=True)
class Session:
    folder: Path
    run: Path
    movie: np.ndarray
    out: Path
    converted: Any  # the CompletedProcess of `convert`


def _meta(path: Path) -> dict[str, str]:
    return dict(row.split("=", 1) for row in path.read_text().splitlines() if "=" in row)


def _container_times(video: Path) -> np.ndarray:
    """Each frame's presentation time in seconds from the container's packets (PyAV), in display order."""
    import av

    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        pts = [p.pts for p in container.demux(stream) if p.size and p.pts is not None]
        base, start = float(stream.time_base), stream.start_time or 0
    return (np.sort(np.asarray(pts, dtype="float64")) - start) * base


def _times(series: Any, n_frames: int | None = None) -> np.ndarray:
    """A series' frame times; `n_frames` for a series whose frames are in an external file."""
    if series.timestamps is not None:
        return np.asarray(series.timestamps[:])
    n = series.data.shape[0] if n_frames is None else n_frames
    return series.starting_time + np.arange(n) / series.rate


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Session:
    root = tmp_path_factory.mktemp("whole")
    folder = root / "sub-m1_ses-1"
    run = write_spikeglx_run(folder / "ephys", seconds=1.0, n_channels=4).folder
    (folder / "imaging").mkdir()
    movie = np.arange(40 * 32 * 48, dtype=np.uint16).reshape(40, 32, 48)
    tifffile.imwrite(folder / "imaging" / "movie.tif", movie, photometric="minisblack")
    write_suite2p_folder(folder / "imaging", n_planes=1, two_channels=False, n_frames=40)
    (folder / "behavior").mkdir()
    for name in (POSE, VIDEO):
        os.symlink(realdata(DLC) / name, folder / "behavior" / name)
    (folder / "trials.csv").write_text(TRIALS)
    meta = root / "meta.yaml"
    meta.write_text(METADATA.replace("session_start_time: null\n", ""))
    out = root / "sub-m1_ses-1_behavior+ecephys+ophys.nwb"
    converted = nwbconvert("convert", folder, "-o", out, "-m", meta, "--timezone", "Europe/Berlin")
    return Session(folder, run, movie, out, converted)


def test_dry_run_shows_every_source_and_how_it_is_timed(session: Session, tmp_path: Path) -> None:
    meta = tmp_path / "meta.yaml"
    meta.write_text(METADATA.replace("session_start_time: null\n", ""))
    dry = nwbconvert("convert", session.folder, "--dry-run", "--json", "-m", meta, "--timezone", "Europe/Berlin")
    assert dry.returncode == 0, dry.stderr
    found = json.loads(dry.stdout)["result"]["session_folder"]
    by_path = {Path(s["path"]).relative_to(session.folder).as_posix(): s for s in found["sources"]}
    assert {p: (s["reader"], s["role"]) for p, s in by_path.items()} == {
        f"behavior/{POSE}": ("deeplabcut", "pose"),
        "ephys": ("spikeglx", "recording"),
        "imaging/movie.tif": ("tiff", "imaging movie"),
        "imaging/suite2p": ("suite2p", "segmentation"),
        "trials.csv": ("behavior-table", "table"),
    }
    assert by_path[f"behavior/{POSE}"]["video"] == str(session.folder / "behavior" / VIDEO)
    assert by_path[f"behavior/{POSE}"]["timing"] == f"the frame times of its video {VIDEO}"
    assert by_path["ephys"]["timing"] == "header start 2026-01-15T10:00:00 (+0 s)"
    assert by_path["trials.csv"]["timing"].startswith("no start time in its headers: placed at the session start")
    assert found["not_placed"] == []
    text = nwbconvert("convert", session.folder, "--dry-run", "-m", meta, "--timezone", "Europe/Berlin")
    assert "sources found in" in text.stdout and "segmentation" in text.stdout


def test_one_file_on_one_clock(session: Session) -> None:
    """ElectricalSeries, TwoPhotonSeries and the video's ImageSeries in acquisition, the PoseEstimation in
    processing/behavior, the trials: each equal to its source, each on the session's clock."""
    import ndx_pose  # noqa: F401  (registers the extension for pynwb)
    import pandas as pd
    from pynwb import NWBHDF5IO

    assert session.converted.returncode == 0, session.converted.stderr
    (ap_bin,) = session.run.glob("*/*.imec0.ap.bin")
    ap = _meta(ap_bin.with_suffix(".meta"))
    rate, first = float(ap["imSampRate"]), int(ap["firstSample"])
    samples = np.fromfile(ap_bin, dtype="<i2").reshape(-1, int(ap["nSavedChans"]))
    frame = pd.read_hdf(realdata(DLC) / POSE)
    video_times = _container_times(realdata(DLC) / VIDEO)
    table = pd.read_csv(session.folder / "trials.csv")
    with NWBHDF5IO(str(session.out), "r") as io:
        nwb = io.read()
        assert nwb.session_start_time.isoformat() == "2026-01-15T10:00:00+01:00"
        es = nwb.acquisition["ElectricalSeriesImec0AP"]
        assert es.rate == rate and es.starting_time == pytest.approx(first / rate)
        np.testing.assert_array_equal(es.data[:], samples[:, :4])
        two_photon = nwb.acquisition["TwoPhotonSeriesPlane0Channel0"]
        assert type(two_photon).__name__ == "TwoPhotonSeries"
        np.testing.assert_array_equal(two_photon.data[:], session.movie.transpose(0, 2, 1))
        assert two_photon.starting_time == 0.0 and two_photon.rate == 30.0
        video = nwb.acquisition["VideoCameraM3v1mp4"]
        assert type(video).__name__ == "ImageSeries" and len(video.external_file) == 1
        assert not Path(video.external_file[0]).is_absolute()
        assert (session.out.parent / video.external_file[0]).resolve() == (realdata(DLC) / VIDEO).resolve()
        np.testing.assert_allclose(_times(video, len(video_times)), video_times, atol=1e-6)
        pose = nwb.processing["behavior"]["PoseEstimationCameraM3v1mp4"]
        assert type(pose).__name__ == "PoseEstimation"
        snout = pose.pose_estimation_series["snout"]
        scorer = frame.columns.get_level_values("scorer")[0]
        np.testing.assert_array_equal(snout.data[:, 0], frame[(scorer, "snout", "x")].to_numpy())
        np.testing.assert_array_equal(snout.confidence[:], frame[(scorer, "snout", "likelihood")].to_numpy())
        np.testing.assert_allclose(_times(snout), video_times, atol=1e-6)
        assert pose.source_video is video
        trials = nwb.trials.to_dataframe()
        np.testing.assert_array_equal(trials["start_time"], table["start_time"])
        np.testing.assert_array_equal(trials["stop_time"], table["stop_time"])
        assert list(trials["choice"]) == list(table["choice"])
        np.testing.assert_array_equal(trials["reward"], table["reward"])
        assert list(nwb.processing["ophys"]["ImageSegmentation"].plane_segmentations) == ["PlaneSegmentationPlane0"]


def test_validate_finds_no_error(session: Session) -> None:
    assert session.converted.returncode == 0, session.converted.stderr
    checked = nwbconvert("validate", session.out, "--format", "json")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    findings = [f for r in json.loads(checked.stdout)["result"]["files"] for f in r["findings"]]
    assert findings and [f for f in findings if f["severity"] == "error"] == []


def test_info_shows_every_part(session: Session) -> None:
    assert session.converted.returncode == 0, session.converted.stderr
    shown = nwbconvert("info", session.out)
    assert shown.returncode == 0, shown.stderr
    lines = {line.split(None, 1)[0]: line for line in shown.stdout.splitlines() if line.strip()}
    assert "PoseEstimationCameraM3v1mp4" in lines["pose"] and "2330 frames" in lines["pose"]
    assert "acquisition/VideoCameraM3v1mp4" in lines["video"]
    assert "trials: 3 rows" in lines["intervals"]
    assert "PlaneSegmentationPlane0" in lines["ROIs"]
    assert "ElectricalSeriesImec0AP" in shown.stdout and "TwoPhotonSeriesPlane0Channel0" in shown.stdout
