"""Movie readers through roiextractors: Inscopix .isxd (a real file, and its TIFF twin read with tifffile), UCLA
Miniscope V4 folders, Scanbox .sbx + .mat and Femtonics .mesc (files the project writes in the vendor's layout).
Oracle: roiextractors' own extractor on the same file (frames transposed to NWB's (frame, x, y) order)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import realdata
from nwbconvert.imaging import Imaging, Microscopy, Movie
from nwbconvert.options import ConvertOptions
from nwbconvert.pipeline import read_session
from nwbconvert.readers.base import Match
from nwbconvert.readers.registry import detect

ISXD = "ophys/inscopix/ideas_toolbox/movie_part2_108x123x63.isxd"
ISXD_TIFF = "ophys/tiff/ideas_toolbox/movie_part2_108x123x63.tiff"


def _imaging(path: Path, stub_seconds: float | None = None) -> Imaging:
    session = read_session(path, ConvertOptions(stub_seconds=stub_seconds))
    assert not session.recordings
    return session.imaging


def _same_frames(movie: Movie, oracle: object, picks: tuple[int, ...] | None = None) -> None:
    """Sampled frames read through the Movie equal roiextractors' get_series, transposed to (frame, x, y)."""
    n = movie.n_frames
    for start in picks or (0, n // 2, n - 1):
        stop = min(n, start + 2)
        expected = np.swapaxes(np.asarray(oracle.get_series(start_sample=start, end_sample=stop)), 1, 2)  # type: ignore[attr-defined]
        got = movie.frames.read(start, stop)
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)


# --- Inscopix ---------------------------------------------------------------------------------------------------


def test_inscopix_real_movie_against_roiextractors_and_its_tiff_twin() -> None:
    import tifffile
    from roiextractors import InscopixImagingExtractor

    path = realdata(ISXD)
    assert detect(path).name == "inscopix"
    imaging = _imaging(path)
    (plane,) = imaging.planes
    (movie,) = imaging.movies
    assert plane.name == "Plane0" and plane.microscopy is Microscopy.ONE_PHOTON
    assert [c.name for c in plane.channels] == ["Channel0"]
    assert movie.name == "OnePhotonSeriesPlane0Channel0" and movie.plane == "Plane0"
    oracle = InscopixImagingExtractor(file_path=path)
    assert oracle.get_image_shape() == (123, 108)  # (height, width)
    assert movie.n_frames == oracle.get_num_samples() == 63
    assert movie.frame_shape == (108, 123)  # (x, y)
    assert movie.dtype == np.dtype("float32") == oracle.get_dtype()
    assert plane.rate_hz == pytest.approx(10.0) and movie.times.rate_hz == pytest.approx(
        oracle.get_sampling_frequency()
    )
    assert movie.times.timestamps_s is None and movie.times.t_start_s == 0.0
    assert plane.grid_spacing_um == (3.0, 3.0) and plane.origin_um == (60.0, 15.0)  # the footer's spacingInfo (µm)
    _same_frames(movie, oracle, (0, 1, 31, 62))
    twin = tifffile.imread(realdata(ISXD_TIFF))  # (frames, height, width)
    np.testing.assert_array_equal(movie.frames.read(0, movie.n_frames), np.swapaxes(twin, 1, 2))


def test_inscopix_stub_keeps_the_first_seconds() -> None:
    (movie,) = _imaging(realdata(ISXD), stub_seconds=1.0).movies
    assert movie.n_frames == 10 and movie.frame_shape == (108, 123)


