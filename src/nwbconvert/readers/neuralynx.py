"""Neuralynx folders (.ncs continuous channels, with .nev events beside them).

Recordings with gaps: neo (0.14.6+) refuses a recording whose record timestamps jump by a sample period or more
unless it is given `gap_tolerance_ms`. Then it is opened again with half a sample period as the tolerance, so every
jump neo refused starts a new segment (the writer writes timestamps), and a note says how many gaps there are.
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from nwbconvert.errors import SourceError
from nwbconvert.model import GAP_TOLERANCE, HeaderMetadata, Session, SourceNote, segment_gaps
from nwbconvert.readers.base import Match, head
from nwbconvert.readers.complete.neuralynx import unreadable
from nwbconvert.readers.neo_reader import NeoReader

if TYPE_CHECKING:
    from neo.rawio.baserawio import BaseRawIO

NCS_HEADER = b"######## Neuralynx"
GAP_REFUSAL = "gap_tolerance_ms"  # neo's refusal of a recording with gaps names the argument that opens it


def _ncs_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix.lower() == ".ncs")
    return [path] if path.suffix.lower() == ".ncs" else []


class NeuralynxReader(NeoReader):
    name = "neuralynx"
    description = "Neuralynx recording folder (.ncs/.nev)"
    suffixes = (".ncs", ".nev", ".nse", ".ntt")
    verified = "real"  # tests/test_roundtrip.py converts a real file
    input_kind = "file or folder"
    manufacturer = "Neuralynx"

    def probe(self, path: Path) -> Match:
        files = _ncs_files(path)
        if files and all(head(f, len(NCS_HEADER)) == NCS_HEADER for f in files[:4]):
            return Match.CONTENT
        return Match.SUFFIX if path.suffix.lower() == ".ncs" else Match.NO

    def open_rawio(self, path: Path, gap_tolerance_ms: float | None = None) -> BaseRawIO:
        """neo's rawio; a single .ncs: neo takes its folder and the file's name."""
        from neo.rawio import NeuralynxRawIO

        if path.is_dir():  # less the files neo cannot read with the others (`finish` says they were left out)
            left_out = [p.name for p in unreadable(path)] or None
            return NeuralynxRawIO(dirname=str(path), exclude_filenames=left_out, gap_tolerance_ms=gap_tolerance_ms)
        return NeuralynxRawIO(
            dirname=str(path.parent), include_filenames=[path.name], gap_tolerance_ms=gap_tolerance_ms
        )

    def parse(self, path: Path) -> BaseRawIO:
        """As neo parses it; a recording neo refuses for its timestamp gaps is parsed again, segmented at them."""
        try:
            return super().parse(path)
        except SourceError as exc:
            if GAP_REFUSAL not in str(exc.__cause__ or ""):
                raise
        tolerance = _half_sample_ms(_ncs_files(path))
        with self.reading(path), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rawio = self.open_rawio(path, gap_tolerance_ms=tolerance)
            rawio.parse_header()
        return rawio

    def finish(self, path: Path, session: Session) -> Session:
        """A note per file left out (an incomplete copy converted with --allow-incomplete), and per stream whose
        segments leave gaps: how many, the longest, and that timestamps are written."""
        left_out = [
            SourceNote("left-out", str(p), f"{p}: left out: neo cannot read a file cut inside a record, or a channel "
                       "shorter than the others of its rate, beside them; the other files converted.")
            for p in unreadable(path)
        ]  # fmt: skip
        found: dict[str, SourceNote] = {}
        for recording in session.recordings:
            rate = recording.sampling_rate_hz
            gaps = [g / rate for g in segment_gaps(recording.segments, rate) if abs(g) > GAP_TOLERANCE]
            if gaps and recording.stream_id not in found:
                longest = max(abs(g) for g in gaps)
                message = (
                    f"{path}: {len(gaps)} gap{'s' if len(gaps) > 1 else ''} in the recording "
                    f"(longest {_duration(longest)}); written with timestamps"
                )
                found[recording.stream_id] = SourceNote("gaps", str(path), message)
        return replace(session, notes=session.notes + tuple(left_out) + tuple(found.values()))

    def source_paths(self, path: Path) -> list[Path]:
        folder = path if path.is_dir() else path.parent
        return [p for p in folder.iterdir() if p.suffix.lower() in self.suffixes] if path.is_dir() else [path]

    def header_metadata(self, path: Path, rawio: BaseRawIO) -> HeaderMetadata:
        # 'TimeCreated' of the .ncs headers, local time of the acquisition machine
        signals = rawio.raw_annotations["blocks"][0]["segments"][0]["signals"]
        opened = signals[0]["__array_annotations__"].get("recording_opened") if signals else None
        first = opened[0] if opened is not None and len(opened) else None
        return HeaderMetadata(session_start_time=first if isinstance(first, dt.datetime) else None)


def _half_sample_ms(files: list[Path]) -> float:
    """Half the shortest sample period of the .ncs files, in ms: jitter below it is no gap (neo's own rule counts
    jumps of a whole period or more as gaps)."""
    from neo.rawio.neuralynxrawio.nlxheader import NlxHeader

    rates = [float(NlxHeader(str(f))["sampling_rate"]) for f in files]
    return 500.0 / max(rates)


def _duration(seconds: float) -> str:
    """1.2 s, 35 ms, 1 µs."""
    if seconds >= 1.0:
        return f"{seconds:.1f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f} ms"
    return f"{seconds * 1e6:.0f} µs"
