"""The real imaging files of ../shared/realdata, converted with detection through the real CLI: frames, ROIs, masks
and traces against the libraries that read those files (tifffile, roiextractors, suite2p's own .npy files),
rates as the files give them, and the metadata the issue requires refused before anything is written."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cli_runner import nwbconvert
from conftest import COMPLETE_METADATA, realdata

OPHYS = ("ophys.indicator=GCaMP6f", "ophys.location=VISp", "ophys.excitation_lambda=920", "ophys.emission_lambda=510")
SETS = [a for kv in (*COMPLETE_METADATA, *OPHYS) for a in ("--set", kv)]

SUITE2P = "ophys/suite2p/fissa_example/suite2p"
CAIMAN = "ophys/caiman/ideas_toolbox/sample_cellset_msr_1.hdf5"
ISXD = "ophys/inscopix/ideas_toolbox/movie_part2_108x123x63.isxd"
BIGTIFF = "ophys/tiff/ideas_toolbox/movie_part2_108x123x63.tiff"
SCANIMAGE38 = "ophys/scanimage/jefferis_si38/Blank-IPA_1s_16r_032.tif"


def _convert(source: Path, out: Path, *extra: str) -> None:
    done = nwbconvert("convert", source, "-o", out, *SETS, *extra)
    assert done.returncode == 0, done.stderr
    assert out.exists()


def _read(path: Path):  # type: ignore[no-untyped-def]
    from pynwb import NWBHDF5IO

    io = NWBHDF5IO(str(path), "r")
    return io, io.read()


def test_suite2p_folder_rois_masks_traces_and_images_equal_its_own_files(tmp_path: Path) -> None:
    folder = realdata(SUITE2P)
    out = tmp_path / "s2p.nwb"
    _convert(folder, out)
    plane0 = folder / "plane0"
    stat = np.load(plane0 / "stat.npy", allow_pickle=True)
    ops = np.load(plane0 / "ops.npy", allow_pickle=True).item()
    iscell = np.load(plane0 / "iscell.npy")
    io, nwb = _read(out)
    with io:
        ophys = nwb.processing["ophys"]
        table = ophys["ImageSegmentation"]["PlaneSegmentationPlane0"]
        assert len(table) == 23 and int(iscell[:, 0].sum()) == 21
        for k in (0, 11, 22):  # NWB pixel masks are (x, y, weight): suite2p's xpix, ypix, lam
            rows = np.array([tuple(r) for r in table["pixel_mask"][k]], dtype="float64")
            expected = np.column_stack([stat[k]["xpix"], stat[k]["ypix"], stat[k]["lam"]])
            np.testing.assert_allclose(rows, expected, rtol=1e-6)
        fluorescence = ophys["Fluorescence"]
        for series, npy in (("RoiResponseSeriesPlane0", "F.npy"), ("NeuropilPlane0", "Fneu.npy")):
            traces = fluorescence[series]
            np.testing.assert_array_equal(traces.data[:], np.load(plane0 / npy).T)
            assert traces.rate == pytest.approx(1.0)
        np.testing.assert_array_equal(fluorescence["DeconvolvedPlane0"].data[:], np.load(plane0 / "spks.npy").T)
        assert traces.rois.table is table
        mean = ophys["SummaryImagesPlane0"]["mean"].data[:]
        np.testing.assert_array_equal(mean, np.asarray(ops["meanImg"]).T)  # images are (x, y)
        plane = table.imaging_plane
        assert (plane.indicator, plane.location, plane.excitation_lambda) == ("GCaMP6f", "VISp", 920.0)


def test_caiman_hdf5_masks_and_every_trace_equal_roiextractors(tmp_path: Path) -> None:
    from roiextractors import CaimanSegmentationExtractor

    path = realdata(CAIMAN)
    out = tmp_path / "caiman.nwb"
    _convert(path, out)
    oracle = CaimanSegmentationExtractor(file_path=str(path))
    io, nwb = _read(out)
    with io:
        ophys = nwb.processing["ophys"]
        (table,) = ophys["ImageSegmentation"].plane_segmentations.values()
        assert len(table) == 5
        masks = np.asarray(oracle.get_roi_image_masks())  # (height, width, rois)
        np.testing.assert_allclose(table["image_mask"][:], masks.transpose(2, 1, 0))
        series = [
            s
            for c in ("Fluorescence", "DfOverF")
            if c in ophys.data_interfaces
            for s in ophys[c].roi_response_series.values()
        ]
        by_data = {s.name: s.data[:] for s in series}
        for name, traces in oracle.get_traces_dict().items():
            if traces is None:
                continue
            assert any(np.array_equal(np.asarray(traces), d) for d in by_data.values()), f"{name} not written"
        assert all(s.rate == pytest.approx(20.0152, rel=1e-4) for s in series)


def test_inscopix_movie_frames_equal_roiextractors_and_go_one_photon(tmp_path: Path) -> None:
    from roiextractors import InscopixImagingExtractor

    path = realdata(ISXD)
    out = tmp_path / "isx.nwb"
    _convert(path, out, "--jobs", "2")
    oracle = np.asarray(InscopixImagingExtractor(file_path=str(path)).get_series())
    io, nwb = _read(out)
    with io:
        (series,) = nwb.acquisition.values()
        assert type(series).__name__ == "OnePhotonSeries"
        assert series.data.shape == (63, 108, 123) and series.data.dtype == np.float32
        np.testing.assert_array_equal(series.data[:], oracle.transpose(0, 2, 1))
        assert series.rate == pytest.approx(10.0)
        assert series.data.chunks[1:] == (108, 123)  # chunks of whole frames


def test_a_movie_without_a_rate_is_refused_naming_the_key_then_converts_with_it(tmp_path: Path) -> None:
    import tifffile

    path = realdata(BIGTIFF)
    out = tmp_path / "tiff.nwb"
    refused = nwbconvert("convert", path, "-o", out, *SETS)
    assert refused.returncode == 4, refused.stderr
    assert "ophys.rate" in refused.stderr and "Traceback" not in refused.stderr
    assert not out.exists()
    store = tmp_path / "tiff.nwb.zarr"
    _convert(path, store, "--set", "ophys.rate=10", "--backend", "zarr")
    from hdmf_zarr import NWBZarrIO

    with NWBZarrIO(str(store), "r") as io:
        (series,) = io.read().acquisition.values()
        np.testing.assert_array_equal(series.data[:], tifffile.imread(path).transpose(0, 2, 1))
        assert series.rate == 10.0


def test_scanimage_38_frames_and_rate_from_its_header(tmp_path: Path) -> None:
    import tifffile

    path = realdata(SCANIMAGE38)
    out = tmp_path / "si.nwb"
    _convert(path, out, "--compression", "none")
    io, nwb = _read(out)
    with io:
        (series,) = nwb.acquisition.values()
        assert type(series).__name__ == "TwoPhotonSeries"
        assert series.rate == pytest.approx(8.138, abs=1e-3)
        np.testing.assert_array_equal(series.data[:], tifffile.imread(path).transpose(0, 2, 1))


def test_missing_imaging_metadata_is_refused_all_at_once_before_anything_is_written(tmp_path: Path) -> None:
    out = tmp_path / "s2p.nwb"
    done = nwbconvert("convert", realdata(SUITE2P), "-o", out, *[a for kv in COMPLETE_METADATA for a in ("--set", kv)])
    assert done.returncode == 4
    for key in ("ophys.indicator", "ophys.location", "ophys.excitation_lambda", "ophys.emission_lambda"):
        assert key in done.stderr
    assert "Traceback" not in done.stderr and not out.exists()
    unknown = nwbconvert("convert", realdata(SUITE2P), "-o", out, *SETS, "--set", "imaging_planes.Plane7.indicator=x")
    assert unknown.returncode == 4 and "Plane0" in unknown.stderr


def test_unknown_is_written_only_where_the_user_set_it(tmp_path: Path) -> None:
    out = tmp_path / "s2p.nwb"
    sets = [a for kv in COMPLETE_METADATA for a in ("--set", kv)]
    more = ["--set", "ophys.indicator=unknown", "--set", "ophys.location=unknown"]
    wavelengths = ["--set", "ophys.excitation_lambda=unknown", "--set", "ophys.emission_lambda=unknown"]
    done = nwbconvert("convert", realdata(SUITE2P), "-o", out, *sets, *more, *wavelengths)
    assert done.returncode == 0, done.stderr
    io, nwb = _read(out)
    with io:
        plane = next(iter(nwb.imaging_planes.values()))
        assert plane.indicator == "unknown" and np.isnan(plane.excitation_lambda)


def test_dry_run_names_planes_segmentations_and_their_rois(tmp_path: Path) -> None:
    done = nwbconvert("convert", realdata(SUITE2P), "--dry-run", "--json", *SETS)
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)["result"]["plan"]
    imaging = plan["imaging"]
    assert plan["estimated_bytes"] >= 3 * 23 * 864 * 4  # at least the raw, neuropil and deconvolved float32 traces
    assert [p["name"] for p in imaging["planes"]] == ["Plane0"]
    assert [(s["name"], s["rois"], s["frames"]) for s in imaging["segmentations"]] == [
        ("PlaneSegmentationPlane0", 23, 864)
    ]


@pytest.mark.parametrize("compression", ["lzf", "blosc-zstd", "none"])
def test_every_compression_stores_the_same_frames(tmp_path: Path, compression: str) -> None:
    import h5py
    import hdf5plugin  # noqa: F401  (the blosc filter, for reading)
    import tifffile

    out = tmp_path / f"{compression}.nwb"
    _convert(realdata(ISXD), out, "--compression", compression, "--jobs", "2")
    with h5py.File(out, "r") as f:
        data = f["acquisition/OnePhotonSeriesPlane0Channel0/data"]
        np.testing.assert_array_equal(data[:], tifffile.imread(realdata(BIGTIFF)).transpose(0, 2, 1))  # the twin


def test_a_session_config_puts_ephys_a_movie_and_its_segmentation_in_one_file(tmp_path: Path) -> None:
    """SpikeGLX + a TIFF movie + the suite2p folder made from it, the imaging sources unnamed: the segmentation's
    ROI table sits on the movie's ImagingPlane (one plane, the movie's channel)."""
    import tifffile

    from nwbconvert.synthetic.ophys_suite2p import write_suite2p_folder
    from nwbconvert.synthetic.spikeglx import write_spikeglx_run

    run = write_spikeglx_run(tmp_path / "ephys", seconds=1.0, n_channels=4).folder
    frames = np.arange(40 * 32 * 48, dtype=np.uint16).reshape(40, 32, 48)  # (frames, height, width)
    tifffile.imwrite(tmp_path / "movie.tif", frames, photometric="minisblack")
    write_suite2p_folder(tmp_path, n_planes=1, two_channels=False, n_frames=40, ly=32, lx=48, fs=7.5)
    start = "2026-01-15T10:00:00+01:00"
    config = {
        "sources": [
            {"path": str(run)},
            {"path": str(tmp_path / "movie.tif"), "start_time": start},
            {"path": str(tmp_path / "suite2p"), "start_time": start},
        ],
        "timezone": "Europe/Berlin",
        "set": dict(kv.split("=", 1) for kv in (*COMPLETE_METADATA, *OPHYS, "ophys.rate=7.5")),
    }
    path = tmp_path / "session.yaml"
    path.write_text(json.dumps(config))
    out = tmp_path / "session.nwb"
    done = nwbconvert("convert", "--config", path, "-o", out)
    assert done.returncode == 0, done.stderr
    io, nwb = _read(out)
    with io:
        assert len(nwb.imaging_planes) == 1
        (plane,) = nwb.imaging_planes.values()
        assert [c.name for c in plane.optical_channel] == ["Channel0"]
        movie = nwb.acquisition["TwoPhotonSeriesPlane0Channel0"]
        np.testing.assert_array_equal(movie.data[:], frames.transpose(0, 2, 1))
        table = nwb.processing["ophys"]["ImageSegmentation"]["PlaneSegmentationPlane0"]
        assert table.imaging_plane is movie.imaging_plane is plane
        assert any(type(s).__name__ == "ElectricalSeries" for s in nwb.acquisition.values())
    records = json.loads(nwb.source_script)["sources"]
    assert [r["series"] for r in records[1:]] == [["TwoPhotonSeriesPlane0Channel0"], ["PlaneSegmentationPlane0"]]


def test_a_rate_the_user_sets_wins_over_the_headers_for_the_plane_and_its_series(tmp_path: Path) -> None:
    out = tmp_path / "si.nwb"
    _convert(realdata(SCANIMAGE38), out, "--set", "ophys.rate=10")
    io, nwb = _read(out)
    with io:
        (series,) = nwb.acquisition.values()
        assert series.rate == 10.0 and series.imaging_plane.imaging_rate == 10.0