def test_inscopix_probe_claims_movies_and_leaves_cell_sets(tmp_path: Path) -> None:
    import datetime as dt

    import isx

    from nwbconvert.readers.ophys.inscopix import ISXD_CELL_SET, ISXD_MOVIE, InscopixReader, isxd_type

    start = isx.Time._from_secs_since_epoch(isx.Duration.from_secs(1_700_000_000), utc_offset=3600)
    timing = isx.Timing(num_samples=4, period=isx.Duration.from_msecs(50), start=start, dropped=[2])
    spacing = isx.Spacing(num_pixels=(6, 5))
    cells = isx.CellSet.write(str(tmp_path / "cells.isxd"), timing, spacing)
    cells.set_cell_data(0, np.ones((6, 5), np.float32), np.arange(4, dtype=np.float32), "C0")
    movie = isx.Movie.write(str(tmp_path / "movie.isxd"), timing, spacing, np.uint16)
    frames = np.arange(1, 4 * 6 * 5 + 1, dtype=np.uint16).reshape(4, 6, 5)
    frames[2] = 0  # a dropped frame is stored blank
    for i in (0, 1, 3):
        movie.set_frame_data(i, frames[i])
    cells.flush()
    movie.flush()
    del cells, movie
    reader = InscopixReader()
    assert (isxd_type(tmp_path / "cells.isxd"), isxd_type(tmp_path / "movie.isxd")) == (ISXD_CELL_SET, ISXD_MOVIE)
    assert reader.probe(tmp_path / "cells.isxd") == Match.NO and reader.probe(tmp_path / "movie.isxd") == Match.CONTENT
    (tmp_path / "empty.isxd").write_bytes(b"")
    assert reader.probe(tmp_path / "empty.isxd") == Match.SUFFIX
    session = read_session(tmp_path / "movie.isxd", ConvertOptions())
    (written,) = session.imaging.movies
    assert written.frame_shape == (5, 6) and written.dtype == np.dtype("uint16")
    assert written.times.rate_hz == pytest.approx(20.0)
    np.testing.assert_array_equal(written.frames.read(0, 4), np.swapaxes(frames, 1, 2))
    expected = dt.datetime(2023, 11, 14, 23, 13, 20, tzinfo=dt.timezone(dt.timedelta(hours=1)))  # footer's start
    assert session.header.session_start_time == expected
    assert "dropped frames (indices, blank in the movie): 2" in session.imaging.planes[0].description


# --- UCLA Miniscope ---------------------------------------------------------------------------------------------


@pytest.fixture
def miniscope(tmp_path: Path) -> Path:
    from nwbconvert.synthetic.ophys_miniscope import write_miniscope

    return write_miniscope(tmp_path / "session", n_frames=12, frames_per_file=5, width=40, height=24)


@pytest.mark.parametrize("level", ["device", "session"])
def test_miniscope_folder_against_roiextractors(miniscope: Path, level: str) -> None:
    import pandas as pd
    from roiextractors import MiniscopeImagingExtractor

    from nwbconvert.synthetic.ophys_miniscope import DEVICE, miniscope_frames

    device = miniscope / DEVICE
    path = device if level == "device" else miniscope
    assert detect(path).name == "miniscope"
    session = read_session(path, ConvertOptions())
    (plane,) = session.imaging.planes
    (movie,) = session.imaging.movies
    assert plane.microscopy is Microscopy.ONE_PHOTON and plane.device == DEVICE
    assert movie.name == "OnePhotonSeriesPlane0Channel0"
    oracle = MiniscopeImagingExtractor(folder_path=device)
    assert movie.n_frames == oracle.get_num_samples() == 12
    assert oracle.get_image_shape() == (24, 40) and movie.frame_shape == (40, 24)
    assert movie.dtype == np.dtype("uint8") == oracle.get_dtype()
    stamps = pd.read_csv(device / "timeStamps.csv")["Time Stamp (ms)"].to_numpy() / 1000.0
    assert movie.times.timestamps_s is not None and movie.times.rate_hz is None
    np.testing.assert_array_equal(movie.times.timestamps_s, stamps)
    assert plane.rate_hz == pytest.approx(oracle.get_sampling_frequency())
    _same_frames(movie, oracle, (0, 4, 5, 10))  # across the .avi files' boundaries (5 frames each)
    np.testing.assert_array_equal(movie.frames.read(0, 12), np.swapaxes(miniscope_frames(12, 40, 24), 1, 2))
    assert session.header.session_start_time is not None and session.header.session_start_time.year == 2024
    assert "gain Low" in plane.description and "LED power (0-100) 12" in plane.description


