"""Behavior videos: frame times equal PyAV's decoded frames' (real videos and generated segments), ImageSeries with
external files relative to the NWB file, --video internal frames, DANDI's layout, validate's external-file check."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest

from cli_runner import nwbconvert
from conftest import COMPLETE_METADATA, realdata
from helpers import provenance
from nwbconvert.readers.behavior.video import all_times, camera_name, group_files, open_video, open_videos
from nwbconvert.synthetic.video import damaged_copy, write_segments, write_video

REAL = {  # path, frames, fps, (width, height): MANIFEST.md
    "dlc": ("behavior/dlc/dlc2nwb/m3v1mp4.mp4", 2330, 30, (640, 480)),
    "lightning_pose": ("behavior/lightning_pose/mirror_mouse/videos/test_vid.mp4", 994, 250, (396, 406)),
    "sleap": ("behavior/sleap/anipose_minimal/back/minimal_back.mp4", 120, 30, (1280, 1024)),
}
SETS = [f"--set={pair}" for pair in COMPLETE_METADATA]


def decoded_times(path: Path) -> np.ndarray:
    """The oracle: every frame decoded by PyAV, its presentation time."""
    with av.open(str(path)) as container:
        return np.asarray([frame.time for frame in container.decode(video=0)], dtype="float64")


def decoded_frames(path: Path, indices: list[int]) -> dict[int, np.ndarray]:
    """Frames decoded in order by PyAV, as (x, y, rgb)."""
    wanted, out = set(indices), {}
    with av.open(str(path)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index in wanted:
                out[index] = frame.to_ndarray(format="rgb24").transpose(1, 0, 2)
    return out


@pytest.mark.parametrize("case", sorted(REAL))
def test_real_video_times_equal_decoded_frames(case: str) -> None:
    relative, frames, fps, size = REAL[case]
    path = realdata(relative)
    video = open_video(path, camera_name(path))
    times = all_times(video)
    assert video.n_frames == frames and video.frame_size == size and video.codec == "h264"
    np.testing.assert_allclose(times, decoded_times(path), rtol=0, atol=1e-9)
    assert abs(np.median(np.diff(times)) - 1 / fps) < 1e-4


def test_camera_and_video_names() -> None:
    assert camera_name("m3v1mp4.mp4") == "CameraM3v1mp4"
    assert camera_name("/x/_iblrig_leftCamera.raw.mp4") == "CameraLeft"
    assert camera_name("back_cam.avi") == "CameraBack"
    assert camera_name("minimal_back.mp4") == "CameraMinimalBack"
    video = open_video(realdata(REAL["sleap"][0]), "CameraBack")
    assert video.name == "VideoCameraBack" and video.camera == "CameraBack"


@pytest.mark.parametrize("continue_clock", [False, True])
def test_numbered_segments_are_one_video(tmp_path: Path, continue_clock: bool) -> None:
    counts = (40, 50, 30)
    paths = write_segments(tmp_path, "cam", counts, fps=30, continue_clock=continue_clock)
    write_video(tmp_path / "side.mp4", 10)
    ((camera, grouped), (side, _)) = group_files(sorted(tmp_path.iterdir()))
    assert (camera, grouped, side) == ("CameraCam", tuple(paths), "CameraSide")
    video = open_videos(grouped, camera)
    assert video.frame_counts == counts and video.starting_frames == (0, 40, 90)
    expected, end = [], None
    for path in paths:  # oracle: each file's decoded times, moved after the previous file when they restart
        times = decoded_times(path)
        if end is not None and times[0] < end:
            times = times - times[0] + end
        expected.append(times)
        end = times[-1] + 1 / 30
    np.testing.assert_allclose(all_times(video), np.concatenate(expected), rtol=0, atol=1e-9)
    np.testing.assert_allclose(all_times(video), np.arange(120) / 30, rtol=0, atol=1e-9)


def test_decoded_frames_equal_pyav(tmp_path: Path) -> None:
    path = realdata(REAL["lightning_pose"][0])
    video = open_video(path, "CameraTest")
    assert video.frames is not None and video.frames.shape == (994, 396, 406, 3)
    picks = [0, 1, 500, 250, 993]  # out of order: forward, seek back, seek forward
    oracle = decoded_frames(path, picks)
    for index in picks:
        np.testing.assert_array_equal(video.frames.read(index, index + 1)[0], oracle[index])


def _convert(source: Path, out: Path, *extra: str) -> None:
    result = nwbconvert("convert", source, "-o", out, *SETS, *extra)
    assert result.returncode == 0, result.stderr


def _series(path: Path, name: str) -> dict:
    from pynwb import NWBHDF5IO

    with NWBHDF5IO(str(path), "r") as io:
        s = io.read().acquisition[name]
        return {
            "external_file": list(s.external_file[:]) if s.external_file is not None else None,
            "starting_frame": list(s.starting_frame[:]) if s.starting_frame is not None else None,
            "times": s.get_timestamps()[:] if s.timestamps is not None else None,
            "rate": s.rate,
            "starting_time": s.starting_time,
            "dimension": list(s.dimension[:]),
            "device": s.device.name,
            "format": s.format,
            "object_id": s.object_id,
            "data": s.data[:] if s.format == "raw" else None,
        }


def test_convert_a_video_alone(tmp_path: Path) -> None:
    source = realdata(REAL["dlc"][0])
    out = tmp_path / "out" / "sub-m1_ses-1_behavior.nwb"
    out.parent.mkdir()
    _convert(source, out)
    s = _series(out, "VideoCameraM3v1mp4")
    (entry,) = s["external_file"]
    assert not os.path.isabs(entry) and (out.parent / entry).resolve() == source.resolve()
    assert s["starting_frame"] == [0] and s["dimension"] == [640, 480] and s["device"] == "CameraM3v1mp4"
    assert s["format"] == "external" and s["times"] is None  # regular frames: a rate, as NWB Inspector asks
    decoded = decoded_times(source)
    np.testing.assert_allclose(s["starting_time"] + np.arange(2330) / s["rate"], decoded, rtol=0, atol=1e-9)
    moved = tmp_path / "one" / "level" / "deeper"
    moved.parent.mkdir(parents=True)
    (tmp_path / "out").rename(moved)  # the NWB file alone, elsewhere: its relative path names nothing there
    result = nwbconvert("validate", moved / out.name, "--json")
    assert result.returncode == 1
    (findings,) = [f["findings"] for f in json.loads(result.stdout)["result"]["files"]]
    missing = [f for f in findings if f["check_id"] == "nwbconvert.external_file_missing"]
    assert missing and missing[0]["severity"] == "error" and entry in missing[0]["message"]


def test_irregular_frames_are_time_stamps(tmp_path: Path) -> None:
    paths = write_segments(tmp_path / "v", "cam", (20, 20, 20), continue_clock=True)
    paths[1].unlink()  # a segment missing: the recorder's clock jumps over its 20 frames
    out = tmp_path / "gap.nwb"
    _convert(tmp_path / "v", out)
    s = _series(out, "VideoCameraCam")
    assert s["external_file"] == ["v/cam_000.mp4", "v/cam_002.mp4"] and s["starting_frame"] == [0, 20]
    expected = np.r_[decoded_times(paths[0]), decoded_times(paths[2])]  # each file's own: they continue one clock
    np.testing.assert_allclose(s["times"], expected, rtol=0, atol=1e-9)
    assert 1.3 < s["times"][20] < 1.34  # frame 40 of 30 fps: the missing segment's time is kept


def test_video_internal_stores_decoded_frames(tmp_path: Path) -> None:
    paths = write_segments(tmp_path / "v", "cam", (25, 20), fps=30)
    out = tmp_path / "internal.nwb"
    _convert(tmp_path / "v", out, "--video", "internal")
    s = _series(out, "VideoCameraCam")
    assert s["format"] == "raw" and s["external_file"] is None and s["data"].shape == (45, 64, 48, 3)
    assert provenance(out)["options"]["video"] == "internal"
    first, second = decoded_frames(paths[0], [0, 24]), decoded_frames(paths[1], [0, 19])
    for index, frame in ((0, first[0]), (24, first[24]), (25, second[0]), (44, second[19])):
        np.testing.assert_array_equal(s["data"][index], frame)
    from nwbconvert.synthetic.video import frame_image

    assert np.abs(s["data"][30].astype(int) - frame_image(5, (64, 48)).transpose(1, 0, 2)).mean() < 8  # lossy codec


def test_dandi_layout_places_videos_as_dandi_organize(tmp_path: Path) -> None:
    from dandi.organize import _create_external_file_names
    from dandi.pynwb_utils import _get_image_series
    from pynwb import NWBHDF5IO

    paths = write_segments(tmp_path / "camera", "cam", (15, 15))
    out = tmp_path / "dandiset" / "sub-m1" / "sub-m1_ses-1_behavior.nwb"
    out.parent.mkdir(parents=True)
    _convert(tmp_path / "camera", out, "--dandi-layout")
    s = _series(out, "VideoCameraCam")
    stem = "sub-m1_ses-1_behavior"
    assert s["external_file"] == [f"{stem}/{s['object_id']}_external_file_{n}.mp4" for n in (0, 1)]
    for entry, source in zip(s["external_file"], paths):
        assert (out.parent / entry).read_bytes() == source.read_bytes()
    assert sorted(p.name for p in (out.parent / stem).iterdir()) == sorted(Path(e).name for e in s["external_file"])
    with NWBHDF5IO(str(out), "r") as io:  # dandi-cli's own rule for where organize puts them: already there
        meta = [{"dandi_path": f"sub-m1/{out.name}", "external_file_objects": _get_image_series(io.read())}]
    (renamed,) = _create_external_file_names(meta)[0]["external_file_objects"]
    assert renamed["external_files_renamed"] == s["external_file"]
    again = nwbconvert("convert", tmp_path / "camera", "-o", out, *SETS, "--dandi-layout", "--overwrite")
    assert again.returncode == 0, again.stderr  # the same names: replaced, no stale copies beside them
    assert len(list((out.parent / stem).iterdir())) == 2
    result = nwbconvert("validate", out, "--dandi-layout", "--json")
    (findings,) = [f["findings"] for f in json.loads(result.stdout)["result"]["files"]]
    assert not [f for f in findings if f["check_id"].startswith("nwbconvert.external_file")]
    dandiset = out.parent.parent
    (dandiset / "dandiset.yaml").write_text("identifier: DANDI:000000\nname: videos\ndescription: videos\n")
    checked = dandi_validate(dandiset)
    assert checked.returncode == 0 and "No errors found" in checked.stdout, checked.stdout + checked.stderr
    (out.parent / stem).rename(tmp_path / "elsewhere")  # the oracle notices missing videos
    assert "check_image_series_external_file_valid" in dandi_validate(dandiset).stdout


def dandi_validate(folder: Path) -> subprocess.CompletedProcess[str]:
    """dandi-cli's own `dandi validate` of a dandiset folder."""
    dandi = Path(sys.executable).parent / "dandi"
    return subprocess.run([dandi, "validate", "."], cwd=folder, capture_output=True, text=True, timeout=300)


