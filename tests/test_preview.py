"""`nwbconvert preview`: the report of the real DANDI file, the real ndx-pose 0.1 file and files nwbconvert writes
(SpikeGLX, suite2p, CaImAn, Zarr), what it reads of a large file, and refusals in plain words. Oracles: h5py and
pynwb reading the same files, PyAV decoding the video, `nwbconvert validate --json`, the PNG bytes themselves."""

from __future__ import annotations

import base64
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import IO, Any

import h5py
import numpy as np
import pytest

from cli_runner import nwbconvert
from conftest import COMPLETE_METADATA, SAMPLE_DATA, realdata

DANDI = "nwb/sub_anm00239123_ses_20170627T093549_ecephys_and_ogen.nwb"
POSE = "behavior/dlc/dlc2nwb/m3v1mp4DLC_resnet50_openfieldAug20shuffle1_30000.nwb"
SETS = [a for kv in COMPLETE_METADATA for a in ("--set", kv)]
OPHYS = [
    a
    for kv in (
        "ophys.indicator=GCaMP6f",
        "ophys.location=VISp",
        "ophys.excitation_lambda=920",
        "ophys.emission_lambda=510",
    )
    for a in ("--set", kv)
]


class Page(HTMLParser):
    """Sections (id -> text), images (alt -> PNG bytes) and every tag of a report page."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.sections: dict[str, str] = {}
        self.images: dict[str, bytes] = {}
        self.tags: set[str] = set()
        self.links: list[str] = []
        self._current: str | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags.add(tag)
        if tag == "section":
            self._current = found["id"] or ""
            self.sections[self._current] = ""
        if tag == "img":
            src = found["src"] or ""
            assert src.startswith("data:image/png;base64,"), src[:40]
            self.images[found["alt"] or ""] = base64.b64decode(src.split(",", 1)[1])
        self.links += [v for k, v in attrs if k in ("href", "src") and v and not v.startswith(("#", "data:"))]

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self.sections[self._current] += data + "\n"


def report(nwb: Path, out: Path, *extra: str) -> Page:
    done = nwbconvert("preview", nwb, "-o", out, *extra)
    assert done.returncode == 0, done.stderr
    return Page(out.read_text(encoding="utf-8"))


def is_picture(png: bytes) -> bool:
    """A PNG that decodes (matplotlib's reader) to more than one colour."""
    from matplotlib.image import imread

    pixels = imread(io.BytesIO(png), format="png")
    return (
        pixels.shape[0] > 100
        and pixels.shape[1] > 100
        and len(np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0)) > 1
    )


def convert(source: Path, out: Path, *extra: str) -> Path:
    done = nwbconvert("convert", source, "-o", out, *SETS, "--timezone", "UTC", *extra)
    assert done.returncode == 0, done.stderr
    return out


def test_real_dandi_file(tmp_path: Path) -> None:
    nwb = realdata(DANDI)
    page = report(nwb, tmp_path / "r.html", "--png", str(tmp_path / "figs"))
    assert set(page.sections) == {"session", "subject", "devices", "validation", "ecephys", "units", "intervals"}
    assert page.links == [] and "script" not in page.tags  # self-contained, no JavaScript
    with h5py.File(nwb, "r") as f:
        identifier = f["identifier"][()].decode()
        subject = f["general/subject/subject_id"][()].decode()
        n_spikes = len(f["units/spike_times"])
        n_trials = len(f["intervals/trials/id"])
        n_electrodes = len(f["general/extracellular_ephys/electrodes/id"])
    assert identifier in page.sections["session"] and subject in page.sections["subject"]
    assert {"ADunit", "laser"} <= set(page.sections["devices"].split())
    assert f"4 units, {n_spikes} spikes" in page.sections["units"]
    assert re.search(rf"trials\s*TimeIntervals\s*{n_trials}", page.sections["intervals"])
    assert f"{n_electrodes} electrodes at x/y" in page.sections["ecephys"] and "Thalamus" in page.sections["ecephys"]
    # the validation findings are those of `nwbconvert validate`
    validated = nwbconvert("validate", nwb, "--json")
    findings = [f for r in json.loads(validated.stdout)["result"]["files"] for f in r["findings"]]
    assert findings and all(f["check_id"] in page.sections["validation"] for f in findings)
    errors = sum(f["severity"] == "error" for f in findings)
    assert f"Validation ({errors} error" in page.sections["validation"]
    # --png: every embedded figure, byte for byte, and each one a picture
    pngs = {p.name: p.read_bytes() for p in (tmp_path / "figs").iterdir()}
    assert set(pngs) == {"probe_map.png", "units_raster.png", "units_firing_rates.png", "events_timeline.png"}
    assert sorted(pngs.values()) == sorted(page.images.values())
    assert all(is_picture(png) for png in pngs.values())