def test_miniscope_stub_and_missing_stamps(miniscope: Path) -> None:
    from nwbconvert.synthetic.ophys_miniscope import DEVICE

    (movie,) = _imaging(miniscope, stub_seconds=0.2).movies
    assert (
        movie.n_frames == 6 and movie.times.timestamps_s is not None and len(movie.times.timestamps_s) == 6
    )  # < 0.2 s
    (miniscope / DEVICE / "timeStamps.csv").unlink()
    session = read_session(miniscope, ConvertOptions())
    (movie,) = session.imaging.movies  # the device's frameRate setting, with no time stamps to measure one
    assert movie.times.rate_hz == 30.0 and movie.times.timestamps_s is None and movie.n_frames == 12
    assert [n.what for n in session.notes] == ["no-timestamps"]


def test_miniscope_session_of_two_devices_is_two_planes(miniscope: Path) -> None:
    import json
    import shutil

    from nwbconvert.synthetic.ophys_miniscope import DEVICE

    shutil.copytree(miniscope / DEVICE, miniscope / "ACC_miniscope2")
    meta = json.loads((miniscope / "ACC_miniscope2" / "metaData.json").read_text())
    (miniscope / "ACC_miniscope2" / "metaData.json").write_text(json.dumps({**meta, "deviceName": "ACC_miniscope2"}))
    session_meta = json.loads((miniscope / "metaData.json").read_text())
    session_meta["miniscopes"] = [DEVICE, "ACC_miniscope2"]
    (miniscope / "metaData.json").write_text(json.dumps(session_meta))
    session = read_session(miniscope, ConvertOptions())
    assert [(p.name, p.device) for p in session.imaging.planes] == [("Plane0", DEVICE), ("Plane1", "ACC_miniscope2")]
    assert [m.name for m in session.imaging.movies] == [
        "OnePhotonSeriesPlane0Channel0",
        "OnePhotonSeriesPlane1Channel0",
    ]
    assert [d.name for d in session.devices] == [DEVICE, "ACC_miniscope2"]


def test_miniscope_probe_leaves_behavior_cameras_and_counts_stamps(miniscope: Path) -> None:
    import json
    import shutil

    from nwbconvert.errors import SourceError
    from nwbconvert.readers.ophys.miniscope import MiniscopeReader
    from nwbconvert.synthetic.ophys_miniscope import DEVICE

    camera = miniscope / "BehavCam_1"
    shutil.copytree(miniscope / DEVICE, camera)
    meta = json.loads((camera / "metaData.json").read_text())
    (camera / "metaData.json").write_text(json.dumps({**meta, "deviceType": "WebCam-1280x720"}))
    assert MiniscopeReader().probe(camera) == Match.NO
    assert MiniscopeReader().probe(miniscope / DEVICE / "0.avi") == Match.NO
    stamps = miniscope / DEVICE / "timeStamps.csv"
    stamps.write_text("".join(stamps.read_text().splitlines(keepends=True)[:-1]))
    with pytest.raises(SourceError, match=r"11 rows but the \.avi files hold 12 frames"):
        read_session(miniscope, ConvertOptions())


