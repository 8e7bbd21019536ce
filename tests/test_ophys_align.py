"""`align:` in a session config: a movie (and a segmentation) timed by the frame-trigger TTL line of a SpikeGLX
NI-DAQ recorded in the same session. Oracle: the rising edges of the line read straight from the NI-DAQ .bin with
numpy (sample index where the bit goes 0 -> 1, plus the .meta's firstSample, over its niSampRate)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile

from cli_runner import nwbconvert
from conftest import COMPLETE_METADATA, realdata
from nwbconvert.align import Alignment, apply, frame_times
from nwbconvert.config import config_job, json_schema, load_config
from nwbconvert.errors import SourceError, UsageError
from nwbconvert.options import ConvertOptions
from nwbconvert.pipeline import read_sources
from nwbconvert.synthetic.ophys_suite2p import write_suite2p_folder
from nwbconvert.synthetic.spikeglx import write_spikeglx_run

OPHYS = {"ophys.indicator": "GCaMP6f", "ophys.location": "VISp", "ophys.excitation_lambda": "920"}
SET = {**dict(kv.split("=", 1) for kv in COMPLETE_METADATA), **OPHYS, "ophys.emission_lambda": "510"}
SERIES = "TwoPhotonSeriesPlane0Channel0Scope"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3 s SpikeGLX run whose NI-DAQ line XD1 pulses every 0.25 s (11 rising edges, 12 falling)."""
    return write_spikeglx_run(tmp_path_factory.mktemp("align"), seconds=3.0, n_channels=4).folder


def rising_edges(run: Path, line: int, rising: bool = True) -> np.ndarray:
    """Times of the rising (or falling) edges of digital line `line` of the run's NI-DAQ, from its .bin and .meta."""
    (bin_path,) = run.glob("*.nidq.bin")
    meta = dict(row.split("=", 1) for row in bin_path.with_suffix(".meta").read_text().splitlines() if "=" in row)
    n_channels, rate, first = int(meta["nSavedChans"]), float(meta["niSampRate"]), int(meta["firstSample"])
    word = np.fromfile(bin_path, dtype="<i2").reshape(-1, n_channels)[:, -1].view(np.uint16)
    bit = (word >> line) & 1
    after = 1 if rising else 0
    return (np.flatnonzero((bit[1:] == after) & (bit[:-1] == 1 - after)) + 1 + first) / rate


def write_movie(path: Path, n_frames: int) -> np.ndarray:
    frames = np.arange(n_frames * 16 * 12, dtype=np.uint16).reshape(n_frames, 16, 12)
    tifffile.imwrite(path, frames, photometric="minisblack")  # 3 or 4 frames would be taken for RGB(A)
    return frames


def write_config(folder: Path, run: Path, movie: Path, align: list[dict[str, str]], extra: str = "") -> Path:
    config = {
        "sources": [
            {"path": str(run), "streams": ["nidq"], "name": "Nidq"},
            {"path": str(movie), "name": "Scope"},
        ],
        "timezone": "Europe/Berlin",
        "align": align,
        "set": SET,
    }
    path = folder / "session.yaml"
    path.write_text(json.dumps(config) + extra)  # JSON is YAML
    return path


RISING = {"target": "Scope", "channel": "EventsXD1Nidq", "label": "XD1 ON"}