def test_validate_flags_an_absolute_external_file(tmp_path: Path) -> None:
    import datetime as dt

    from pynwb import NWBHDF5IO, NWBFile
    from pynwb.image import ImageSeries

    video = write_video(tmp_path / "cam.mp4", 5)
    nwbfile = NWBFile("videos", "abs", dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc))
    nwbfile.add_acquisition(
        ImageSeries(
            name="Video", external_file=[str(video)], starting_frame=[0], num_samples=5, rate=30.0, format="external"
        )
    )
    with NWBHDF5IO(str(tmp_path / "abs.nwb"), "w") as io:
        io.write(nwbfile)
    result = nwbconvert("validate", tmp_path / "abs.nwb", "--json")
    (findings,) = [f["findings"] for f in json.loads(result.stdout)["result"]["files"]]
    (finding,) = [f for f in findings if f["check_id"] == "nwbconvert.external_file_absolute"]
    assert finding["severity"] == "error" and finding["location"] == "/acquisition/Video"


def test_damaged_video_is_refused_in_plain_words(tmp_path: Path) -> None:
    source = write_video(tmp_path / "cam.mp4", 60)
    bad = damaged_copy(source, tmp_path / "bad.mp4")
    result = nwbconvert("convert", bad, "-o", tmp_path / "bad.nwb", *SETS)
    assert result.returncode == 3 and "bad.mp4: could not be read as a video" in result.stderr
    assert "Traceback" not in result.stderr and "Error:" in result.stderr
    assert not (tmp_path / "bad.nwb").exists()