# --- Scanbox ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("given", ["sbx", "mat", "folder"])
def test_scanbox_against_roiextractors(tmp_path: Path, given: str) -> None:
    from roiextractors import SbxImagingExtractor

    from nwbconvert.synthetic.ophys_scanbox import RESFREQ, scanbox_frames, write_scanbox

    sbx = write_scanbox(tmp_path / "scan", n_frames=8, rows=24, cols=40)
    path = {"sbx": sbx, "mat": sbx.with_suffix(".mat"), "folder": sbx.parent}[given]
    assert detect(path).name == "scanbox"
    imaging = _imaging(path)
    (plane,) = imaging.planes
    (movie,) = imaging.movies
    assert plane.microscopy is Microscopy.TWO_PHOTON and [c.name for c in plane.channels] == ["PMT0"]
    assert movie.name == "TwoPhotonSeriesPlane0PMT0"
    oracle = SbxImagingExtractor(file_path=sbx)
    assert movie.n_frames == oracle.get_num_samples() == 8
    assert tuple(int(v) for v in oracle.get_image_shape()) == (24, 40) and movie.frame_shape == (40, 24)
    assert movie.dtype == np.dtype("uint16") == oracle.get_dtype()
    # roiextractors rounds the rate down to a whole number; the info's own value is resfreq / lines (unidirectional)
    assert plane.rate_hz == pytest.approx(RESFREQ / 24) and int(plane.rate_hz) == oracle.get_sampling_frequency()
    assert movie.times.rate_hz == plane.rate_hz and plane.excitation_lambda_nm == 920.0
    _same_frames(movie, oracle, (0, 3, 7))
    np.testing.assert_array_equal(movie.frames.read(0, 8), np.swapaxes(scanbox_frames(8, 24, 40), 1, 2))
    (stub,) = _imaging(path, stub_seconds=3 / plane.rate_hz).movies
    assert stub.n_frames == 3
    np.testing.assert_array_equal(stub.frames.read(0, 3), movie.frames.read(0, 3))


def test_scanbox_volume_scan_is_one_plane_per_optotune_position(tmp_path: Path) -> None:
    from roiextractors import SbxImagingExtractor

    from nwbconvert.synthetic.ophys_scanbox import RESFREQ, scanbox_frames, write_scanbox

    sbx = write_scanbox(tmp_path, n_frames=6, rows=24, cols=40, planes=3)
    imaging = _imaging(sbx)
    assert [p.name for p in imaging.planes] == ["Plane0", "Plane1", "Plane2"]
    assert [m.name for m in imaging.movies] == [f"TwoPhotonSeriesPlane{k}PMT0" for k in range(3)]
    frames = scanbox_frames(6, 24, 40, planes=3)  # acquisition order: plane 0, 1, 2 of volume 0, then volume 1, …
    for k, movie in enumerate(imaging.movies):
        assert movie.n_frames == 6 and movie.frame_shape == (40, 24)
        assert movie.times.rate_hz == pytest.approx(RESFREQ / 24 / 3)
        assert movie.times.t_start_s == pytest.approx(k * 24 / RESFREQ)
        np.testing.assert_array_equal(movie.frames.read(1, 5), np.swapaxes(frames[k::3][1:5], 1, 2))
    _same_frames(imaging.movies[0], SbxImagingExtractor(file_path=sbx), (0, 4))  # roiextractors reads plane 0
    (short,) = {m.n_frames for m in _imaging(sbx, stub_seconds=2 / (RESFREQ / 24 / 3)).movies}
    assert short == 2


def test_scanbox_probe_needs_the_pair(tmp_path: Path) -> None:
    from scipy.io import savemat

    from nwbconvert.readers.ophys.scanbox import ScanboxReader
    from nwbconvert.synthetic.ophys_scanbox import write_scanbox

    sbx = write_scanbox(tmp_path / "scan")
    reader = ScanboxReader()
    assert reader.probe(sbx) == Match.CONTENT and reader.probe(sbx.with_suffix(".mat")) == Match.CONTENT
    savemat(tmp_path / "other.mat", {"neuron": np.zeros(3)})
    (tmp_path / "other.sbx").write_bytes(b"\0" * 16)
    assert reader.probe(tmp_path / "other.mat") == Match.NO and reader.probe(tmp_path / "other.sbx") == Match.SUFFIX
    sbx.with_suffix(".mat").unlink()
    assert reader.probe(sbx) == Match.SUFFIX and reader.probe(sbx.parent) == Match.NO


