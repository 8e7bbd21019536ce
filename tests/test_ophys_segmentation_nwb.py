"""Segmentations converted to NWB and read back with pynwb: the real suite2p output through the `nwbconvert convert`
command, the real CaImAn file and a generated 2-plane x 2-channel suite2p folder through `pipeline.convert`. Oracle:
roiextractors reading the same files (masks converted from its (height, width) order to NWB's (x, y) here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import COMPLETE_METADATA, realdata
from nwbconvert.options import ConvertOptions

SUITE2P = "ophys/suite2p/fissa_example"
CAIMAN = "ophys/caiman/ideas_toolbox/sample_cellset_msr_1.hdf5"

# End to end: the real files through `nwbconvert convert`, read back with pynwb -------------------------------------

OPHYS_SETS = [
    a
    for kv in (
        *COMPLETE_METADATA,
        "ophys.indicator=GCaMP6f",
        "ophys.location=VISp",
        "ophys.excitation_lambda=920",
        "ophys.emission_lambda=510",
    )
    for a in ("--set", kv)
]


def _convert_ophys(source: Path, out: Path) -> Any:
    from cli_runner import nwbconvert

    done = nwbconvert("convert", source, "-o", out, *OPHYS_SETS, "--timezone", "UTC")
    assert done.returncode == 0, done.stderr
    assert "Validated: no errors" in done.stdout
    return done


def test_real_suite2p_converts_to_nwb(tmp_path: Path) -> None:
    from pynwb import NWBHDF5IO
    from roiextractors import Suite2pSegmentationExtractor

    root = realdata(SUITE2P)
    out = tmp_path / "suite2p.nwb"
    _convert_ophys(root / "suite2p", out)
    oracle = Suite2pSegmentationExtractor(root / "suite2p", plane_name="plane0", channel_name="chan1")
    with NWBHDF5IO(str(out), "r") as io:
        nwb = io.read()
        ophys = nwb.processing["ophys"]
        table = ophys["ImageSegmentation"]["PlaneSegmentationPlane0"]
        assert len(table) == 23 and table.imaging_plane.indicator == "GCaMP6f"
        assert table.imaging_plane.imaging_rate == 1.0 and table.imaging_plane.excitation_lambda == 920.0
        for i, rows in enumerate(oracle.get_roi_pixel_masks()):
            got = np.array([tuple(r) for r in table["pixel_mask"][i]], dtype="float64")
            np.testing.assert_allclose(got, np.asarray(rows)[:, [1, 0, 2]], rtol=1e-6)
        assert int(np.sum(table["iscell"].data[:])) == 21
        fluorescence = ophys["Fluorescence"]
        for name, kind in (("RoiResponseSeriesPlane0", "raw"), ("NeuropilPlane0", "neuropil")):
            series = fluorescence[name]
            np.testing.assert_array_equal(series.data[:], oracle.get_traces(name=kind))
            assert series.rate == 1.0 and series.rois.table is table
        np.testing.assert_array_equal(fluorescence["DeconvolvedPlane0"].data[:], oracle.get_traces(name="deconvolved"))


def test_real_caiman_converts_to_nwb(tmp_path: Path) -> None:
    from pynwb import NWBHDF5IO
    from roiextractors import CaimanSegmentationExtractor

    from nwbconvert.pipeline import convert

    path = realdata(CAIMAN)
    out = tmp_path / "caiman.nwb"  # in process (the suite2p test runs the CLI): the same pipeline, no start-up
    result = convert(path, out, ConvertOptions(set_values=tuple(OPHYS_SETS[1::2]), timezone="UTC"))
    assert not [f for f in result.findings if f.severity == "error"]
    oracle = CaimanSegmentationExtractor(path)
    with NWBHDF5IO(str(out), "r") as io:
        ophys = io.read().processing["ophys"]
        table = ophys["ImageSegmentation"]["PlaneSegmentationPlane0"]
        assert len(table) == 5
        np.testing.assert_array_equal(table["image_mask"].data[:], oracle.get_roi_image_masks().transpose(2, 1, 0))
        np.testing.assert_array_equal(table["is_accepted"].data[:], oracle.get_property("is_accepted", [0, 1, 2, 3, 4]))
        series = ophys["Fluorescence"]["DenoisedPlane0"]
        np.testing.assert_array_equal(series.data[:], oracle.get_traces(name="denoised"))
        assert series.rate == pytest.approx(20.0152, abs=1e-4)


def test_generated_suite2p_planes_and_channels_reach_nwb(tmp_path: Path) -> None:
    """Every plane × channel a PlaneSegmentation on its plane, its series named after it (validated by the real-file
    tests; not again here)."""
    from pynwb import NWBHDF5IO
    from roiextractors import Suite2pSegmentationExtractor

    from nwbconvert.pipeline import convert
    from nwbconvert.synthetic.ophys_suite2p import write_suite2p_folder

    root = write_suite2p_folder(tmp_path / "session", n_planes=2, two_channels=True, n_rois=3, n_frames=12)
    out = tmp_path / "suite2p.nwb"
    convert(root, out, ConvertOptions(set_values=tuple(OPHYS_SETS[1::2]), timezone="UTC", validate=False))
    with NWBHDF5IO(str(out), "r") as io:
        ophys = io.read().processing["ophys"]
        tables = ophys["ImageSegmentation"].plane_segmentations
        assert sorted(tables) == [f"PlaneSegmentationPlane{p}{c}" for p in (0, 1) for c in ("", "Chan2")]
        for plane in (0, 1):
            assert (
                tables[f"PlaneSegmentationPlane{plane}Chan2"].imaging_plane
                is tables[f"PlaneSegmentationPlane{plane}"].imaging_plane
            )
            for channel in ("chan1", "chan2"):
                suffix = f"Plane{plane}" + ("Chan2" if channel == "chan2" else "")
                oracle = Suite2pSegmentationExtractor(root, plane_name=f"plane{plane}", channel_name=channel)
                series = ophys["Fluorescence"][f"RoiResponseSeries{suffix}"]
                np.testing.assert_array_equal(series.data[:], oracle.get_traces(name="raw"))
                assert series.rois.table is tables[f"PlaneSegmentation{suffix}"] and series.rate == 7.5
                assert len(tables[f"PlaneSegmentation{suffix}"]) == 3 + plane
            assert f"DeconvolvedPlane{plane}" in ophys["Fluorescence"].roi_response_series
            assert f"DeconvolvedPlane{plane}Chan2" not in ophys["Fluorescence"].roi_response_series
            images = ophys[f"SummaryImagesPlane{plane}"].images
            assert sorted(images) == ["correlation", "max", "mean"]


def _generated(kind: str, folder: Path) -> Path:
    from nwbconvert.synthetic import ophys_caiman, ophys_inscopix_cellset, ophys_matlab, ophys_minian

    return {
        "caiman": lambda: ophys_caiman.write_caiman_hdf5(folder / "cnm.hdf5"),
        "cnmfe": lambda: ophys_matlab.write_cnmfe_mat(folder / "cnmfe.mat"),
        "extract": lambda: ophys_matlab.write_extract_mat(folder / "extract.mat"),
        "minian": lambda: ophys_minian.write_minian_folder(folder / "minian"),
        "inscopix-cellset": lambda: ophys_inscopix_cellset.write_inscopix_cellset(folder / "cells.isxd"),
    }[kind]()


@pytest.mark.parametrize("kind", ["caiman", "cnmfe", "extract", "minian", "inscopix-cellset"])
def test_generated_segmentations_reach_nwb(tmp_path: Path, kind: str) -> None:
    """Each generated segmentation written and read back: its ROIs with the native mask type, its traces on the
    ROI table with the file's timing (EXTRACT >= 1.0 holds no rate: ophys.rate gives it)."""
    from pynwb import NWBHDF5IO

    from nwbconvert.pipeline import convert, read_session

    source = _generated(kind, tmp_path)
    sets = tuple(OPHYS_SETS[1::2]) + (("ophys.rate=12.5",) if kind == "extract" else ())
    seg = read_session(source, ConvertOptions(set_values=sets)).imaging.segmentations[0]
    out = tmp_path / f"{kind}.nwb"
    convert(source, out, ConvertOptions(set_values=sets, timezone="UTC", validate=False))
    with NWBHDF5IO(str(out), "r") as io:
        ophys = io.read().processing["ophys"]
        table = ophys["ImageSegmentation"]["PlaneSegmentationPlane0"]
        assert len(table) == seg.n_rois and list(table.id[:]) == list(seg.roi_ids)
        column = "pixel_mask" if seg.mask_kind.value == "pixel" else "image_mask"
        assert column in table.colnames and set(seg.properties) <= set(table.colnames)
        if column == "image_mask":
            np.testing.assert_array_equal(table["image_mask"].data[:], seg.image_masks)
        for traces in seg.traces:
            series = ophys[traces.kind.container][f"{traces.kind.series_name}Plane0"]
            np.testing.assert_array_equal(series.data[:], np.asarray(traces.data))
            assert series.rois.table is table
            if seg.times.timestamps_s is not None:
                np.testing.assert_array_equal(series.timestamps[:], seg.times.timestamps_s)
            else:
                assert series.rate == (seg.times.rate_hz or 12.5)