def test_real_ndx_pose_file_over_its_video(tmp_path: Path) -> None:
    import av

    nwb = realdata(POSE)
    page = report(nwb, tmp_path / "pose.html", "--no-validate")
    assert {"session", "subject", "validation", "pose"} <= set(page.sections)
    text = page.sections["pose"]
    found = re.search(r"at sample (\d+) \([\d.]+ s\), the skeleton has no edges; frame (\d+) of m3v1mp4\.mp4", text)
    assert found and found[1] == found[2], text  # the sibling video m3v1mp4.mp4, frame for pose sample
    with h5py.File(nwb, "r") as f:
        group = f["processing/behavior/PoseEstimation"]
        names = sorted(k for k in group if isinstance(group[k], h5py.Group) and "data" in group[k])
        xy = np.stack([group[f"{k}/data"][int(found[1])] for k in names])
    assert np.isfinite(xy).all() and all(name in text for name in names)  # every keypoint found at that frame
    with av.open(str(nwb.parent / "m3v1mp4.mp4")) as video:
        assert int(found[2]) < video.streams.video[0].frames
    assert all(is_picture(png) for png in page.images.values()) and len(page.images) == 2


def test_converted_spikeglx_beside_the_file_and_zarr(tmp_path: Path) -> None:
    nwb = convert(SAMPLE_DATA / "spikeglx" / "Sample_g0", tmp_path / "sub-m1_ses-1_ecephys.nwb")
    done = nwbconvert("preview", nwb, "--no-validate")
    assert done.returncode == 0, done.stderr
    written = tmp_path / "sub-m1_ses-1_ecephys.preview.html"
    assert str(written) in done.stdout
    page = Page(written.read_text())
    record = json.loads(h5py.File(nwb, "r")["general/source_script"][()])
    assert (
        record["reader"] in page.sections["provenance"]
        and record["files"][0]["checksum"] in page.sections["provenance"]
    )
    with h5py.File(nwb, "r") as f:
        series = [k for k in f["acquisition"] if f[f"acquisition/{k}"].attrs["neurodata_type"] == "ElectricalSeries"]
    assert series and all(f"Traces: {name}" in page.images for name in series)
    assert "Probe map" in page.images and [p for p in tmp_path.iterdir() if ".nwbconvert-partial" in p.name] == []
    store = convert(SAMPLE_DATA / "spikeglx" / "Sample_g0", tmp_path / "z.nwb.zarr", "--backend", "zarr")
    zpage = report(store, tmp_path / "z.html", "--no-validate")
    assert {"ecephys", "provenance"} <= set(zpage.sections)
    assert {alt for alt in zpage.images} == {alt for alt in page.images}


@pytest.mark.parametrize(
    "source, kind, rois, suffix",
    [
        ("ophys/suite2p/fissa_example", "pixel masks", 23, ".nwb"),
        ("ophys/caiman/ideas_toolbox/sample_cellset_msr_1.hdf5", "image masks", 5, ".nwb"),
        ("ophys/suite2p/fissa_example", "pixel masks", 23, ".nwb.zarr"),
    ],
)
def test_converted_segmentations_outline_every_roi(
    tmp_path: Path, source: str, kind: str, rois: int, suffix: str
) -> None:
    from hdmf_zarr.nwb import NWBZarrIO
    from pynwb import NWBHDF5IO

    path = realdata(source)
    backend = ["--backend", "zarr"] if suffix == ".nwb.zarr" else []
    nwb = convert(path / "suite2p" if path.is_dir() else path, tmp_path / f"o{suffix}", *OPHYS, *backend)
    with (NWBZarrIO if backend else NWBHDF5IO)(str(nwb), "r") as read:
        table = read.read().processing["ophys"]["ImageSegmentation"]["PlaneSegmentationPlane0"]
        assert len(table) == rois
    page = report(nwb, tmp_path / "o.html", "--no-validate")
    assert f"{rois} of {rois} ROIs outlined ({kind})" in page.sections["ophys"]
    assert {"ROIs: PlaneSegmentationPlane0"} <= set(page.images)
    assert any(alt.startswith("ROI traces") for alt in page.images)


class Counting(io.RawIOBase):
    """A file whose reads are counted (what h5py reads through it)."""

    def __init__(self, path: Path) -> None:
        self.file: IO[bytes] = path.open("rb")
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.file.seek(offset, whence)

    def tell(self) -> int:
        return self.file.tell()

    def readinto(self, buffer: Any) -> int:
        n = self.file.readinto(buffer)
        self.bytes_read += n or 0
        return n or 0


