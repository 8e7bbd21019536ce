"""SpikeGLX NI-DAQ TTL lines: one bounded pass gives exactly the events neo's reader gives."""

from __future__ import annotations

import re
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from conftest import realdata
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
    lines = DigitalLines(word, piece_bytes=4 * 997)  # ~1000-sample pieces: many edges fall on their borders
    assert lines.piece_rows < 1000
    total = 0
    for index in range(len(word.lines)):
        times, durations, labels = lines.timestamps(0, 0, index)
        neo_times, neo_durations, neo_labels = rawio.get_event_timestamps(0, 0, index)
        np.testing.assert_array_equal(times, neo_times)
        np.testing.assert_array_equal(labels, neo_labels)
        assert durations is None and neo_durations is None
        total += len(times)
    assert total > 5_000  # the word really toggled
    # the reader's channels equal what neo's own event reading builds from them
    ours, theirs = reader.events(rawio), events_from_rawio(rawio)
    assert [e.name for e in ours] == [e.name for e in theirs]
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a.times_s, b.times_s)
        np.testing.assert_array_equal(a.labels, b.labels)


def test_high_lines_take_their_own_bit(tmp_path: Path) -> None:
    """XD8-XD15 of a 2-byte digital word are bits 8-15 (neo reads only the low byte for every line)."""
    n = 20_000
    word = _random_word(n, seed=1) | (_random_word(n, seed=2) << 8)
    folder = _with_nidq(tmp_path, word, xd_chans="0:15", xd_bytes="2")
    rawio = SpikeGLXReader().parse(folder)
    found = digital_word(rawio)
    assert found is not None and found.lines[9] == "XD9"
    times, _, labels = DigitalLines(found, piece_bytes=4 * 1013).timestamps(0, 0, 9)
    bit = ((word >> 9) & 1).astype(np.int8)
    step = np.diff(bit)
    expected = np.concatenate([np.flatnonzero(step == 1) + 1, np.flatnonzero(step == -1) + 1])
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
    ours, theirs = reader.events(rawio), events_from_rawio(rawio)
    assert [e.name for e in ours] == [e.name for e in theirs]
    assert sum(len(e) for e in ours) > 0
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a.times_s, b.times_s)
        np.testing.assert_array_equal(a.labels, b.labels)
