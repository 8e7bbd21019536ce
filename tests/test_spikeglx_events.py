"""SpikeGLX NI-DAQ TTL lines: one bounded pass gives the edges neo's reader gives, on the clock of the series
(neo's sample indexes count from the file's first sample, not the run's), each segment from its own file."""

from __future__ import annotations

import re
import shutil
import tracemalloc
from pathlib import Path

import h5py
import numpy as np
import pytest

from conftest import COMPLETE_METADATA, realdata
from nwbconvert.pipeline import ConvertOptions, convert
from nwbconvert.readers.neo_events import events_from_rawio
from nwbconvert.readers.spikeglx import SpikeGLXReader
from nwbconvert.readers.spikeglx_events import DigitalLines, digital_word
from nwbconvert.synthetic.spikeglx import write_spikeglx_from_meta, write_spikeglx_run


def _with_nidq(root: Path, word: np.ndarray, xd_chans: str = "0:7", xd_bytes: str = "1") -> Path:
    """A SpikeGLX run whose nidq holds one analog channel and `word` as its digital word (the vendor's layout)."""
    run = write_spikeglx_run(root, seconds=1.0, n_channels=4)
    analog = np.arange(len(word), dtype=np.int16)
    np.column_stack([analog, word.astype(np.int16)]).astype("<i2").tofile(run.nidq_bin)
    meta = run.nidq_bin.with_suffix(".meta")
    text = meta.read_text()
    text = re.sub(r"fileSizeBytes=\d+", f"fileSizeBytes={run.nidq_bin.stat().st_size}", text)
    text = re.sub(r"fileTimeSecs=.*", f"fileTimeSecs={len(word) / 25000.0!r}", text)
    text = re.sub(r"niXDChans1=.*", f"niXDChans1={xd_chans}", text)
    text = re.sub(r"niXDBytes1=.*", f"niXDBytes1={xd_bytes}", text)
    meta.write_text(text)
    return run.folder


def _random_word(n: int, seed: int = 0) -> np.ndarray:
    """Every low bit toggling at random moments, edges at the first samples and in runs of single samples."""
    rng = np.random.default_rng(seed)
    hold = rng.integers(1, 40, size=n)  # how long each value lasts
    values = rng.integers(0, 256, size=n)
    word = np.repeat(values, hold)[:n].astype(np.uint16)
    word[:3] = [0, 255, 0]
    return word


def test_every_line_equals_neo_across_piece_boundaries(tmp_path: Path) -> None:
    folder = _with_nidq(tmp_path, _random_word(50_000))
    reader = SpikeGLXReader()
    rawio = reader.parse(folder)
    word = digital_word(rawio)
    assert word is not None and word.lines == tuple(f"XD{k}" for k in range(8))
    assert word.first_sample > 0  # the .meta's firstSample
    lines = DigitalLines([word], piece_bytes=4 * 997)  # ~1000-sample pieces: many edges fall on their borders
    total = 0
    for index in range(len(word.lines)):
        times, durations, labels = lines.timestamps(0, 0, index)
        neo_times, neo_durations, neo_labels = rawio.get_event_timestamps(0, 0, index)
        np.testing.assert_array_equal(times, neo_times + word.first_sample)
        np.testing.assert_array_equal(labels, neo_labels)
        assert durations is None and neo_durations is None
        total += len(times)
    assert total > 5_000  # the word really toggled
    _equal_to_neo_on_the_run_clock(reader, rawio)


def _equal_to_neo_on_the_run_clock(reader: SpikeGLXReader, rawio: object) -> None:
    """The reader's event channels are neo's, each time later by the nidq file's t_start."""
    ours, theirs = reader.events(rawio), events_from_rawio(rawio)
    t_start = rawio.signals_info_dict[0, "nidq"]["t_start"]  # type: ignore[attr-defined]
    assert t_start > 0
    assert [e.name for e in ours] == [e.name for e in theirs]
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.times_s, b.times_s + t_start, rtol=0, atol=1e-9)
        np.testing.assert_array_equal(a.labels, b.labels)


def test_high_lines_take_their_own_bit(tmp_path: Path) -> None:
    """XD8-XD15 of a 2-byte digital word are bits 8-15 (neo reads only the low byte for every line)."""
    n = 20_000
    word = _random_word(n, seed=1) | (_random_word(n, seed=2) << 8)
    folder = _with_nidq(tmp_path, word, xd_chans="0:15", xd_bytes="2")
    rawio = SpikeGLXReader().parse(folder)
    found = digital_word(rawio)
    assert found is not None and found.lines[9] == "XD9"
    times, _, labels = DigitalLines([found], piece_bytes=4 * 1013).timestamps(0, 0, 9)
    bit = ((word >> 9) & 1).astype(np.int8)
    step = np.diff(bit)
    expected = np.concatenate([np.flatnonzero(step == 1) + 1, np.flatnonzero(step == -1) + 1]) + found.first_sample
    np.testing.assert_array_equal(times, expected)
    assert len(times) > 100 and set(labels) == {"XD9 ON", "XD9 OFF"}