def test_reads_only_the_chunks_it_draws(tmp_path: Path) -> None:
    """64 channels x 12 s (5 chunks of rows): the two windows drawn read the first chunk and one more, and little
    else (HDF5's own chunk index is the oracle)."""
    from nwbconvert.preview.report import PreviewOptions, build
    from nwbconvert.synthetic.spikeglx import write_spikeglx_run

    run = write_spikeglx_run(tmp_path / "src", seconds=12.0, n_channels=64)
    nwb = convert(run.folder, tmp_path / "big.nwb", "--stream", "imec0.ap", "--no-validate")
    with h5py.File(nwb, "r") as f:
        data = f["acquisition/ElectricalSeriesImec0AP/data"]
        per_row_chunk: dict[int, int] = {}
        for i in range(data.id.get_num_chunks()):
            info = data.id.get_chunk_info(i)
            key = info.chunk_offset[0] // data.chunks[0]
            per_row_chunk[key] = per_row_chunk.get(key, 0) + info.size
    assert len(per_row_chunk) >= 4
    counting = Counting(nwb)
    built = build(nwb, PreviewOptions(validate=False), fileobj=counting)
    ecephys = built.section("ecephys")
    assert ecephys is not None and [f.title for f in ecephys.figures] == [
        "Probe map",
        "Traces: ElectricalSeriesImec0AP",
    ]
    first, others = per_row_chunk.pop(0), per_row_chunk.values()
    assert first < counting.bytes_read <= first + max(others) + 4 * 2**20, (counting.bytes_read, first, others)
    assert counting.bytes_read < 0.5 * nwb.stat().st_size


def test_unreadable_files_are_refused_in_plain_words(tmp_path: Path) -> None:
    text = tmp_path / "notes.nwb"
    text.write_text("not an NWB file")
    done = nwbconvert("preview", text)
    assert done.returncode == 3 and "is not an NWB file" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "notes.preview.html").exists()
    cut = tmp_path / "cut.nwb"
    cut.write_bytes(realdata(DANDI).read_bytes()[:200_000])
    done = nwbconvert("preview", cut, "-o", tmp_path / "cut.html")
    assert (
        done.returncode == 3
        and "could not be read as NWB" in done.stderr
        and "Error" not in done.stderr.split(":", 2)[-1][:0]
    )
    assert "Traceback" not in done.stderr and not (tmp_path / "cut.html").exists()
    missing = nwbconvert("preview", tmp_path / "absent.nwb")
    assert missing.returncode == 3 and "no such file" in missing.stderr
    folder = nwbconvert("preview", realdata(DANDI), "-o", tmp_path)
    assert folder.returncode == 5 and "is a folder" in folder.stderr


def test_batch_preview_writes_a_report_per_session_and_an_index(tmp_path: Path) -> None:
    from test_batch_run import make_study

    study = make_study(tmp_path / "study", subjects=1, sessions=2, seconds=0.5)
    out = tmp_path / "out"
    done = nwbconvert("batch", "study.yaml", "-o", out, "--preview", "--compression", "none", "-q", cwd=study)
    assert done.returncode == 0, done.stderr
    index = out / "index.preview.html"
    assert f"Previews: {index}" in done.stderr.replace("\n", "")
    nwbs = sorted(out.rglob("*.nwb"))
    assert len(nwbs) == 2
    page = Page(index.read_text())
    assert sorted(page.links) == sorted(p.with_name(p.stem + ".preview.html").relative_to(out).as_posix() for p in nwbs)
    for link in page.links:
        session = Page((out / link).read_text())
        assert {"session", "provenance", "validation", "ecephys"} <= set(session.sections)
        assert all(is_picture(png) for png in session.images.values())