def test_movie_and_segmentation_take_the_rising_edges(run: Path, tmp_path: Path) -> None:
    """Read through the pipeline: the movie's and the suite2p planes' frame times are XD1's rising edges on the
    merged clock; the TIFF and suite2p sources, whose headers give no start, need no start_time."""
    edges = rising_edges(run, 1)
    assert len(edges) == 11
    write_movie(tmp_path / "movie.tif", 11)
    write_suite2p_folder(tmp_path, n_planes=1, two_channels=False, n_frames=11)
    config = write_config(tmp_path, run, tmp_path / "movie.tif", [RISING])
    data = json.loads(config.read_text())
    data["sources"].append({"path": str(tmp_path / "suite2p"), "name": "Rois"})
    data["align"].append({"target": "Rois", "channel": "EventsXD1Nidq", "label": "XD1 ON"})
    config.write_text(json.dumps(data))
    job = config_job(config, ConvertOptions(), tmp_path / "out.nwb")
    assert job.alignments == (
        Alignment("Scope", "EventsXD1Nidq", "XD1 ON"),
        Alignment("Rois", "EventsXD1Nidq", "XD1 ON"),
    )
    session = read_sources(job.sources, "Europe/Berlin", job.alignments).session
    (movie,) = session.imaging.movies
    assert movie.name == SERIES
    np.testing.assert_allclose(movie.times.timestamps_s, edges, rtol=0, atol=1e-9)
    assert movie.times.t_start_s == pytest.approx(edges[0])
    (segmentation,) = session.imaging.segmentations
    assert segmentation.name == "PlaneSegmentationPlane0Rois"
    np.testing.assert_allclose(segmentation.times.timestamps_s, edges, rtol=0, atol=1e-9)


def test_series_target_and_every_event(run: Path, tmp_path: Path) -> None:
    """A series named as the target (its source's only one: no start_time needed); without `label` every event of
    the channel (both edges, in time order)."""
    write_movie(tmp_path / "movie.tif", 23)
    config = write_config(tmp_path, run, tmp_path / "movie.tif", [{"target": SERIES, "channel": "EventsXD1Nidq"}])
    job = config_job(config, ConvertOptions(), None)
    (movie,) = read_sources(job.sources, "Europe/Berlin", job.alignments).session.imaging.movies
    stamps = movie.times.timestamps_s
    assert stamps is not None and len(stamps) == 23
    np.testing.assert_allclose(stamps[1::2], rising_edges(run, 1), rtol=0, atol=1e-9)  # XD1 falls first (0.125 s)
    np.testing.assert_allclose(stamps[::2], rising_edges(run, 1, rising=False), rtol=0, atol=1e-9)


def test_unknown_channel_label_or_target_lists_what_exists(run: Path, tmp_path: Path) -> None:
    write_movie(tmp_path / "movie.tif", 11)
    job = config_job(write_config(tmp_path, run, tmp_path / "movie.tif", []), ConvertOptions(), None)

    def aligned(*alignments: Alignment) -> object:
        return read_sources(job.sources, "Europe/Berlin", alignments)

    with pytest.raises(UsageError, match=r"no event channel 'EventsXD9'.*EventsXD1Nidq \(23 events\)"):
        aligned(Alignment("Scope", "EventsXD9"))
    with pytest.raises(UsageError, match=r"no event labelled 'XD1 UP'.*'XD1 OFF' \(12\), 'XD1 ON' \(11\)"):
        aligned(Alignment("Scope", "EventsXD1Nidq", "XD1 UP"))
    with pytest.raises(UsageError, match=rf"'Camera' is neither.*Named sources: Nidq, Scope.*: {SERIES}\."):
        aligned(Alignment("Camera", "EventsXD1Nidq", "XD1 ON"))  # before the merge asks the movie for a start
    session = aligned(Alignment("Scope", "EventsXD1Nidq", "XD1 ON")).session  # type: ignore[attr-defined]
    twice = [Alignment("Scope", "EventsXD1Nidq", "XD1 ON"), Alignment(SERIES, "EventsXD1Nidq", "XD1 ON")]
    with pytest.raises(UsageError, match="timed by two entries"):
        apply(session, twice, {"Scope": (SERIES,)})


def test_counts_that_differ_are_refused_unless_stubbed() -> None:
    pulses = np.arange(5, dtype="float64")
    alignment = Alignment("Scope", "EventsXD1Nidq", "XD1 ON")
    with pytest.raises(SourceError, match=r"S has 6 frames but channel EventsXD1Nidq has 5 events labelled 'XD1 ON'"):
        frame_times(pulses, 6, "S", alignment)
    with pytest.raises(SourceError, match="has 4 frames but"):
        frame_times(pulses, 4, "S", alignment)
    stubbed = frame_times(pulses, 4, "S", alignment, stubbed=True)  # --stub shortened the movie: its first pulses
    assert stubbed.timestamps_s is not None and stubbed.timestamps_s.tolist() == [0.0, 1.0, 2.0, 3.0]


