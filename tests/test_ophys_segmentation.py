"""Segmentations (suite2p, CaImAn, CNMF-E, EXTRACT, Minian, Inscopix cell sets) read by detection into
`Session.imaging`: names, ROI counts, masks, traces, properties, images and rates. Oracle: roiextractors reading the
same files (real ones from ../shared/realdata, generated ones in the tools' layouts), masks and images converted
from its (height, width) order to NWB's (x, y) here, with numpy only."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import realdata
from nwbconvert.imaging import MaskKind, Microscopy, Segmentation, TraceKind
from nwbconvert.options import ConvertOptions
from nwbconvert.pipeline import read_session
from nwbconvert.readers.registry import detect

SUITE2P = "ophys/suite2p/fissa_example"
CAIMAN = "ophys/caiman/ideas_toolbox/sample_cellset_msr_1.hdf5"
KINDS = {k.value for k in TraceKind}


def _read(path: Path, **options: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_session(path, ConvertOptions(**options))


def _traces(seg: Segmentation) -> dict[str, np.ndarray]:
    return {t.kind.value: np.asarray(t.data) for t in seg.traces}


def _assert_traces_equal(seg: Segmentation, oracle: Any, n_frames: int | None = None) -> None:
    expected = {k: np.asarray(v) for k, v in oracle.get_traces_dict().items() if v is not None and k in KINDS}
    got = _traces(seg)
    assert set(got) == set(expected)
    for kind, data in expected.items():
        np.testing.assert_array_equal(got[kind], data[:n_frames])


def _assert_pixel_masks_equal(seg: Segmentation, oracle: Any) -> None:
    """roiextractors' pixel masks are rows of (y, x, weight); NWB's are (x, y, weight)."""
    expected = oracle.get_roi_pixel_masks()
    assert seg.mask_kind is MaskKind.PIXEL and len(seg.pixel_masks) == len(expected)
    for got, rows in zip(seg.pixel_masks, expected):
        np.testing.assert_array_equal(got, np.asarray(rows)[:, [1, 0, 2]])


def _assert_image_masks_equal(seg: Segmentation, oracle: Any) -> None:
    """roiextractors' image masks are (height, width, rois); NWB's (rois, x, y)."""
    assert seg.mask_kind is MaskKind.IMAGE and seg.image_masks is not None
    np.testing.assert_array_equal(seg.image_masks, np.asarray(oracle.get_roi_image_masks()).transpose(2, 1, 0))


# suite2p ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["parent", "suite2p", "plane0"])
def test_real_suite2p_is_detected_from_each_folder(where: str) -> None:
    root = realdata(SUITE2P)
    path = {"parent": root, "suite2p": root / "suite2p", "plane0": root / "suite2p" / "plane0"}[where]
    assert detect(path).name == "suite2p"


def test_real_suite2p_equals_roiextractors() -> None:
    from roiextractors import Suite2pSegmentationExtractor

    root = realdata(SUITE2P)
    session = _read(root)
    imaging = session.imaging
    assert session.reader == "suite2p" and not imaging.movies
    (plane,) = imaging.planes
    assert plane.name == "Plane0" and plane.rate_hz == 1.0 and plane.microscopy is Microscopy.TWO_PHOTON
    assert plane.indicator is None and plane.location is None and plane.excitation_lambda_nm is None
    (seg,) = imaging.segmentations
    assert seg.name == "PlaneSegmentationPlane0" and seg.plane == "Plane0" and seg.tool == "suite2p"
    assert seg.n_rois == 23 and seg.n_frames == 864 and seg.frame_shape == (156, 176)
    assert seg.times.rate_hz == 1.0
    oracle = Suite2pSegmentationExtractor(root / "suite2p", plane_name="plane0", channel_name="chan1")
    assert list(seg.roi_ids) == oracle.get_roi_ids()
    _assert_pixel_masks_equal(seg, oracle)
    _assert_traces_equal(seg, oracle)
    assert {t.kind for t in seg.traces} == {TraceKind.RAW, TraceKind.NEUROPIL, TraceKind.DECONVOLVED}
    assert all(isinstance(t.data, np.memmap) for t in seg.traces)  # F.npy, Fneu.npy, spks.npy stay on disk
    iscell = np.load(root / "suite2p" / "plane0" / "iscell.npy")
    np.testing.assert_array_equal(seg.properties["iscell"], oracle.get_property("iscell", oracle.get_roi_ids()) > 0)
    np.testing.assert_array_equal(seg.properties["iscell_probability"], iscell[:, 1])
    assert int(seg.properties["iscell"].sum()) == 21
    stat = np.load(root / "suite2p" / "plane0" / "stat.npy", allow_pickle=True)
    for key in ("npix", "compact", "skew", "radius", "aspect_ratio", "footprint", "std"):
        np.testing.assert_array_equal(seg.properties[key], [roi[key] for roi in stat])
        assert seg.property_descriptions[key]
    np.testing.assert_array_equal(seg.properties["center_x"], oracle.roi_locations[1])
    for name, image in oracle.get_images_dict().items():
        np.testing.assert_array_equal(seg.images[name], np.asarray(image).T)
    ops = oracle.options
    assert set(seg.images) == {"mean", "correlation", "max"}
    np.testing.assert_array_equal(seg.images["max"][2:154, 2:174], ops["max_proj"].T)


def test_generated_suite2p_every_plane_and_channel(tmp_path: Path) -> None:
    from roiextractors import Suite2pSegmentationExtractor

    from nwbconvert.synthetic.ophys_suite2p import write_suite2p_folder

    root = write_suite2p_folder(tmp_path, n_planes=2, two_channels=True)
    assert Suite2pSegmentationExtractor.get_available_planes(root) == ["plane0", "plane1"]
    assert Suite2pSegmentationExtractor.get_available_channels(root) == ["chan1", "chan2"]
    assert detect(tmp_path).name == "suite2p"
    imaging = _read(tmp_path).imaging
    assert [p.name for p in imaging.planes] == ["Plane0", "Plane1"]
    assert all([c.name for c in p.channels] == ["Chan1", "Chan2"] and p.rate_hz == 7.5 for p in imaging.planes)
    names = [s.name for s in imaging.segmentations]
    assert names == [
        "PlaneSegmentationPlane0",
        "PlaneSegmentationPlane0Chan2",
        "PlaneSegmentationPlane1",
        "PlaneSegmentationPlane1Chan2",
    ]
    for seg in imaging.segmentations:
        plane = f"plane{seg.plane[-1]}"
        channel = "chan2" if seg.name.endswith("Chan2") else "chan1"
        oracle = Suite2pSegmentationExtractor(root, plane_name=plane, channel_name=channel)
        assert seg.n_rois == oracle.get_num_rois() == 5 + int(seg.plane[-1]) and seg.frame_shape == (48, 32)
        _assert_pixel_masks_equal(seg, oracle)
        _assert_traces_equal(seg, oracle)
        folder = root / plane
        np.testing.assert_array_equal(seg.properties["iscell_probability"], np.load(folder / "iscell.npy")[:, 1])
        np.testing.assert_array_equal(seg.properties["redcell"], np.load(folder / "redcell.npy")[:, 0] > 0)
        images = oracle.get_images_dict()
        np.testing.assert_array_equal(seg.images["mean"], images["mean"].T)
        if channel == "chan1":
            np.testing.assert_array_equal(seg.images["correlation"], images["correlation"].T)
            assert "max" in seg.images
        else:
            assert set(seg.images) == {"mean"} and {t.kind for t in seg.traces} == {TraceKind.RAW, TraceKind.NEUROPIL}


def test_suite2p_plane_folder_reads_that_plane_one_photon_and_stub_keeps_the_first_seconds(tmp_path: Path) -> None:
    from nwbconvert.synthetic.ophys_suite2p import write_suite2p_folder

    root = write_suite2p_folder(tmp_path, n_planes=3, two_channels=False, one_photon=True)
    imaging = _read(root / "plane2", stub_seconds=2.0).imaging
    assert [p.name for p in imaging.planes] == ["Plane2"] and [c.name for c in imaging.planes[0].channels] == ["Chan1"]
    assert imaging.planes[0].microscopy is Microscopy.ONE_PHOTON  # ops['1Preg']: registered as one-photon data
    (seg,) = imaging.segmentations
    assert seg.name == "PlaneSegmentationPlane2" and seg.n_rois == 7
    assert seg.n_frames == 15  # 2 s at 7.5 Hz
    np.testing.assert_array_equal(_traces(seg)["raw"], np.load(root / "plane2" / "F.npy").T[:15])


# CaImAn ----------------------------------------------------------------------------------------------------------


def test_real_caiman_equals_roiextractors() -> None:
    from roiextractors import CaimanSegmentationExtractor

    path = realdata(CAIMAN)
    assert detect(path).name == "caiman"
    imaging = _read(path).imaging
    (plane,) = imaging.planes
    assert plane.name == "Plane0" and plane.rate_hz == pytest.approx(20.0152, abs=1e-4)
    assert plane.microscopy is Microscopy.ONE_PHOTON  # CaImAn ran as CNMF-E (params/init/center_psf)
    (seg,) = imaging.segmentations
    assert seg.name == "PlaneSegmentationPlane0" and seg.tool == "CaImAn"
    assert seg.n_rois == 5 and seg.n_frames == 100 and seg.frame_shape == (640, 400)
    oracle = CaimanSegmentationExtractor(path)
    _assert_image_masks_equal(seg, oracle)
    _assert_traces_equal(seg, oracle)
    assert {t.kind for t in seg.traces} == {TraceKind.RAW, TraceKind.DENOISED, TraceKind.DECONVOLVED}
    ids = oracle.get_roi_ids()
    for key in ("is_accepted", "snr", "r_values"):
        np.testing.assert_array_equal(seg.properties[key], oracle.get_property(key, ids))
    assert seg.properties["is_accepted"].dtype == bool and seg.properties["is_accepted"].all()
    import h5py

    with h5py.File(path, "r") as f:
        np.testing.assert_array_equal(seg.properties["bl"], f["estimates/bl"][()])
        c = f["estimates/C"][()]
        np.testing.assert_array_equal(_traces(seg)["raw"], (c + f["estimates/YrA"][()]).T)
        np.testing.assert_array_equal(_traces(seg)["denoised"], c.T)


# CNMF-E and EXTRACT (.mat v7.3) ------------------------------------------------------------------------------------


def _one_segmentation(path: Path, tool: str, **options: Any) -> tuple[Any, Segmentation]:
    imaging = _read(path, **options).imaging
    (plane,) = imaging.planes
    (seg,) = imaging.segmentations
    assert plane.name == "Plane0" and seg.name == "PlaneSegmentationPlane0" and seg.tool == tool
    assert not imaging.movies
    return plane, seg


def test_generated_cnmfe_equals_roiextractors(tmp_path: Path) -> None:
    import scipy.io
    from roiextractors import CnmfeSegmentationExtractor

    from nwbconvert.synthetic.ophys_matlab import write_cnmfe_mat

    path = write_cnmfe_mat(tmp_path / "cnmfe.mat", n_rois=4, n_frames=30, height=24, width=32, rate=10.0)
    assert scipy.io.matlab.matfile_version(str(path)) == (2, 0)  # MATLAB v7.3 (HDF5)
    assert detect(path).name == "cnmfe"
    plane, seg = _one_segmentation(path, "CNMF-E")
    assert plane.rate_hz == pytest.approx(10.0) and plane.microscopy is Microscopy.ONE_PHOTON
    oracle = CnmfeSegmentationExtractor(path)
    assert seg.n_rois == oracle.get_num_rois() == 4 and seg.n_frames == 30 and seg.frame_shape == (32, 24)
    _assert_image_masks_equal(seg, oracle)
    _assert_traces_equal(seg, oracle)
    np.testing.assert_array_equal(seg.images["correlation"], oracle.get_image("correlation").T)


@pytest.mark.parametrize("legacy", [False, True], ids=["extract-1.1", "legacy"])
def test_generated_extract_equals_roiextractors(tmp_path: Path, legacy: bool) -> None:
    from roiextractors import ExtractSegmentationExtractor

    from nwbconvert.synthetic.ophys_matlab import write_extract_mat, write_legacy_extract_mat

    if legacy:
        path = write_legacy_extract_mat(tmp_path / "extract.mat", n_rois=3, n_frames=20, rate=5.0)
    else:
        path = write_extract_mat(tmp_path / "extract.mat", n_rois=4, n_frames=30, preprocess=True)
    assert detect(path).name == "extract"
    plane, seg = _one_segmentation(path, "EXTRACT")
    oracle = ExtractSegmentationExtractor(path, sampling_frequency=12.5)
    assert seg.n_rois == oracle.get_num_rois() and seg.frame_shape == (32, 24)
    _assert_image_masks_equal(seg, oracle)
    _assert_traces_equal(seg, oracle)
    if legacy:
        assert plane.rate_hz == pytest.approx(5.0) and {t.kind for t in seg.traces} == {TraceKind.RAW}
        np.testing.assert_array_equal(seg.images["correlation"], oracle.get_image("correlation").T)
    else:
        assert plane.rate_hz is None  # EXTRACT >= 1.0 saves no rate: nwbconvert invents none
        assert {t.kind for t in seg.traces} == {TraceKind.DFF}  # config.preprocess: ΔF/F
        np.testing.assert_array_equal(seg.images["max"], oracle.get_image("max_image").T)
        np.testing.assert_array_equal(seg.images["summary_image"], oracle.get_image("summary_image").T)
        plane, _ = _one_segmentation(path, "EXTRACT", set_values=("source.rate=12.5",))
        assert plane.rate_hz == 12.5


# Minian -----------------------------------------------------------------------------------------------------------


def test_generated_minian_equals_roiextractors(tmp_path: Path) -> None:
    import zarr
    from roiextractors import MinianSegmentationExtractor

    from nwbconvert.synthetic.ophys_minian import write_minian_folder

    folder = write_minian_folder(tmp_path / "minian", n_units=3, n_frames=25, height=20, width=28)
    assert detect(folder).name == "minian"
    plane, seg = _one_segmentation(folder, "Minian")
    assert plane.microscopy is Microscopy.ONE_PHOTON and plane.rate_hz is None  # times from timeStamps.csv
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        oracle = MinianSegmentationExtractor(folder)
        stamps = oracle.get_native_timestamps()
    assert list(seg.roi_ids) == [2, 5, 8] == list(zarr.open(str(folder / "A.zarr"), mode="r")["unit_id"][:])
    assert seg.n_rois == 3 and seg.n_frames == 25 and seg.frame_shape == (28, 20)
    np.testing.assert_array_equal(seg.times.timestamps_s, stamps)
    masks = oracle.get_roi_image_masks(roi_ids=[0, 1, 2])  # roiextractors keys Minian's masks by position
    np.testing.assert_array_equal(seg.image_masks, np.asarray(masks).transpose(2, 1, 0))
    _assert_traces_equal(seg, oracle)
    assert {t.kind for t in seg.traces} == {TraceKind.DENOISED, TraceKind.BASELINE, TraceKind.DECONVOLVED}
    np.testing.assert_array_equal(seg.images["max"], oracle.get_image("maximum_projection").T)
    stub = _read(folder, stub_seconds=0.5).imaging.segmentations[0]
    assert stub.n_frames == int(np.searchsorted(stamps, stamps[0] + 0.5)) == len(stub.times.timestamps_s)


def test_minian_without_timestamps_takes_the_rate_given(tmp_path: Path) -> None:
    from nwbconvert.synthetic.ophys_minian import write_minian_folder

    folder = write_minian_folder(tmp_path / "minian", timestamps=False)
    plane, seg = _one_segmentation(folder, "Minian")
    assert plane.rate_hz is None and seg.times.rate_hz is None and seg.times.timestamps_s is None
    plane, seg = _one_segmentation(folder, "Minian", set_values=("source.rate=30",))
    assert plane.rate_hz == 30.0 and seg.times.rate_hz == 30.0


# Inscopix cell set ------------------------------------------------------------------------------------------------


def test_generated_inscopix_cellset_equals_isx_and_roiextractors(tmp_path: Path) -> None:
    import isx
    from roiextractors import InscopixSegmentationExtractor

    from nwbconvert.synthetic.ophys_inscopix_cellset import write_inscopix_cellset

    path = write_inscopix_cellset(tmp_path / "cells.isxd", n_cells=3, n_frames=20, height=24, width=32)
    assert detect(path).name == "inscopix-cellset"
    movie = realdata("ophys/inscopix/ideas_toolbox/movie_part2_108x123x63.isxd")
    assert detect(movie).name == "inscopix"  # the movie stays with the movie reader
    plane, seg = _one_segmentation(path, "Inscopix")
    assert plane.rate_hz == pytest.approx(20.0) and plane.microscopy is Microscopy.ONE_PHOTON
    cells = isx.CellSet.read(str(path))
    assert seg.n_rois == cells.num_cells == 3 and seg.n_frames == 20 and seg.frame_shape == (32, 24)
    for i in range(3):  # isx: (rows, columns) images; NWB pixel masks (x, y, weight)
        image = cells.get_cell_image_data(i)
        ys, xs = np.nonzero(image)
        got = {(int(x), int(y)): w for x, y, w in seg.pixel_masks[i]}
        assert got == {(int(x), int(y)): pytest.approx(float(image[y, x])) for y, x in zip(ys, xs)}
        np.testing.assert_array_equal(_traces(seg)["raw"][:, i], cells.get_cell_trace_data(i))
    oracle = InscopixSegmentationExtractor(path)
    _assert_pixel_masks_equal(seg, oracle)
    np.testing.assert_array_equal(_traces(seg)["raw"], oracle.get_traces().T)  # roiextractors: (rois, frames)
    assert list(seg.properties["cell_name"]) == oracle.get_roi_ids() == ["C00", "C01", "C02"]
    assert list(seg.properties["cell_status"]) == ["accepted", "rejected", "accepted"]
    stub = _read(path, stub_seconds=0.25).imaging.segmentations[0]
    assert stub.n_frames == 5


def test_suite2p_cropped_images_sit_where_suite2p_puts_them(tmp_path: Path) -> None:
    """Vcorr and max_proj cover the registration's valid range only: placed at [yrange[0]:yrange[1],
    xrange[0]:xrange[1]] of the frame, as suite2p's GUI places them (roiextractors' Vcorr offset mirrors yrange,
    which agrees only for a symmetric crop)."""
    from nwbconvert.synthetic.ophys_suite2p import write_suite2p_folder

    root = write_suite2p_folder(tmp_path, n_planes=1, two_channels=False, ly=32, lx=48)
    path = root / "plane0" / "ops.npy"
    ops = np.load(path, allow_pickle=True).item()
    ops["yrange"], ops["xrange"] = [1, 27], [3, 46]  # an asymmetric crop
    ops["Vcorr"] = np.arange(26 * 43, dtype="float64").reshape(26, 43)
    ops["max_proj"] = ops["Vcorr"].astype("float32") * 2
    np.save(path, np.array(ops), allow_pickle=True)
    (seg,) = _read(root).imaging.segmentations
    for name, image in (("correlation", ops["Vcorr"]), ("max", ops["max_proj"])):
        full = np.zeros((32, 48), image.dtype)
        full[1:27, 3:46] = image
        np.testing.assert_array_equal(seg.images[name], full.T)


def test_generated_caiman_with_every_field(tmp_path: Path) -> None:
    from roiextractors import CaimanSegmentationExtractor

    from nwbconvert.synthetic.ophys_caiman import write_caiman_hdf5

    path = write_caiman_hdf5(tmp_path / "cnm.hdf5", n_rois=4, n_frames=30, height=20, width=28, rejected=(1,))
    assert detect(path).name == "caiman"
    imaging = _read(path).imaging
    (plane,) = imaging.planes
    assert plane.microscopy is Microscopy.TWO_PHOTON and plane.rate_hz == 15.0  # CNMF, not CNMF-E
    (seg,) = imaging.segmentations
    assert seg.n_rois == 4 and seg.frame_shape == (28, 20)
    oracle = CaimanSegmentationExtractor(path)
    _assert_image_masks_equal(seg, oracle)
    _assert_traces_equal(seg, oracle)
    assert {t.kind for t in seg.traces} == {TraceKind.RAW, TraceKind.DFF, TraceKind.DENOISED, TraceKind.DECONVOLVED}
    assert list(seg.properties["is_accepted"]) == [True, False, True, True]
    for key in ("snr", "r_values", "cnn_preds"):
        np.testing.assert_array_equal(seg.properties[key], oracle.get_property(key, [0, 1, 2, 3]))
    np.testing.assert_array_equal(seg.images["correlation"], oracle.get_image("correlation").T)
    np.testing.assert_array_equal(seg.images["background"], oracle.get_image("mean").T)  # the sum of b's columns
    assert "mean" not in seg.images