def _pynwb_file(path: Path) -> None:
    """A file written by pynwb alone: a pose on an ImageSeries held in the file (skeleton with an edge), position
    and speed, a two-photon movie with no segmentation, trials and epochs."""
    import datetime as dt

    from ndx_pose import PoseEstimation, PoseEstimationSeries, Skeleton, Skeletons
    from pynwb import NWBHDF5IO, NWBFile, TimeSeries
    from pynwb.behavior import BehavioralTimeSeries, Position
    from pynwb.file import Subject
    from pynwb.image import ImageSeries
    from pynwb.ophys import OpticalChannel, TwoPhotonSeries

    nwb = NWBFile("pynwb-made", "id-1", dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc), session_id="s1")
    nwb.subject = Subject(subject_id="a1", species="Mus musculus", sex="M", age="P60D")
    frames = np.zeros((10, 40, 30), dtype="uint8")  # (frame, x, y)
    frames[:, 10:20, 5:12] = 200
    video = ImageSeries(name="BehaviorVideo", data=frames, unit="n.a.", rate=10.0)
    nwb.add_acquisition(video)
    skeleton = Skeleton(name="mouse", nodes=["nose", "tail"], edges=np.array([[0, 1]], dtype="uint8"))
    series = [
        PoseEstimationSeries(
            name=name,
            data=np.tile([x, 8.0], (10, 1)),
            confidence=np.ones(10),
            unit="pixels",
            reference_frame="0,0",
            rate=10.0,
        )
        for name, x in (("nose", 12.0), ("tail", 18.0))
    ]
    pose = PoseEstimation(name="Pose", pose_estimation_series=series, skeleton=skeleton, source_video=video)
    behavior = nwb.create_processing_module("behavior", "behavior")
    behavior.add(Skeletons(skeletons=[skeleton]))
    behavior.add(pose)
    t = np.arange(1000) / 100.0
    position = Position(name="Position")
    position.create_spatial_series(
        name="position", data=np.c_[np.cos(t), np.sin(t)], reference_frame="arena", rate=100.0
    )
    behavior.add(position)
    behavior.add(BehavioralTimeSeries(time_series=[TimeSeries(name="speed", data=t % 3, unit="m/s", rate=100.0)]))
    device = nwb.create_device("scope")
    plane = nwb.create_imaging_plane(
        name="plane",
        optical_channel=OpticalChannel(name="green", description="green", emission_lambda=510.0),
        description="plane",
        device=device,
        excitation_lambda=920.0,
        imaging_rate=30.0,
        indicator="GCaMP6f",
        location="VISp",
    )
    movie = np.random.default_rng(0).integers(0, 1000, (20, 32, 32)).astype("uint16")
    nwb.add_acquisition(TwoPhotonSeries(name="TwoPhoton", data=movie, imaging_plane=plane, rate=30.0, unit="n.a."))
    for start in range(5):
        nwb.add_trial(start_time=float(start), stop_time=start + 0.5)
    nwb.add_epoch(start_time=0.0, stop_time=5.0)
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)


def test_a_file_written_by_pynwb(tmp_path: Path) -> None:
    nwb = tmp_path / "made.nwb"
    _pynwb_file(nwb)
    page = report(nwb, tmp_path / "made.html", "--no-validate")
    assert {"session", "subject", "devices", "ophys", "pose", "behavior", "intervals"} <= set(page.sections)
    assert "ecephys" not in page.sections and "units" not in page.sections
    assert "2 keypoints (nose, tail) at sample 5 (0.500 s), 1 skeleton edges; frame 5 of BehaviorVideo" in (
        page.sections["pose"].replace("\n", "")
    )
    assert {"Series: position", "Series: speed", "Mean frame: TwoPhoton", "Pose: Pose"} <= set(page.images)
    assert re.search(r"trials\s*TimeIntervals\s*5", page.sections["intervals"])
    assert re.search(r"epochs\s*TimeIntervals\s*1", page.sections["intervals"])
    assert all(is_picture(png) for png in page.images.values())


def test_pose_over_an_external_video_by_time(tmp_path: Path) -> None:
    """An ImageSeries naming an external file (relative to the NWB file) at 30 fps: the pose sample at 10 s is
    drawn over frame 300 of that file, decoded with PyAV."""
    import datetime as dt

    from ndx_pose import PoseEstimation, PoseEstimationSeries, Skeleton, Skeletons
    from pynwb import NWBHDF5IO, NWBFile
    from pynwb.image import ImageSeries

    (tmp_path / "cam.mp4").symlink_to(realdata("behavior/dlc/dlc2nwb/m3v1mp4.mp4"))
    nwb = NWBFile("external video", "id-2", dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc))
    video = ImageSeries(
        name="Cam", external_file=["cam.mp4"], starting_frame=[0], format="external", rate=30.0, num_samples=2330
    )
    nwb.add_acquisition(video)
    skeleton = Skeleton(name="s", nodes=["snout"], edges=np.zeros((0, 2), dtype="uint8"))
    snout = PoseEstimationSeries(
        name="snout", data=np.full((900, 2), 100.0), confidence=np.ones(900), reference_frame="0,0", rate=30.0
    )
    module = nwb.create_processing_module("behavior", "behavior")
    module.add(Skeletons(skeletons=[skeleton]))
    module.add(PoseEstimation(name="Pose", pose_estimation_series=[snout], skeleton=skeleton, source_video=video))
    path = tmp_path / "ext.nwb"
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    page = report(path, tmp_path / "ext.html", "--no-validate")
    assert "at sample 300 (10.000 s), the skeleton has no edges; frame 300 of cam.mp4" in page.sections["pose"]
