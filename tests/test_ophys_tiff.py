"""TIFF-family and HDF5 movies (readers `scanimage`, `tiff`, `hdf5-movie`): detection, planes × channels, names,
frame count, shape in NWB's (x, y) order, dtype, rate or time stamps, and sampled frames against roiextractors (or
tifffile / h5py where roiextractors cannot read the layout), on the real ScanImage 3.8 file and BigTIFF movie and
on files nwbconvert.synthetic writes in the vendors' layouts; bounded memory on a deflate-compressed TIFF."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from cli_runner import nwbconvert
from conftest import COMPLETE_METADATA, realdata
from nwbconvert.errors import SourceError, UsageError
from nwbconvert.options import ConvertOptions
from nwbconvert.pipeline import read_session
from nwbconvert.readers import registry
from nwbconvert.readers.base import Match
from nwbconvert.readers.ophys.hdf5_movie import Hdf5MovieReader
from nwbconvert.readers.ophys.scanimage import ScanImageReader
from nwbconvert.readers.ophys.tiff import TiffReader
from nwbconvert.synthetic.ophys_hdf5 import write_hdf5_movie
from nwbconvert.synthetic.ophys_scanimage import (
    ScanImageLayout,
    legacy_frames,
    write_scanimage,
    write_scanimage_legacy,
)

SCANIMAGE38 = "ophys/scanimage/jefferis_si38/Blank-IPA_1s_16r_032.tif"
BIGTIFF = "ophys/tiff/ideas_toolbox/movie_part2_108x123x63.tiff"
CAIMAN = "ophys/caiman/ideas_toolbox/sample_cellset_msr_1.hdf5"
OPHYS = ("ophys.indicator=GCaMP6f", "ophys.location=VISp", "ophys.excitation_lambda=920", "ophys.emission_lambda=510")
SETS = [a for kv in (*COMPLETE_METADATA, *OPHYS) for a in ("--set", kv)]


def _xy(frames: np.ndarray) -> np.ndarray:
    """roiextractors' (frame, height, width) in NWB's (frame, x, y)."""
    return np.swapaxes(np.asarray(frames), 1, 2)


def _movies(path: Path, **options: object) -> dict:  # type: ignore[type-arg]
    session = read_session(path, ConvertOptions(**options))  # type: ignore[arg-type]
    return {m.name: m for m in session.imaging.movies}


def test_legacy_scanimage_38_rate_channel_and_frames_equal_roiextractors() -> None:
    from roiextractors import ScanImageLegacyImagingExtractor

    path = realdata(SCANIMAGE38)
    assert registry.detect(path).name == "scanimage"
    assert TiffReader().probe(path) == Match.NO  # a ScanImage file is no plain TIFF: no ambiguity
    session = read_session(path, ConvertOptions())
    (plane,) = session.imaging.planes
    assert plane.rate_hz == pytest.approx(8.138, abs=1e-3)  # state.acq.frameRate
    assert [c.name for c in plane.channels] == ["Channel2"]  # state.acq.savingChannel2 = 1
    (movie,) = session.imaging.movies
    assert movie.name == "TwoPhotonSeriesPlane0Channel2"
    assert (movie.n_frames, movie.frame_shape, movie.dtype) == (30, (64, 64), np.dtype("uint16"))
    assert movie.times.rate_hz == plane.rate_hz and movie.times.timestamps_s is None
    oracle = ScanImageLegacyImagingExtractor(file_path=path, sampling_frequency=8.138)
    for start, stop in ((0, 3), (27, 30)):
        expected = _xy(oracle.get_series(start_sample=start, end_sample=stop))
        np.testing.assert_array_equal(movie.frames.read(start, stop), expected)
    assert session.header.session_start_time is not None and session.header.session_start_time.year == 2014


def test_legacy_scanimage_two_saved_channels_are_deinterleaved(tmp_path: Path) -> None:
    from roiextractors import ScanImageLegacyImagingExtractor

    path = write_scanimage_legacy(tmp_path / "two_channels.tif", frames=5, channels=(1, 2), rate=4.0)
    assert registry.detect(path).name == "scanimage"
    movies = _movies(path)
    assert sorted(movies) == ["TwoPhotonSeriesPlane0Channel1", "TwoPhotonSeriesPlane0Channel2"]
    pages = ScanImageLegacyImagingExtractor(file_path=path, sampling_frequency=4.0).get_series(0, 10)
    np.testing.assert_array_equal(pages[1::2], legacy_frames(5, 2)[:, 1])  # the oracle: channels alternate
    for c in (0, 1):
        movie = movies[f"TwoPhotonSeriesPlane0Channel{c + 1}"]
        assert (movie.n_frames, movie.frame_shape, movie.times.rate_hz) == (5, (12, 16), 4.0)
        np.testing.assert_array_equal(movie.frames.read(0, 5), _xy(pages[c::2]))
        np.testing.assert_array_equal(movie.frames.read(3, 5), _xy(pages[c::2][3:5]))
    assert {m.n_frames for m in _movies(path, stub_seconds=0.5).values()} == {2}


def test_scanimage_2016_page_without_its_header_block_is_refused_in_plain_words(tmp_path: Path) -> None:
    import tifffile

    path = tmp_path / "resaved.tif"
    tifffile.imwrite(path, np.zeros((2, 8, 8), np.uint16), software="SI.hRoiManager.scanFrameRate = 30", metadata=None)
    assert registry.detect(path).name == "scanimage"
    with pytest.raises(SourceError, match="header block"):
        read_session(path, ConvertOptions())


def test_scanimage_2016_two_planes_two_channels_are_four_movies_equal_roiextractors(tmp_path: Path) -> None:
    from roiextractors import ScanImageImagingExtractor

    path = write_scanimage(tmp_path / "session_00001_00001.tif")
    layout = ScanImageLayout()
    assert registry.detect(path).name == "scanimage"
    assert TiffReader().probe(path) == Match.NO
    session = read_session(path, ConvertOptions())
    planes = session.imaging.planes
    assert [p.name for p in planes] == ["Plane0", "Plane1"]
    for p in planes:
        assert [c.name for c in p.channels] == ["Channel1", "Channel2"]
        assert p.rate_hz == pytest.approx(layout.volume_rate)  # SI.hRoiManager.scanVolumeRate
        assert p.grid_spacing_um == pytest.approx((200 / 24, 160 / 32))  # SI.hRoiManager.imagingFovUm
        assert p.microscopy.series_type == "TwoPhotonSeries"
    assert [p.origin_um[2] for p in planes] == [0.0, 20.0]  # type: ignore[index]  # SI.hStackManager.zs
    movies = {m.name: m for m in session.imaging.movies}
    assert sorted(movies) == [
        "TwoPhotonSeriesPlane0Channel1",
        "TwoPhotonSeriesPlane0Channel2",
        "TwoPhotonSeriesPlane1Channel1",
        "TwoPhotonSeriesPlane1Channel2",
    ]
    for z in range(2):
        for c, raw in enumerate(("Channel 1", "Channel 2")):
            movie = movies[f"TwoPhotonSeriesPlane{z}Channel{c + 1}"]
            assert (movie.n_frames, movie.frame_shape, movie.dtype) == (3, (24, 32), np.dtype("uint16"))
            oracle = ScanImageImagingExtractor(file_path=path, channel_name=raw, plane_index=z)
            np.testing.assert_array_equal(movie.frames.read(0, 3), _xy(oracle.get_series()))
            np.testing.assert_array_equal(movie.frames.read(1, 2), _xy(oracle.get_series(1, 2)))
            np.testing.assert_allclose(movie.times.timestamps_s, oracle.get_native_timestamps())  # type: ignore[arg-type]
    assert [m.name for m in session.imaging.movies] == [
        m.name for m in read_session(path, ConvertOptions()).imaging.movies
    ]
    assert session.header.session_start_time is not None and session.header.session_start_time.year == 2020


def test_scanimage_2016_copy_cut_short_is_refused_or_converted_with_a_note(tmp_path: Path) -> None:
    whole = write_scanimage(tmp_path / "whole_00001_00001.tif", ScanImageLayout(volumes=6))
    cut = tmp_path / "cut_00001_00001.tif"
    cut.write_bytes(whole.read_bytes()[: int(whole.stat().st_size * 0.7)])
    with pytest.raises(SourceError, match="looks incomplete"):
        read_session(cut, ConvertOptions())
    session = read_session(cut, ConvertOptions(allow_incomplete=True))
    assert [n.what for n in session.notes] == ["incomplete"]
    full = {m.name: m for m in read_session(whole, ConvertOptions()).imaging.movies}
    for movie in session.imaging.movies:  # the whole volumes that are there
        assert movie.n_frames == 4
        np.testing.assert_array_equal(movie.frames.read(0, 4), full[movie.name].frames.read(0, 4))


def test_scanimage_2016_stub_keeps_the_first_seconds(tmp_path: Path) -> None:
    path = write_scanimage(tmp_path / "stub_00001_00001.tif", ScanImageLayout(volumes=6))
    movies = _movies(path, stub_seconds=0.2)  # volumes every 1/15 s: 0, 0.067, 0.133 (< 0.2 s)
    assert {m.n_frames for m in movies.values()} == {3}
    assert {len(m.times.timestamps_s) for m in movies.values()} == {3}  # type: ignore[arg-type]


def test_scanimage_2016_one_plane_one_channel_timed_by_its_rate_without_page_stamps(tmp_path: Path) -> None:
    from roiextractors import ScanImageImagingExtractor

    layout = ScanImageLayout(volumes=8, planes=1, channels=(2,), zs=(5.0,), stamped=False)
    path = write_scanimage(tmp_path / "planar_00001_00001.tif", layout)
    (plane,) = read_session(path, ConvertOptions()).imaging.planes
    assert [c.name for c in plane.channels] == ["Channel2"] and plane.rate_hz == 30.0  # scanFrameRate
    (movie,) = _movies(path).values()
    assert movie.name == "TwoPhotonSeriesPlane0Channel2" and movie.n_frames == 8
    assert movie.times.rate_hz == 30.0 and movie.times.timestamps_s is None
    oracle = ScanImageImagingExtractor(file_path=path)
    np.testing.assert_array_equal(movie.frames.read(2, 8), _xy(oracle.get_series(2, 8)))
    (stub,) = _movies(path, stub_seconds=0.1).values()
    assert stub.n_frames == 3


@pytest.mark.filterwarnings("ignore:memmap of TIFF file could not be established")  # roiextractors reads it whole
def test_real_bigtiff_movie_has_no_rate_and_frames_equal_roiextractors() -> None:
    from roiextractors import TiffImagingExtractor

    path = realdata(BIGTIFF)
    assert registry.detect(path).name == "tiff"
    assert ScanImageReader().probe(path) == Match.NO
    session = read_session(path, ConvertOptions())
    (plane,) = session.imaging.planes
    assert plane.rate_hz is None and plane.microscopy.series_type == "TwoPhotonSeries"
    (movie,) = session.imaging.movies
    assert movie.name == "TwoPhotonSeriesPlane0Channel0"
    assert (movie.n_frames, movie.frame_shape, movie.dtype) == (63, (108, 123), np.dtype("float32"))
    assert movie.times.rate_hz is None and movie.times.timestamps_s is None  # ophys.rate must give it
    oracle = TiffImagingExtractor(file_path=path, sampling_frequency=10.0)
    for start, stop in ((0, 2), (30, 33), (61, 63)):
        np.testing.assert_array_equal(movie.frames.read(start, stop), _xy(oracle.get_series(start, stop)))


def test_a_tiff_cut_short_is_refused_or_converted_to_its_last_whole_page_with_a_note(tmp_path: Path) -> None:
    import tifffile

    real = realdata(BIGTIFF)
    cut = tmp_path / "cut.tiff"
    cut.write_bytes(real.read_bytes()[:2_000_000])  # 36 whole pages of 63; the 36th links to a 37th past the end
    with pytest.raises(SourceError, match="looks incomplete"):
        read_session(cut, ConvertOptions())
    session = read_session(cut, ConvertOptions(allow_incomplete=True))
    (movie,) = session.imaging.movies
    assert movie.n_frames == 36 and [n.what for n in session.notes] == ["incomplete"]
    np.testing.assert_array_equal(movie.frames.read(30, 36), _xy(tifffile.imread(real)[30:36]))


def test_compressed_tiff_is_read_page_by_page_in_bounded_memory(tmp_path: Path) -> None:
    import tifffile

    path = tmp_path / "deflate.tif"
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 4000, (128, 160), dtype=np.uint16)
    with tifffile.TiffWriter(path) as tif:
        for i in range(200):
            tif.write(frame + i, compression="zlib", metadata=None, contiguous=False)
    decoded = 200 * frame.nbytes  # 8 MB
    with tifffile.TiffFile(path) as tif:  # not memory-mappable: every page is deflate-compressed
        assert tif.pages[0].compression == tifffile.COMPRESSION.ADOBE_DEFLATE and not tif.pages[0].is_memmappable
    assert registry.detect(path).name == "tiff"
    (movie,) = _movies(path).values()
    assert (movie.n_frames, movie.frame_shape) == (200, (160, 128))
    tracemalloc.start()
    try:
        block = movie.frames.read(0, 3)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < decoded / 10, f"peak {peak} bytes reading 3 of 200 frames ({decoded} bytes decoded)"
    np.testing.assert_array_equal(block, _xy(np.stack([frame, frame + 1, frame + 2])))
    np.testing.assert_array_equal(movie.frames.read(198, 200), _xy(np.stack([frame + 198, frame + 199])))


def test_folder_of_numbered_tiffs_is_one_movie_equal_roiextractors(tmp_path: Path) -> None:
    import tifffile
    from roiextractors import MultiTIFFMultiPageExtractor

    folder = tmp_path / "movie"
    folder.mkdir()
    rng = np.random.default_rng(1)
    parts = {n: rng.integers(0, 1000, (4, 20, 12), dtype=np.uint16) for n in (1, 2, 10)}  # 10 after 2
    for n, data in parts.items():
        tifffile.imwrite(folder / f"movie_{n}.tif", data, compression="zlib", photometric="minisblack", metadata=None)
    assert registry.detect(folder).name == "tiff"
    (movie,) = _movies(folder).values()
    assert (movie.n_frames, movie.frame_shape) == (12, (12, 20))
    oracle = MultiTIFFMultiPageExtractor(
        file_paths=[folder / f"movie_{n}.tif" for n in (1, 2, 10)], sampling_frequency=5.0
    )
    np.testing.assert_array_equal(movie.frames.read(0, 12), _xy(oracle.get_series(0, 12)))
    np.testing.assert_array_equal(movie.frames.read(3, 9), _xy(np.concatenate(list(parts.values()))[3:9]))


def test_imagej_hyperstack_planes_channels_rate_and_pixel_size(tmp_path: Path) -> None:
    import tifffile

    path = tmp_path / "hyper.tif"
    data = np.arange(3 * 2 * 2 * 6 * 5, dtype=np.uint16).reshape(3, 2, 2, 6, 5)  # T, Z, C, Y, X
    metadata = {"axes": "TZCYX", "finterval": 0.1, "unit": "um"}
    tifffile.imwrite(path, data, imagej=True, resolution=(2.0, 2.0), metadata=metadata)
    session = read_session(path, ConvertOptions())
    assert [p.name for p in session.imaging.planes] == ["Plane0", "Plane1"]
    plane = session.imaging.planes[0]
    assert plane.rate_hz == pytest.approx(10.0) and plane.grid_spacing_um == pytest.approx((0.5, 0.5))
    movies = {m.name: m for m in session.imaging.movies}
    assert len(movies) == 4
    np.testing.assert_array_equal(movies["TwoPhotonSeriesPlane1Channel0"].frames.read(0, 3), _xy(data[:, 1, 0]))
    np.testing.assert_array_equal(movies["TwoPhotonSeriesPlane0Channel1"].frames.read(1, 3), _xy(data[1:, 0, 1]))


def test_plain_tiff_with_interleaved_planes_and_channels_named_by_source_options(tmp_path: Path) -> None:
    import tifffile

    path = tmp_path / "interleaved.tif"
    data = np.arange(4 * 3 * 2 * 5 * 6, dtype=np.uint16).reshape(4, 3, 2, 5, 6)  # T, Z, C, Y, X pages in CZT order
    tifffile.imwrite(path, data.reshape(-1, 5, 6), photometric="minisblack", metadata=None)
    sets = ("source.planes=3", "source.channels=2")
    session = read_session(path, ConvertOptions(set_values=sets))
    assert [p.name for p in session.imaging.planes] == ["Plane0", "Plane1", "Plane2"]
    movies = {m.name: m for m in session.imaging.movies}
    assert len(movies) == 6 and {m.n_frames for m in movies.values()} == {4}
    np.testing.assert_array_equal(movies["TwoPhotonSeriesPlane2Channel1"].frames.read(0, 4), _xy(data[:, 2, 1]))
    np.testing.assert_array_equal(movies["TwoPhotonSeriesPlane1Channel0"].frames.read(1, 3), _xy(data[1:3, 1, 0]))
    with pytest.raises(SourceError, match="whole cycles"):
        read_session(path, ConvertOptions(set_values=("source.planes=5",)))
    with pytest.raises(UsageError, match=r"source\.channels=two"):
        read_session(path, ConvertOptions(set_values=("source.channels=two",)))


def test_imagej_tiff_of_one_ifd_big_endian_reads_its_contiguous_pages(tmp_path: Path) -> None:
    import tifffile

    path = tmp_path / "fiji.tif"
    data = (np.arange(6 * 2 * 9 * 7, dtype=np.uint16) * 37).reshape(6, 2, 9, 7)  # T, C, Y, X
    with tifffile.TiffWriter(path, imagej=True, byteorder=">") as tif:  # as ImageJ writes a movie > 4 GB
        tif.write(data, truncate=True, metadata={"axes": "TCYX"})
    with tifffile.TiffFile(path) as tif:
        assert len(tif.pages) == 1 and tif.imagej_metadata["images"] == 12
    movies = _movies(path)
    assert sorted(movies) == ["TwoPhotonSeriesPlane0Channel0", "TwoPhotonSeriesPlane0Channel1"]
    for c in (0, 1):
        movie = movies[f"TwoPhotonSeriesPlane0Channel{c}"]
        assert (movie.n_frames, movie.frame_shape, movie.dtype) == (6, (7, 9), np.dtype("uint16"))
        np.testing.assert_array_equal(movie.frames.read(0, 6), _xy(tifffile.imread(path)[:, c]))
        np.testing.assert_array_equal(movie.frames.read(4, 6), _xy(data[4:6, c]))


def test_ome_tiff_is_left_to_its_own_reader(tmp_path: Path) -> None:
    import tifffile

    path = tmp_path / "a.ome.tif"
    tifffile.imwrite(path, np.zeros((3, 8, 8), dtype=np.uint16), ome=True)
    assert TiffReader().probe(path) == Match.NO and ScanImageReader().probe(path) == Match.NO


def test_hdf5_movie_every_channel_equal_roiextractors_and_h5py(tmp_path: Path) -> None:
    import h5py
    from roiextractors import Hdf5ImagingExtractor

    path = write_hdf5_movie(tmp_path / "movie.h5", channels=2)
    assert registry.detect(path).name == "hdf5-movie"
    session = read_session(path, ConvertOptions())
    (plane,) = session.imaging.planes
    assert plane.rate_hz == 20.0 and [c.name for c in plane.channels] == ["Channel0", "Channel1"]
    movies = {m.name: m for m in session.imaging.movies}
    assert sorted(movies) == ["TwoPhotonSeriesPlane0Channel0", "TwoPhotonSeriesPlane0Channel1"]
    first = movies["TwoPhotonSeriesPlane0Channel0"]
    assert (first.n_frames, first.frame_shape, first.dtype, first.times.rate_hz) == (12, (16, 20), "uint16", 20.0)
    oracle = Hdf5ImagingExtractor(file_path=path)  # it gives the first channel only
    assert oracle.get_sampling_frequency() == 20.0
    np.testing.assert_array_equal(first.frames.read(2, 7), _xy(oracle.get_series(2, 7)))
    with h5py.File(path, "r") as f:
        second = f["mov"][1]
    np.testing.assert_array_equal(movies["TwoPhotonSeriesPlane0Channel1"].frames.read(0, 12), _xy(second))
    assert {m.n_frames for m in _movies(path, stub_seconds=0.25).values()} == {5}


def test_caiman_3d_movie_layout_and_not_a_caiman_segmentation(tmp_path: Path) -> None:
    import h5py

    path = write_hdf5_movie(tmp_path / "caiman_movie.hdf5", channels=None)
    assert registry.detect(path).name == "hdf5-movie"
    (movie,) = _movies(path).values()
    with h5py.File(path, "r") as f:
        expected = f["mov"][()]
    assert (movie.n_frames, movie.frame_shape) == (12, (16, 20))
    np.testing.assert_array_equal(movie.frames.read(0, 12), _xy(expected))
    assert Hdf5MovieReader().probe(realdata(CAIMAN)) == Match.NO  # a cnm.save segmentation (estimates)


def test_generated_scanimage_converts_through_the_cli_with_every_series(tmp_path: Path) -> None:
    from pynwb import NWBHDF5IO
    from roiextractors import ScanImageImagingExtractor

    path = write_scanimage(tmp_path / "cli_00001_00001.tif")
    out = tmp_path / "si.nwb"
    done = nwbconvert("convert", path, "-o", out, *SETS)
    assert done.returncode == 0, done.stderr
    with NWBHDF5IO(str(out), "r") as io:
        nwb = io.read()
        assert sorted(nwb.acquisition) == [f"TwoPhotonSeriesPlane{z}Channel{c}" for z in (0, 1) for c in (1, 2)]
        series = nwb.acquisition["TwoPhotonSeriesPlane1Channel2"]
        oracle = ScanImageImagingExtractor(file_path=path, channel_name="Channel 2", plane_index=1)
        np.testing.assert_array_equal(series.data[:], _xy(oracle.get_series()))
        np.testing.assert_allclose(series.timestamps[:], oracle.get_native_timestamps())
        plane = series.imaging_plane
        assert plane.name == "ImagingPlane1" and plane.indicator == "GCaMP6f"
        assert [c.name for c in plane.optical_channel] == ["Channel1", "Channel2"]