@pytest.mark.parametrize("n_samples", [6_000_000])  # 240 s at 25 kHz: neo's own reading peaks at 60 MB here
def test_memory_stays_bounded_on_a_long_digital_word(n_samples: int, tmp_path: Path) -> None:
    word = np.zeros(n_samples, dtype=np.uint16)
    word[12_500::25_000] = 1  # a 40 us pulse on XD0 every second
    folder = _with_nidq(tmp_path, word)
    reader = SpikeGLXReader()
    rawio = reader.parse(folder)
    tracemalloc.start()
    try:
        events = reader.events(rawio)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(events[0]) == 2 * (n_samples // 25_000)  # every pulse: its rising and its falling edge
    assert peak < 12e6, f"peak {peak / 1e6:.0f} MB while reading a {n_samples * 4 / 1e6:.0f} MB nidq file"


def test_real_nidq_headers_give_neo_s_events(tmp_path: Path) -> None:
    """A run built from real SpikeGLX headers (Neuropixels 1.0 + NI-DAQ, ../shared/realdata): the NI-DAQ's
    analog and digital columns as its .meta declares them; the lines found equal neo's."""
    headers = sorted(realdata("spikeglx_meta/np1_3B_g0").glob("*.meta"))
    assert any(h.name.endswith(".nidq.meta") for h in headers)
    run = write_spikeglx_from_meta(tmp_path, headers, seconds=3.0)
    reader = SpikeGLXReader()
    rawio = reader.parse(run.folder)
    word = digital_word(rawio)
    assert word is not None and word.lines == tuple(f"XD{k}" for k in range(8))
    assert sum(len(e) for e in reader.events(rawio)) > 0
    _equal_to_neo_on_the_run_clock(reader, rawio)


def test_events_mark_the_samples_they_name(tmp_path: Path) -> None:
    """In the converted file a TTL event's time is the time of the NI-DAQ sample where its line changes."""
    word = np.zeros(25_000, dtype=np.uint16)
    word[12_500:13_000] = 1  # XD0 high from sample 12500 to 12999
    folder = _with_nidq(tmp_path / "src", word)
    out = tmp_path / "run.nwb"
    convert(folder, out, ConvertOptions(set_values=COMPLETE_METADATA, timezone="UTC"))
    with h5py.File(out, "r") as f:
        nidq = f["acquisition/TimeSeriesNIDQ"]
        start, rate = float(nidq["starting_time"][()]), float(nidq["starting_time"].attrs["rate"])
        column = nidq["data"][:, -1]  # the digital word, after the analog channel
        times = f["events/EventsXD0/timestamp"][()]
        labels = [label.decode() for label in f["events/EventsXD0/label"][()]]
    assert start > 50  # the run's clock: the .meta's firstSample / rate
    changes = np.flatnonzero(np.diff(column)) + 1
    np.testing.assert_array_equal(changes, [12_500, 13_000])
    assert labels == ["XD0 ON", "XD0 OFF"]
    np.testing.assert_allclose(times, start + changes / rate, rtol=0, atol=1e-9)


def test_each_trigger_file_gives_its_own_events(tmp_path: Path) -> None:
    """A run with two trigger files (t0, t1): the second segment's lines come from t1's nidq file, at its time."""
    first = np.zeros(25_000, dtype=np.uint16)
    first[5_000] = 1
    folder = _with_nidq(tmp_path, first)
    for meta in sorted(folder.rglob("*_t0.*.meta")):
        text = meta.read_text()
        rate = float(re.search(r"(?:imSampRate|niSampRate)=([\d.]+)", text).group(1))  # type: ignore[union-attr]
        start = int(re.search(r"firstSample=(\d+)", text).group(1)) + int(5 * rate)  # type: ignore[union-attr]
        later = meta.with_name(meta.name.replace("_t0.", "_t1."))
        later.write_text(re.sub(r"firstSample=\d+", f"firstSample={start}", text).replace("_t0.", "_t1."))
        shutil.copy(meta.with_suffix(".bin"), later.with_suffix(".bin"))
    second = np.zeros(25_000, dtype=np.uint16)
    second[20_000] = 1
    nidq_t1 = next(folder.glob("*_t1.nidq.bin"))
    np.column_stack([np.zeros(25_000, np.int16), second.astype(np.int16)]).astype("<i2").tofile(nidq_t1)
    reader = SpikeGLXReader()
    rawio = reader.parse(folder)
    assert rawio.segment_count(0) == 2
    t0, t1 = (rawio.signals_info_dict[seg, "nidq"]["t_start"] for seg in (0, 1))
    xd0 = reader.events(rawio)[0]
    np.testing.assert_allclose(
        xd0.times_s, [t0 + 5_000 / 25e3, t0 + 5_001 / 25e3, t1 + 20_000 / 25e3, t1 + 20_001 / 25e3]
    )
    assert list(xd0.labels) == ["XD0 ON", "XD0 OFF"] * 2
