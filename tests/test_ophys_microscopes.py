"""Microscope folders (readers `bruker`, `thor`, `micromanager`) on folders nwbconvert.synthetic writes in the
vendors' layouts: detection (and that no other reader claims them), planes × channels and their names, frame count,
frame shape in NWB's (x, y) order, dtype, rate, pixel size, laser, and sampled frames equal to roiextractors'
(transposed) and to the TIFF pages read by name with tifffile; incomplete copies; a Bruker folder converted through
the CLI, a Thor and a Micro-Manager one through the Python API."""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import tifffile

from cli_runner import nwbconvert
from conftest import COMPLETE_METADATA
from nwbconvert.errors import SourceError
from nwbconvert.options import ConvertOptions
from nwbconvert.pipeline import read_session
from nwbconvert.readers import registry
from nwbconvert.readers.base import Match
from nwbconvert.readers.ophys.bruker import BrukerReader
from nwbconvert.readers.ophys.micromanager import MicroManagerReader
from nwbconvert.readers.ophys.thor import ThorReader
from nwbconvert.synthetic.ophys_bruker import write_bruker_folder
from nwbconvert.synthetic.ophys_micromanager import write_micromanager_folder
from nwbconvert.synthetic.ophys_scanimage import write_scanimage
from nwbconvert.synthetic.ophys_thor import write_thor_folder

OPHYS = ("ophys.indicator=GCaMP6f", "ophys.location=VISp", "ophys.excitation_lambda=920", "ophys.emission_lambda=510")
SETS = [a for kv in (*COMPLETE_METADATA, *OPHYS) for a in ("--set", kv)]
READERS = (BrukerReader(), ThorReader(), MicroManagerReader())


def _xy(frames: np.ndarray) -> np.ndarray:
    """roiextractors' (frame, height, width) in NWB's (frame, x, y)."""
    return np.swapaxes(np.asarray(frames), 1, 2)


def _session(path: Path, **options: object):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no library warning reaches the user
        return read_session(path, ConvertOptions(**options))  # type: ignore[arg-type]


def _claims(path: Path) -> dict[str, Match]:
    """What every registered reader says of `path`, where it says more than NO."""
    scores = {name: reader.probe(path) for name, reader in registry.readers().items()}
    return {name: match for name, match in scores.items() if match != Match.NO}


def test_bruker_single_plane_two_channels(tmp_path: Path) -> None:
    from roiextractors import BrukerTiffImagingExtractor

    sample = write_bruker_folder(tmp_path, n_frames=6, n_planes=1)
    xml = sample.folder / f"{sample.folder.name}.xml"
    page = next(sample.folder.glob("*_Ch2_000003.ome.tif"))
    for path in (sample.folder, xml, page):
        assert registry.detect(path).name == "bruker"
        assert _claims(path) == {"bruker": Match.CONTENT}  # the generic TIFF reader leaves an OME-TIFF alone
    session = _session(sample.folder)
    (plane,) = session.imaging.planes
    assert [c.name for c in plane.channels] == ["Ch1", "Ch2"]  # channelName of the <File> elements
    assert plane.rate_hz == pytest.approx(1 / sample.frame_period_s, rel=1e-6)
    assert plane.grid_spacing_um == sample.microns_per_pixel == (1.25, 1.5)  # micronsPerPixel XAxis, YAxis
    assert plane.excitation_lambda_nm == sample.laser_nm == 920.0
    assert plane.origin_um == (*sample.position_xy_um, sample.z_um[0])
    assert plane.microscopy.series_type == "TwoPhotonSeries"
    assert plane.indicator is None and plane.location is None  # the XML does not say: metadata must
    assert session.header.session_start_time == dt.datetime(2026, 12, 1, 10, 30)  # PVScan@date, local time
    movies = {m.name: m for m in session.imaging.movies}
    assert list(movies) == ["TwoPhotonSeriesPlane0Ch1", "TwoPhotonSeriesPlane0Ch2"]
    for c, channel in enumerate(sample.channel_names):
        movie = movies[f"TwoPhotonSeriesPlane0{channel}"]
        assert (movie.n_frames, movie.frame_shape, movie.dtype) == (6, (48, 32), np.dtype("uint16"))
        oracle = BrukerTiffImagingExtractor(sample.folder, channel_name=channel)
        assert movie.times.rate_hz == pytest.approx(oracle.get_sampling_frequency())
        assert movie.times.t_start_s == 0.0 and movie.times.timestamps_s is None
        for start, stop in ((0, 2), (3, 6)):
            got = movie.frames.read(start, stop)
            np.testing.assert_array_equal(got, _xy(oracle.get_series(start_sample=start, end_sample=stop)))
            np.testing.assert_array_equal(got, _xy(sample.frames[start:stop, 0, c]))
    third = tifffile.TiffFile(page).pages[0].asarray()  # Ch2, frame 3, read by its name
    for other in sample.folder.glob("*_Ch2_*.ome.tif"):  # frames are read when asked, and only those asked
        if other != page:
            other.unlink()
    np.testing.assert_array_equal(movies["TwoPhotonSeriesPlane0Ch2"].frames.read(2, 3)[0], third.T)


