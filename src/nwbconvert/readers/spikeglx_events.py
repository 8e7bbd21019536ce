"""The TTL lines of a SpikeGLX NI-DAQ digital word as events, found in one pass over bounded pieces.

neo's SpikeGLXRawIO unpacks every bit of the whole digital word each time it is asked for one line: eight passes
and ~10 bytes of memory per NI-DAQ sample (60 MB and 0.5 s for 240 s at 25 kHz; 0.9 GB for an hour) before
any sample is converted. Here the word is read once, in pieces of PIECE_BYTES of the file, and only the samples
where the word changes are looked at. The edges are the ones neo finds (its file layout, its line names, its
order: the rising edges of a line, then its falling edges; the first sample after an edge), with three fixes:
- sample indexes count from the start of the run (the file's `firstSample`), the clock neo gives the series'
  t_start; neo counts from the first sample of the file, so its events came out t_start seconds too early
  (57.9 s for the sample data) against the samples they mark;
- each segment (trigger file t0, t1, ...) reads its own nidq file; neo reads segment 0's for every segment;
- lines XD8-XD15 take their own bit of the 16-bit word (neo reads the low byte only, so it reports bits 0-7
  again).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from neo.rawio.baserawio import BaseRawIO

PIECE_BYTES = 2 * 1024 * 1024  # of the .bin read at once: memory stays a few pieces, whatever the length
Timestamps = tuple[np.ndarray, None, np.ndarray]  # sample indexes, durations (none), labels: neo's event triple


@dataclass(frozen=True)
class DigitalWord:
    """Where the digital word of a nidq .bin is: int16 rows of `n_channels`, the word in column `column`."""

    path: str
    n_channels: int
    column: int
    n_samples: int
    lines: tuple[str, ...]  # XD0, XD1, ... as neo names them, in neo's event channel order
    first_sample: int  # of the file, counted from the start of the run (its .meta's firstSample)


def digital_word(rawio: BaseRawIO, segment: int = 0) -> DigitalWord | None:
    """The nidq digital word of a segment, as neo found it while parsing the headers, or None (no nidq, no
    digital lines, or a neo that describes them differently: then neo's own reader is used)."""
    try:
        info = rawio.signals_info_dict[segment, "nidq"]
        word = DigitalWord(
            path=str(info["bin_file"]),
            n_channels=int(info["num_chan"]),
            column=len(info["analog_channels"]),
            n_samples=int(info["sample_length"]),
            lines=tuple(str(name) for name in info["digital_channels"]),
            first_sample=int(info["first_sample"]),
        )
    except (AttributeError, KeyError, TypeError, ValueError):
        return None
    names = [str(row["name"]) for row in rawio.header["event_channels"]]
    if not word.lines or names != list(word.lines) or not all(re.fullmatch(r"XD\d+", n) for n in names):
        return None
    if not 0 <= word.column < word.n_channels:
        return None
    return word


def nidq_lines(rawio: BaseRawIO) -> DigitalLines | None:
    """The digital lines of every segment (one block), or None where neo's layout is not the one known here."""
    if rawio.block_count() != 1:
        return None
    words = [digital_word(rawio, segment) for segment in range(rawio.segment_count(0))]
    if not words or any(word is None for word in words):
        return None
    return DigitalLines([word for word in words if word is not None])


class DigitalLines:
    """`get_event_timestamps` for SpikeGLX: one bounded pass over each segment's digital word (on first use)."""

    def __init__(self, words: list[DigitalWord], piece_bytes: int = PIECE_BYTES) -> None:
        self.words = words
        self.piece_bytes = piece_bytes
        self._edges: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}

    def timestamps(self, block: int, segment: int, index: int) -> Timestamps:
        """Event channel `index` of a segment: its rising edges then its falling edges, as sample indexes from
        the start of the run."""
        word = self.words[segment]
        if segment not in self._edges:
            self._edges[segment] = _scan(word, max(1, self.piece_bytes // (2 * word.n_channels)))
        rising, falling = self._edges[segment][index]
        name = word.lines[index]
        labels = np.repeat(np.array([f"{name} ON", f"{name} OFF"]), [len(rising), len(falling)])
        return np.concatenate([rising, falling]) + word.first_sample, None, labels


def _scan(word: DigitalWord, rows: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(rising, falling) sample indexes in the file of every line, reading `rows` samples at a time."""
    bits = [int(name[2:]) for name in word.lines]
    rising: list[list[np.ndarray]] = [[] for _ in bits]
    falling: list[list[np.ndarray]] = [[] for _ in bits]
    previous: np.ndarray | None = None
    n_channels = word.n_channels
    with open(word.path, "rb") as f:
        for start in range(0, word.n_samples, rows):
            n = min(rows, word.n_samples - start)
            block = np.fromfile(f, dtype="<i2", count=n * n_channels)
            n = len(block) // n_channels
            if n == 0:
                break
            values = block[: n * n_channels].reshape(n, n_channels)[:, word.column].view(np.uint16)
            # an edge at index j of `ext` is reported at the sample after it: start + j (+1 in the first piece)
            ext, base = (values, start + 1) if previous is None else (np.concatenate([previous, values]), start)
            changed = np.flatnonzero(ext[1:] != ext[:-1])
            before, after = ext[changed], ext[changed + 1]
            for i, bit in enumerate(bits):
                was, now = (before >> bit) & 1, (after >> bit) & 1
                rising[i].append(changed[(was == 0) & (now == 1)] + base)
                falling[i].append(changed[(was == 1) & (now == 0)] + base)
            previous = values[-1:]
    return [(_joined(r), _joined(f)) for r, f in zip(rising, falling)]


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts).astype(np.int64) if parts else np.empty(0, dtype=np.int64)
