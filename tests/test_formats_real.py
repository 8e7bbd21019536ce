"""The readers marked "real" (and "real headers"): each is detected on its real file of ../shared/realdata and reads
the stream (or units, frames, ROIs) that ../shared/realdata/MANIFEST.md reports."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conftest import realdata


@dataclass(frozen=True)
class RealFile:
    """A real recording under ../shared/realdata and one stream as ../shared/realdata/MANIFEST.md reports it (or,
    for a source of units alone, its number of units)."""

    path: str
    rate_hz: float = 0.0
    n_channels: int = 0
    units: int = 0  # a units-only source: no stream, this many units
    frames: int = 0  # an imaging movie: this many frames in its first series
    rois: int = 0  # a segmentation: this many ROIs in its first plane
    trials: int = 0  # a behavior source: this many rows in its trials table
    pose_frames: int = 0  # a pose estimation: this many frames in its first pose
    labeled_frames: int = 0  # pose training labels: this many labeled frames
    video_frames: int = 0  # a behavior video: this many frames


# exactly the readers marked "real": the real recording of each, detected and read below
REAL_FILES = {
    "openephys-binary": RealFile("openephys_binary/aind_np_multiexp", 30000.0, 384),  # ProbeB
    "openephys-legacy": RealFile("openephys_legacy/v0.6.7_OpenEphys/Record Node 101", 40000.0, 16),
    "intan": RealFile("intan/IntanToNWB/example_intan_file.rhd", 20000.0, 2),  # amplifier
    "blackrock": RealFile("blackrock/ndi_matlab/testData.ns2", 1000.0, 33),
    "neuralynx": RealFile("neuralynx/mne_testing_2kHz", 2000.0, 5),
    "plexon": RealFile("plexon/pyramid_plexon_sdk/16sp_lfp_with_2coords.plx", 1000.0, 16),
    "spike2": RealFile("spike2/spike2py/motor_units.smr", 25000.0, 1),  # EMG
    "brainvision": RealFile("brainvision/mne/test.vhdr", 1000.0, 32),
    "edf": RealFile("edf/mne/test.edf", 512.0, 139),
    "mcs-h5": RealFile("mcs_h5/2014-02-27T08-30-03W8SpikeCutoutsAndTimestampsAndRawData.h5", 20000.0, 8),
    "axon": RealFile("abf/16d22006_kim_gapfree.abf", 10000.0, 2),
    "sorting-folder": RealFile("phy/changlab_ms4_export", units=10),
    "scanimage": RealFile("ophys/scanimage/jefferis_si38/Blank-IPA_1s_16r_032.tif", 8.138, frames=30),
    "tiff": RealFile("ophys/tiff/ideas_toolbox/movie_part2_108x123x63.tiff", frames=63),
    "inscopix": RealFile("ophys/inscopix/ideas_toolbox/movie_part2_108x123x63.isxd", 10.0, frames=63),
    "suite2p": RealFile("ophys/suite2p/fissa_example/suite2p", 1.0, rois=23),
    "caiman": RealFile("ophys/caiman/ideas_toolbox/sample_cellset_msr_1.hdf5", 20.0152, rois=5),
    "behavior-table": RealFile("behavior/ibl/photometry_v5/_ibl_trials.table.pqt", trials=617),
    "ibl-alf": RealFile("behavior/ibl/photometry_v5", trials=617),
    "deeplabcut": RealFile(
        "behavior/dlc/dlc2nwb/m3v1mp4DLC_resnet50_openfieldAug20shuffle1_30000.h5", pose_frames=2330
    ),
    "lightning-pose": RealFile("behavior/lightning_pose/mirror_mouse/CollectedData.csv", labeled_frames=90),
    "sleap": RealFile("behavior/sleap/anipose_minimal/back/minimal_back_proofread.slp", pose_frames=120),
    "video": RealFile("behavior/dlc/dlc2nwb/m3v1mp4.mp4", 30.0, video_frames=2330),
}
# readers marked "real-headers": real .meta files, samples generated around them
REAL_HEADERS = {"spikeglx": "spikeglx_meta/np1_3B_g0"}


def test_real_files_name_exactly_the_readers_marked_real() -> None:
    from nwbconvert.readers.registry import readers

    marks = {name: r.verified for name, r in readers().items()}
    assert set(REAL_FILES) == {name for name, mark in marks.items() if mark == "real"}
    assert set(REAL_HEADERS) == {name for name, mark in marks.items() if mark == "real-headers"}


def _streams(session: Any) -> set[tuple[float, int]]:
    """(rate rounded to 0.1 Hz, distinct channels) per stream of a session; and every recording reads samples."""
    channels: dict[tuple[str, float], set[str]] = {}
    for rec in session.recordings:
        channels.setdefault((rec.stream_id, round(rec.sampling_rate_hz, 1)), set()).update(c.id for c in rec.channels)
        for segment in rec.segments:
            first = segment.traces.read(0, 4)
            assert first.shape == (min(4, segment.traces.shape[0]), len(rec.channels)), rec.name
    return {(rate, len(ids)) for (_, rate), ids in channels.items()}


@pytest.mark.parametrize("reader", sorted(REAL_FILES))
def test_real_readers_detect_and_read_their_real_file(reader: str) -> None:
    from nwbconvert.readers.base import ReadOptions
    from nwbconvert.readers.registry import detect

    case = REAL_FILES[reader]
    path = realdata(case.path)
    found = detect(path)
    assert found.name == reader and found.verified == "real"
    session = found.read(path, ReadOptions(stub_seconds=None if case.frames or case.rois else 0.01))
    if case.frames:
        movie = session.imaging.movies[0]
        assert movie.n_frames == case.frames and movie.frames.read(0, 2).shape == (2, *movie.frame_shape)
        if case.rate_hz:
            assert movie.times.rate_hz == pytest.approx(case.rate_hz, rel=1e-4)
        else:  # the file gives no rate: ophys.rate must
            assert movie.times.rate_hz is None and movie.times.timestamps_s is None
    elif case.rois:
        segmentation = session.imaging.segmentations[0]
        assert segmentation.n_rois == case.rois
        assert session.imaging.planes[0].rate_hz == pytest.approx(case.rate_hz, rel=1e-4)
    elif case.units:
        assert session.recordings == () and [len(s.units) for s in session.sortings] == [case.units]
    elif case.trials:
        assert [len(t) for t in session.behavior.tables if t.name == "trials"] == [case.trials]
    elif case.video_frames:
        (video,) = session.behavior.videos
        assert video.n_frames == case.video_frames and video.times.rate_hz == pytest.approx(case.rate_hz, rel=1e-4)
    elif case.pose_frames or case.labeled_frames:
        poses, training = session.behavior.poses, session.behavior.training
        assert [p.n_frames for p in poses[:1]] == ([case.pose_frames] if case.pose_frames else [])
        assert sum(len(t.frames) for t in training) == case.labeled_frames
    else:
        assert (case.rate_hz, case.n_channels) in _streams(session)


@pytest.mark.parametrize("reader", sorted(REAL_HEADERS))
def test_real_header_readers_detect_and_read_a_run_around_real_headers(reader: str, tmp_path: Path) -> None:
    from nwbconvert.readers.base import ReadOptions
    from nwbconvert.readers.registry import detect
    from nwbconvert.synthetic.spikeglx import write_spikeglx_from_meta

    headers = sorted(realdata(REAL_HEADERS[reader]).glob("*.meta"))
    run = write_spikeglx_from_meta(tmp_path, headers, seconds=0.2)
    found = detect(run.folder)
    assert found.name == reader and found.verified == "real-headers"
    streams = _streams(found.read(run.folder, ReadOptions()))
    for meta in headers:  # each stream as its real header declares it: its saved channels (a probe's sync word apart)
        fields = dict(line.split("=", 1) for line in meta.read_text().splitlines() if "=" in line)
        rate = round(float(fields.get("imSampRate") or fields["niSampRate"]), 1)
        neural = int(fields["nSavedChans"]) - (1 if ".imec" in meta.name else 0)
        assert (rate, neural) in streams, meta.name