def test_batch_places_videos_in_dandi_layout(tmp_path: Path) -> None:
    from pynwb import NWBHDF5IO

    source = write_video(tmp_path / "raw" / "m1" / "day1" / "back.mp4", 20)
    out = tmp_path / "dandiset"
    sets = [s for s in SETS if "subject_id" not in s]
    result = nwbconvert("batch", "--source", str(tmp_path / "raw" / "{subject_id}" / "{session_id}"), "-o", out, *sets)
    assert result.returncode == 0, result.stdout + result.stderr
    (nwb,) = (out / "sub-m1").glob("*.nwb")
    with NWBHDF5IO(str(nwb), "r") as io:
        series = io.read().acquisition["VideoCameraBack"]
        (entry,) = series.external_file[:]
        assert entry == f"{nwb.stem}/{series.object_id}_external_file_0.mp4"
    assert (nwb.parent / entry).read_bytes() == source.read_bytes()


def test_session_config_chooses_internal_videos(tmp_path: Path) -> None:
    write_video(tmp_path / "top.mp4", 12)
    (tmp_path / "session.yaml").write_text("sources:\n  - path: top.mp4\noptions:\n  video: internal\n")
    out = tmp_path / "config.nwb"
    result = nwbconvert("convert", "--config", tmp_path / "session.yaml", "-o", out, *SETS)
    assert result.returncode == 0, result.stderr
    s = _series(out, "VideoCameraTop")
    assert s["format"] == "raw" and s["data"].shape == (12, 64, 48, 3)
    np.testing.assert_array_equal(s["data"][11], decoded_frames(tmp_path / "top.mp4", [11])[11])