def test_convert_writes_the_ttl_times(run: Path, tmp_path: Path) -> None:
    """End to end through the CLI: the TwoPhotonSeries' timestamps are the rising edges of XD1."""
    from pynwb import NWBHDF5IO

    frames = write_movie(tmp_path / "movie.tif", 11)
    config = write_config(tmp_path, run, tmp_path / "movie.tif", [RISING])
    out = tmp_path / "out.nwb"
    done = nwbconvert("convert", "--config", config, "-o", out)
    assert done.returncode == 0, done.stderr
    with NWBHDF5IO(str(out), "r") as io:
        series = io.read().acquisition[SERIES]
        np.testing.assert_allclose(series.timestamps[:], rising_edges(run, 1), rtol=0, atol=1e-9)
        assert series.rate is None
        np.testing.assert_array_equal(series.data[:], frames.transpose(0, 2, 1))
        assert series.description.endswith(
            "Frame times: the events labelled 'XD1 ON' of EventsXD1Nidq (one per frame)."
        )


def test_mismatched_counts_exit_3_with_both_counts(run: Path, tmp_path: Path) -> None:
    write_movie(tmp_path / "movie.tif", 12)
    config = write_config(tmp_path, run, tmp_path / "movie.tif", [RISING])
    out = tmp_path / "out.nwb"
    done = nwbconvert("convert", "--config", config, "-o", out)
    assert done.returncode == 3, done.stderr
    message = " ".join(done.stderr.split())
    assert f"{SERIES} has 12 frames but channel EventsXD1Nidq has 11 events labelled 'XD1 ON'" in message
    assert "Traceback" not in done.stderr
    assert not out.exists() and list(tmp_path.glob("out*")) == []


def test_config_check_and_schema_know_align(run: Path, tmp_path: Path) -> None:
    write_movie(tmp_path / "movie.tif", 11)
    config = write_config(tmp_path, run, tmp_path / "movie.tif", [RISING])
    assert load_config(config).align[0].label == "XD1 ON"
    config.write_text(config.read_text().replace('"label"', '"lable"'))
    with pytest.raises(UsageError, match=r"align\[0\]\.lable: not a known key \(did you mean 'label'\?\)"):
        load_config(config)
    schema = json_schema()
    assert schema["properties"]["align"]["type"] == "array"
    assert set(schema["$defs"]["AlignConfig"]["properties"]) == {"target", "channel", "label", "block"}


def test_open_ephys_ni_daq_line_of_one_block(tmp_path: Path) -> None:
    """A real Open Ephys recording (3 experiments, each on its own clock): a movie timed by NI-DAQ digital line 2
    of the second block. Oracle: neo's event times of that channel, block and label."""
    from neo.rawio import OpenEphysBinaryRawIO

    folder = realdata("openephys_binary/aind_np_multiexp")
    rawio = OpenEphysBinaryRawIO(str(folder))
    rawio.parse_header()
    index = next(i for i, row in enumerate(rawio.header["event_channels"]) if "Digital Input Line" in row["name"])
    stamps, _, labels = rawio.get_event_timestamps(block_index=1, seg_index=0, event_channel_index=index)
    expected = np.sort(rawio.rescale_event_timestamp(stamps, dtype="float64", event_channel_index=index)[labels == "2"])
    write_movie(tmp_path / "movie.tif", len(expected))
    channel = "EventsPXIe6341DigitalInputLineEphys"
    config = {
        "sources": [{"path": str(folder), "name": "Ephys"}, {"path": str(tmp_path / "movie.tif"), "name": "Scope"}],
        "align": [{"target": "Scope", "channel": channel, "label": "2", "block": 2}],
    }
    path = tmp_path / "session.yaml"
    path.write_text(json.dumps(config))
    job = config_job(path, ConvertOptions(), None)
    (movie,) = read_sources(job.sources, None, job.alignments).session.imaging.movies
    np.testing.assert_allclose(movie.times.timestamps_s, expected, rtol=0, atol=1e-9)
    assert f"the events labelled '2' in block 2 of {channel}" in movie.description
    with pytest.raises(UsageError, match=r"come from blocks 1, 2, 3, each on its own clock; give `block:`"):
        read_sources(job.sources, None, [Alignment("Scope", channel, "2")])