# --- Femtonics --------------------------------------------------------------------------------------------------


def test_femtonics_every_unit_is_a_plane_against_roiextractors(tmp_path: Path) -> None:
    from roiextractors import FemtonicsImagingExtractor

    from nwbconvert.synthetic.ophys_femtonics import START_POSIX, UNITS, femtonics_frames, write_femtonics

    path = write_femtonics(tmp_path / "session.mesc")
    assert detect(path).name == "femtonics"
    session = read_session(path, ConvertOptions())
    imaging = session.imaging
    assert [p.name for p in imaging.planes] == ["Plane0", "Plane1"]
    assert [p.description.split(":")[0] for p in imaging.planes] == ["MSession_0/MUnit_0", "MSession_0/MUnit_1"]
    assert [m.name for m in imaging.movies] == [
        "TwoPhotonSeriesPlane0UG",
        "TwoPhotonSeriesPlane0UR",
        "TwoPhotonSeriesPlane1UG",
    ]
    assert session.header.session_start_time is not None
    assert session.header.session_start_time.timestamp() == pytest.approx(START_POSIX + 0.25)
    for movie in imaging.movies:
        j = int(movie.plane[-1])
        unit, k = UNITS[j], ["UG", "UR"].index(movie.channel)
        plane = imaging.plane(movie.plane)
        oracle = FemtonicsImagingExtractor(path, "MSession_0", f"MUnit_{j}", movie.channel)
        assert movie.n_frames == oracle.get_num_samples() == unit.n_frames
        assert oracle.get_image_shape() == (unit.rows, unit.cols) and movie.frame_shape == (unit.cols, unit.rows)
        assert movie.dtype == np.dtype("uint16") == oracle.get_dtype()
        assert movie.times.rate_hz == pytest.approx(oracle.get_sampling_frequency()) == plane.rate_hz
        assert movie.times.t_start_s == unit.after_s  # on the clock of the first unit's measurement date
        assert plane.grid_spacing_um == (unit.pixel_um, unit.pixel_um) and plane.origin_um == (-12.5, -12.5)
        _same_frames(movie, oracle, (0, 2, unit.n_frames - 1))
        np.testing.assert_array_equal(
            movie.frames.read(0, unit.n_frames), np.swapaxes(femtonics_frames(j, k, unit), 1, 2)
        )


def test_femtonics_one_unit_stub_and_probe(tmp_path: Path) -> None:
    from nwbconvert.readers.ophys.femtonics import FemtonicsReader
    from nwbconvert.synthetic.maxwell import write_maxwell
    from nwbconvert.synthetic.ophys_femtonics import write_femtonics

    path = write_femtonics(tmp_path / "session.mesc")
    options = ConvertOptions(set_values=("source.unit=MSession_0/MUnit_1",))
    session = read_session(path, options)
    assert [m.name for m in session.imaging.movies] == ["TwoPhotonSeriesPlane0UG"]
    assert session.imaging.movies[0].times.t_start_s == 0.0 and session.imaging.movies[0].n_frames == 5
    assert {m.n_frames for m in _imaging(path, stub_seconds=0.1).movies} == {3, 2}  # 30.96 and 15.5 frames/s
    import h5py

    with h5py.File(write_femtonics(tmp_path / "line.mesc"), "a") as f:  # a unit of no movie (2-D, untimed) is left out
        f["MSession_0"].create_group("MUnit_2").create_dataset("Channel_0", data=np.zeros((4, 30), np.uint16))
        f["MSession_0/MUnit_2"].attrs["VecChannelsSize"] = np.uint32(1)
    session = read_session(tmp_path / "line.mesc", ConvertOptions())
    assert len(session.imaging.planes) == 2 and [n.what for n in session.notes] == ["not-used"]
    assert "MSession_0/MUnit_2" in session.notes[0].message
    reader = FemtonicsReader()
    other = write_maxwell(tmp_path / "other.raw.h5")
    assert reader.probe(other) == Match.NO and reader.probe(path) == Match.CONTENT
    renamed = path.rename(tmp_path / "session.h5")
    assert detect(renamed).name == "femtonics"  # decided on content, whatever the suffix