def test_bruker_two_planes_two_channels_one_movie_each(tmp_path: Path) -> None:
    from roiextractors import BrukerTiffImagingExtractor

    sample = write_bruker_folder(tmp_path, n_frames=5, n_planes=2)
    assert registry.detect(sample.folder).name == "bruker"
    session = _session(sample.folder)
    planes = {p.name: p for p in session.imaging.planes}
    assert list(planes) == ["Plane0", "Plane1"]
    for p, plane in enumerate(planes.values()):
        assert plane.rate_hz == pytest.approx(1 / (2 * sample.frame_period_s), rel=1e-6)  # one volume of 2 frames
        assert plane.origin_um == (*sample.position_xy_um, sample.z_um[p])  # each plane's own Z (motor + piezo)
    assert sample.z_um[0] != sample.z_um[1]
    movies = {m.name: m for m in session.imaging.movies}
    assert list(movies) == [f"TwoPhotonSeriesPlane{p}Ch{c}" for p in (0, 1) for c in (1, 2)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        oracles = {ch: BrukerTiffImagingExtractor(sample.folder, channel_name=ch) for ch in sample.channel_names}
    for (p, c), movie in zip([(p, c) for p in (0, 1) for c in (0, 1)], movies.values()):
        assert movie.plane == f"Plane{p}" and movie.channel == f"Ch{c + 1}"
        assert (movie.n_frames, movie.frame_shape, movie.dtype) == (5, (48, 32), np.dtype("uint16"))
        assert movie.times.t_start_s == pytest.approx(p * sample.frame_period_s)  # plane 1 comes one frame later
        volume = oracles[f"Ch{c + 1}"].get_series(start_sample=1, end_sample=4)  # (t, y, x, plane)
        np.testing.assert_array_equal(movie.frames.read(1, 4), _xy(volume[..., p]))
        np.testing.assert_array_equal(movie.frames.read(0, 5), _xy(sample.frames[:, p, c]))
    # cycle 4 (frame index 3), plane 2, Ch1, by its file name
    page = sample.folder / f"{sample.folder.name}_Cycle00004_Ch1_000002.ome.tif"
    np.testing.assert_array_equal(movies["TwoPhotonSeriesPlane1Ch1"].frames.read(3, 4)[0], tifffile.imread(page).T)


def test_bruker_stub_and_misnamed_xml(tmp_path: Path) -> None:
    sample = write_bruker_folder(tmp_path, n_frames=8, n_planes=1, channel_names=("Green",))
    session = _session(sample.folder, stub_seconds=3.5 * sample.frame_period_s)
    (movie,) = session.imaging.movies
    assert movie.name == "TwoPhotonSeriesPlane0Green" and movie.n_frames == 4  # frames at 0, 1, 2, 3 periods
    np.testing.assert_array_equal(movie.frames.read(0, 4), _xy(sample.frames[:4, 0, 0]))
    xml = sample.folder / f"{sample.folder.name}.xml"
    xml.rename(sample.folder / "renamed.xml")
    assert registry.detect(sample.folder).name == "bruker"  # still a PrairieView folder: the error says what to do
    with pytest.raises(SourceError, match="named after the folder"):
        _session(sample.folder)


def test_bruker_incomplete_copy_and_old_prairieview(tmp_path: Path) -> None:
    sample = write_bruker_folder(tmp_path, name="cut", n_frames=6, n_planes=2)
    (sample.folder / "cut_Cycle00005_Ch2_000001.ome.tif").unlink()  # time point 5 (of 6), plane 1, Ch2
    with pytest.raises(SourceError, match=r"looks incomplete.*cut_Cycle00005_Ch2_000001.*6 time points.*4 before"):
        _session(sample.folder)
    session = _session(sample.folder, allow_incomplete=True)
    assert [n.what for n in session.notes] == ["incomplete"]
    assert {m.n_frames for m in session.imaging.movies} == {4}  # every movie keeps the complete time points
    movie = next(m for m in session.imaging.movies if m.name == "TwoPhotonSeriesPlane1Ch2")
    np.testing.assert_array_equal(movie.frames.read(0, 4), _xy(sample.frames[:4, 1, 1]))
    old = write_bruker_folder(tmp_path, name="old", n_frames=2)
    for page in old.folder.glob("*.ome.tif"):
        page.rename(page.with_name(page.name.replace(".ome.tif", ".tif")))
    with pytest.raises(SourceError, match=r"PrairieView 5\.0 and earlier"):
        _session(old.folder)


def test_bruker_cycles_keep_their_time_stamps(tmp_path: Path) -> None:
    from roiextractors import BrukerTiffImagingExtractor

    sample = write_bruker_folder(tmp_path, n_frames=6, cycles=3, gap_s=1.0, channel_names=("Ch2",))
    assert len(list(sample.folder.glob("*_Cycle0000[123]_Ch2_*.ome.tif"))) == 6  # PMT channel 2's files
    (movie,) = _session(sample.folder).imaging.movies
    assert movie.name == "TwoPhotonSeriesPlane0Ch2" and movie.n_frames == 6
    oracle = BrukerTiffImagingExtractor(sample.folder)
    assert movie.times.rate_hz is None  # bursts a second apart: no one rate, one time per frame
    np.testing.assert_allclose(movie.times.timestamps_s, oracle.get_native_timestamps())
    period = sample.frame_period_s
    np.testing.assert_allclose(movie.times.timestamps_s[:3], [0, period, 2 * period + 1.0], atol=1e-8)
    np.testing.assert_array_equal(movie.frames.read(0, 6), _xy(oracle.get_series()))


def test_bruker_one_multipage_file_per_channel(tmp_path: Path) -> None:
    from roiextractors import BrukerTiffImagingExtractor

    sample = write_bruker_folder(tmp_path, n_frames=6, layout="stacks")
    assert len(list(sample.folder.glob("*.ome.tif"))) == 2  # Ch1's and Ch2's, six pages each
    movies = {m.name: m for m in _session(sample.folder).imaging.movies}
    assert list(movies) == ["TwoPhotonSeriesPlane0Ch1", "TwoPhotonSeriesPlane0Ch2"]
    for c, channel in enumerate(sample.channel_names):
        movie = movies[f"TwoPhotonSeriesPlane0{channel}"]
        oracle = BrukerTiffImagingExtractor(sample.folder, channel_name=channel)
        np.testing.assert_array_equal(movie.frames.read(2, 5), _xy(oracle.get_series(start_sample=2, end_sample=5)))
        np.testing.assert_array_equal(movie.frames.read(0, 6), _xy(sample.frames[:, 0, c]))
    with tifffile.TiffFile(next(sample.folder.glob("*_Ch2_000001.ome.tif"))) as tif:
        np.testing.assert_array_equal(movies["TwoPhotonSeriesPlane0Ch2"].frames.read(4, 5)[0], tif.pages[4].asarray().T)


def test_thor_two_channels_one_file_per_frame(tmp_path: Path) -> None:
    from roiextractors import ThorTiffImagingExtractor

    sample = write_thor_folder(tmp_path, n_frames=6, layout="frames")
    for path in (sample.folder, sample.folder / "Experiment.xml", sample.files[3]):
        assert registry.detect(path).name == "thor"
        assert _claims(path) == {"thor": Match.CONTENT}
    session = _session(sample.folder)
    (plane,) = session.imaging.planes
    assert [c.name for c in plane.channels] == ["ChanA", "ChanB"]  # Wavelengths/Wavelength@name
    assert plane.rate_hz == sample.frame_rate_hz == 30.0  # LSM@frameRate
    assert plane.grid_spacing_um == (1.5, 1.5)  # LSM@pixelSizeUM
    assert plane.excitation_lambda_nm == 920.0  # MultiPhotonLaser@pos
    assert plane.microscopy.series_type == "TwoPhotonSeries"
    assert session.header.session_start_time == dt.datetime(2026, 12, 1, 10, 30, tzinfo=dt.timezone.utc)  # uTime
    movies = {m.name: m for m in session.imaging.movies}
    assert list(movies) == ["TwoPhotonSeriesPlane0ChanA", "TwoPhotonSeriesPlane0ChanB"]
    for c, channel in enumerate(sample.channel_names):
        movie = movies[f"TwoPhotonSeriesPlane0{channel}"]
        assert (movie.n_frames, movie.frame_shape, movie.dtype) == (6, (48, 32), np.dtype("uint16"))
        assert movie.times.rate_hz == 30.0
        oracle = ThorTiffImagingExtractor(sample.files[0], channel_name=channel)
        for start, stop in ((0, 1), (2, 6)):
            got = movie.frames.read(start, stop)
            np.testing.assert_array_equal(got, _xy(oracle.get_series(start_sample=start, end_sample=stop)))
            np.testing.assert_array_equal(got, _xy(sample.frames[start:stop, 0, c]))
    with tifffile.TiffFile(sample.folder / "ChanB_0001_0001_0001_0005.tif") as tif:  # ChanB, time point 5
        np.testing.assert_array_equal(
            movies["TwoPhotonSeriesPlane0ChanB"].frames.read(4, 5)[0], tif.pages[0].asarray().T
        )


def test_thor_single_channel_stack_and_fast_z_leaves_the_rate(tmp_path: Path) -> None:
    from roiextractors import ThorTiffImagingExtractor

    stack = write_thor_folder(tmp_path / "stack", n_frames=7, layout="stack", channel_names=("ChanA",))
    (movie,) = _session(stack.files[0]).imaging.movies  # a TIFF of the folder names the acquisition
    assert movie.name == "TwoPhotonSeriesPlane0ChanA" and (movie.n_frames, movie.frame_shape) == (7, (48, 32))
    oracle = ThorTiffImagingExtractor(stack.files[0])
    np.testing.assert_array_equal(movie.frames.read(0, 7), _xy(oracle.get_series()))
    volume = write_thor_folder(tmp_path / "fastz", n_frames=4, n_planes=2, layout="frames")
    session = _session(volume.folder)
    assert [p.name for p in session.imaging.planes] == ["Plane0", "Plane1"]
    assert all(p.rate_hz is None for p in session.imaging.planes)  # flyback frames unknown: ophys.rate must say
    assert [n.what for n in session.notes] == ["no-rate"] and "ophys.rate" in session.notes[0].message
    movies = {m.name: m for m in session.imaging.movies}
    assert list(movies) == [f"TwoPhotonSeriesPlane{p}Chan{c}" for p in (0, 1) for c in "AB"]
    np.testing.assert_array_equal(movies["TwoPhotonSeriesPlane1ChanB"].frames.read(0, 4), _xy(volume.frames[:, 1, 1]))
    (volume.folder / "ChanB_0001_0001_0002_0003.tif").unlink()
    with pytest.raises(SourceError, match=r"looks incomplete: 1 of the 16 TIFF files .*ChanB_0001_0001_0002_0003"):
        _session(volume.folder)


def test_micromanager_folder(tmp_path: Path) -> None:
    from roiextractors import MicroManagerTiffImagingExtractor

    sample = write_micromanager_folder(tmp_path, n_frames=7, interval_ms=50.0)
    for path in (sample.folder, sample.file):
        assert registry.detect(path).name == "micromanager"
        assert _claims(path) == {"micromanager": Match.CONTENT}
    with tifffile.TiffFile(sample.file) as tif:  # tifffile reads it as Micro-Manager wrote it
        assert tif.is_micromanager and tif.is_ome
        assert tif.micromanager_metadata["Summary"]["ChNames"] == ["GFP"]
    session = _session(sample.folder)
    (plane,) = session.imaging.planes
    assert [c.name for c in plane.channels] == ["GFP"]
    assert plane.rate_hz == 20.0  # 1000 / Interval_ms
    assert plane.grid_spacing_um == (0.65, 0.65)  # PixelSize_um
    assert plane.microscopy.series_type == "OnePhotonSeries" and plane.excitation_lambda_nm is None
    assert session.header.session_start_time == dt.datetime(2026, 12, 1, 10, 30, tzinfo=dt.timezone.utc)
    (movie,) = session.imaging.movies
    assert movie.name == "OnePhotonSeriesPlane0GFP"
    assert (movie.n_frames, movie.frame_shape, movie.dtype) == (7, (48, 32), np.dtype("uint16"))
    oracle = MicroManagerTiffImagingExtractor(sample.folder)
    assert movie.times.rate_hz == oracle.get_sampling_frequency() == 20.0  # PlaybackFPS agrees here
    for start, stop in ((0, 3), (5, 7)):
        got = movie.frames.read(start, stop)
        np.testing.assert_array_equal(got, _xy(oracle.get_series(start_sample=start, end_sample=stop)))
        np.testing.assert_array_equal(got, _xy(sample.frames[start:stop]))
    (sample.folder / "DisplaySettings.json").unlink()
    with pytest.raises(SourceError, match=r"DisplaySettings\.json is missing"):
        _session(sample.folder)


def test_micromanager_refuses_what_roiextractors_cannot_read(tmp_path: Path) -> None:
    two = write_micromanager_folder(tmp_path, name="two_colour", n_frames=3, channels=("GFP", "mCherry"))
    with tifffile.TiffFile(two.file) as tif:  # channels fastest, as the index map says
        assert tif.micromanager_metadata["IndexMap"][:, :3].tolist() == [[c, 0, t] for t in range(3) for c in (0, 1)]
        np.testing.assert_array_equal(tif.pages[3].asarray(), two.frames[1, 1])
    assert registry.detect(two.folder).name == "micromanager"
    with pytest.raises(SourceError, match=r"2 channels \(GFP, mCherry\).*one channel only"):
        _session(two.folder)
    one = write_micromanager_folder(tmp_path, name="positions", n_frames=3)
    (one.folder / one.file.name.replace("Pos0", "Pos1")).write_bytes(one.file.read_bytes())
    with pytest.raises(SourceError, match=r"2 stage positions \(Pos0, Pos1\)"):
        _session(one.folder)


def test_no_microscope_reader_claims_another_vendors_tiff(tmp_path: Path) -> None:
    plain = tmp_path / "plain" / "movie.tif"
    plain.parent.mkdir()
    tifffile.imwrite(plain, np.zeros((3, 8, 12), "uint16"))
    (tmp_path / "si").mkdir()
    scanimage = write_scanimage(tmp_path / "si" / "file_00001_00001.tif")
    ome = tmp_path / "ome" / "stack.ome.tif"
    ome.parent.mkdir()
    tifffile.imwrite(ome, np.zeros((3, 8, 12), "uint16"), ome=True)
    for path in (plain, plain.parent, scanimage, scanimage.parent, ome, ome.parent):
        assert {r.name: r.probe(path) for r in READERS if r.probe(path) != Match.NO} == {}, path
    thor = write_thor_folder(tmp_path, name="thor")
    bruker = write_bruker_folder(tmp_path, name="bruker", n_frames=2)
    mm = write_micromanager_folder(tmp_path, name="mm", n_frames=2)
    assert MicroManagerReader().probe(thor.files[0]) == MicroManagerReader().probe(bruker.folder) == Match.NO
    assert BrukerReader().probe(mm.file) == ThorReader().probe(mm.folder) == Match.NO
    assert BrukerReader().probe(thor.folder) == ThorReader().probe(bruker.folder) == Match.NO


def _check_nwb(out: Path, names: list[str], expected: np.ndarray, spacing: tuple[float, float], rate: float) -> None:
    from pynwb import NWBHDF5IO

    with NWBHDF5IO(str(out), "r") as io:
        nwb = io.read()
        assert sorted(nwb.acquisition) == names
        series = nwb.acquisition[names[-1]]
        np.testing.assert_array_equal(series.data[:], expected)
        assert series.data.dtype == np.uint16
        assert series.rate == pytest.approx(rate, rel=1e-6)
        plane = series.imaging_plane
        assert plane.indicator == "GCaMP6f" and plane.location == "VISp"
        assert plane.excitation_lambda == 920.0  # the header's (Bruker, Thor) or --set's (Micro-Manager)
        np.testing.assert_allclose(plane.grid_spacing[:], spacing)
        assert plane.grid_spacing_unit == "micrometers"


def test_bruker_converts_through_the_cli(tmp_path: Path) -> None:
    sample = write_bruker_folder(tmp_path, n_frames=4)
    out = tmp_path / "bruker.nwb"
    done = nwbconvert("convert", sample.folder, "-o", out, *SETS)
    assert done.returncode == 0, done.stderr
    names = ["TwoPhotonSeriesPlane0Ch1", "TwoPhotonSeriesPlane0Ch2"]
    _check_nwb(out, names, _xy(sample.frames[:, 0, 1]), (1.25, 1.5), 1 / sample.frame_period_s)


def test_thor_and_micromanager_convert(tmp_path: Path) -> None:
    from nwbconvert import convert

    thor = write_thor_folder(tmp_path, n_frames=4)
    mm = write_micromanager_folder(tmp_path, n_frames=4)
    options = ConvertOptions(set_values=(*COMPLETE_METADATA, *OPHYS))
    convert(thor.folder, tmp_path / "thor.nwb", replace(options, validate=False))  # a TwoPhotonSeries, as Bruker's
    names = ["TwoPhotonSeriesPlane0ChanA", "TwoPhotonSeriesPlane0ChanB"]
    _check_nwb(tmp_path / "thor.nwb", names, _xy(thor.frames[:, 0, 1]), (1.5, 1.5), 30.0)
    convert(mm.folder, tmp_path / "mm.nwb", options)  # validated: a OnePhotonSeries
    _check_nwb(tmp_path / "mm.nwb", ["OnePhotonSeriesPlane0GFP"], _xy(mm.frames), (0.65, 0.65), 20.0)