def test_merge_places_imaging_sources_on_the_session_clock(run: Path, tmp_path: Path) -> None:
    """Without `align`, a movie source keeps its own clock, shifted by its start; two movie sources need names."""
    write_movie(tmp_path / "a.tif", 3)
    write_movie(tmp_path / "b.tif", 4)
    sources = [
        {"path": str(run), "streams": ["nidq"]},
        {"path": str(tmp_path / "a.tif"), "name": "Left", "start_time": "2026-01-15T10:00:05+01:00"},
        {"path": str(tmp_path / "b.tif"), "name": "Right", "start_time": "2026-01-15T10:00:07.5+01:00"},
    ]
    path = tmp_path / "session.yaml"
    path.write_text(json.dumps({"sources": sources, "timezone": "Europe/Berlin"}))
    job = config_job(path, ConvertOptions(), None)
    imaging = read_sources(job.sources, "Europe/Berlin").session.imaging
    assert [(m.name, m.plane, m.n_frames, m.times.t_start_s) for m in imaging.movies] == [
        ("TwoPhotonSeriesPlane0Channel0Left", "Plane0Left", 3, 5.0),
        ("TwoPhotonSeriesPlane0Channel0Right", "Plane0Right", 4, 7.5),
    ]
    assert [(p.name, p.device) for p in imaging.planes] == [
        ("Plane0Left", "MicroscopeLeft"),
        ("Plane0Right", "MicroscopeRight"),
    ]
    for source in sources[1:]:
        del source["name"]
    path.write_text(json.dumps({"sources": sources, "timezone": "Europe/Berlin"}))
    job = config_job(path, ConvertOptions(), None)
    with pytest.raises(UsageError, match=r"series TwoPhotonSeriesPlane0Channel0 \(sources\[1\] and sources\[2\]\)"):
        read_sources(job.sources, "Europe/Berlin")


def test_volume_scan_takes_one_pulse_per_volume(run: Path, tmp_path: Path) -> None:
    """A ScanImage volume scan of 2 planes x 2 channels (its own frame time stamps replaced, its epoch not moving
    the session's start): each of its four series takes the same pulses, one per volume."""
    from nwbconvert.synthetic.ophys_scanimage import ScanImageLayout, write_scanimage

    movie = write_scanimage(tmp_path / "volume.tif", ScanImageLayout(volumes=11))
    job = config_job(write_config(tmp_path, run, movie, [RISING]), ConvertOptions(), None)
    session = read_sources(job.sources, "Europe/Berlin", job.alignments).session
    start = session.header.session_start_time
    assert start is not None and start.isoformat() == "2026-01-15T10:00:00+01:00"  # the NI-DAQ's, not the epoch's
    movies = session.imaging.movies
    assert len(movies) == 4 and {m.plane for m in movies} == {"Plane0Scope", "Plane1Scope"}
    for m in movies:
        np.testing.assert_allclose(m.times.timestamps_s, rising_edges(run, 1), rtol=0, atol=1e-9)
    movie = write_scanimage(tmp_path / "volume.tif", ScanImageLayout(volumes=22))  # a trigger per plane: refused
    with pytest.raises(SourceError, match=r"Plane0.* has 22 frames but channel EventsXD1Nidq has 11 events"):
        read_sources(job.sources, "Europe/Berlin", job.alignments)