# --- through the CLI to NWB -------------------------------------------------------------------------------------


def _convert(source: Path, out: Path) -> None:
    from cli_runner import nwbconvert
    from test_ophys_convert import SETS  # the session's and the imaging planes' metadata, as --set

    done = nwbconvert("convert", source, "-o", out, *SETS)
    assert done.returncode == 0, done.stderr
    assert "Validated: no errors" in done.stdout  # convert validates the file it wrote


def test_miniscope_to_nwb_with_its_time_stamps(miniscope: Path, tmp_path: Path) -> None:
    from pynwb import NWBHDF5IO

    from nwbconvert.synthetic.ophys_miniscope import DEVICE, miniscope_frames

    out = tmp_path / "miniscope.nwb"
    _convert(miniscope, out)
    stamps = np.loadtxt(miniscope / DEVICE / "timeStamps.csv", delimiter=",", skiprows=1)[:, 1] / 1000.0
    with NWBHDF5IO(str(out), "r") as io:
        nwb = io.read()
        series = nwb.acquisition["OnePhotonSeriesPlane0Channel0"]
        assert type(series).__name__ == "OnePhotonSeries"
        np.testing.assert_array_equal(series.data[:], np.swapaxes(miniscope_frames(12, 40, 24), 1, 2))
        np.testing.assert_allclose(series.timestamps[:], stamps)
        plane = series.imaging_plane
        assert (plane.indicator, plane.location, plane.excitation_lambda) == ("GCaMP6f", "VISp", 920.0)
        assert plane.device.name == DEVICE


def test_scanbox_volume_and_femtonics_units_to_nwb(tmp_path: Path) -> None:
    from pynwb import NWBHDF5IO

    from nwbconvert.synthetic.ophys_femtonics import UNITS, femtonics_frames, write_femtonics
    from nwbconvert.synthetic.ophys_scanbox import RESFREQ, scanbox_frames, write_scanbox

    sbx = write_scanbox(tmp_path / "scan", n_frames=6, rows=24, cols=40, planes=2)
    _convert(sbx, tmp_path / "sbx.nwb")
    mesc = write_femtonics(tmp_path / "session.mesc")
    _convert(mesc, tmp_path / "mesc.nwb")
    frames = scanbox_frames(6, 24, 40, planes=2)
    with NWBHDF5IO(str(tmp_path / "sbx.nwb"), "r") as io:
        nwb = io.read()
        for k in range(2):
            series = nwb.acquisition[f"TwoPhotonSeriesPlane{k}PMT0"]
            assert type(series).__name__ == "TwoPhotonSeries" and series.rate == pytest.approx(RESFREQ / 24 / 2)
            np.testing.assert_array_equal(series.data[:], np.swapaxes(frames[k::2], 1, 2))
            assert series.imaging_plane.name.endswith(f"Plane{k}") and series.imaging_plane.excitation_lambda == 920.0
    with NWBHDF5IO(str(tmp_path / "mesc.nwb"), "r") as io:
        nwb = io.read()
        for name, j, k in (
            ("TwoPhotonSeriesPlane0UG", 0, 0),
            ("TwoPhotonSeriesPlane0UR", 0, 1),
            ("TwoPhotonSeriesPlane1UG", 1, 0),
        ):
            series = nwb.acquisition[name]
            np.testing.assert_array_equal(series.data[:], np.swapaxes(femtonics_frames(j, k, UNITS[j]), 1, 2))
            assert series.rate == pytest.approx(1000.0 / UNITS[j].frame_ms)
            assert series.starting_time == pytest.approx(UNITS[j].after_s)
            assert list(series.imaging_plane.grid_spacing[:]) == [UNITS[j].pixel_um, UNITS[j].pixel_um]
