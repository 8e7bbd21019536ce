"""Neuralynx: .ncs and .nev files hold whole records after their 16 KiB headers, the .ncs of one sampling rate
as many records as each other, and neo returns every event of Events.nev that lies within the recorded samples."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from nwbconvert.model import SourceNote
from nwbconvert.readers.base import ReadOptions, shortfall
from nwbconvert.readers.complete import number, plural
from nwbconvert.readers.complete.channels import hole_notes

if TYPE_CHECKING:
    from nwbconvert.model import Session
    from nwbconvert.readers.complete import Checked

HEADER = 16384
NCS_RECORD = 1044  # uint64 timestamp, uint32 channel, uint32 rate, uint32 valid samples, 512 int16 samples
NEV_RECORD = 184
NCS_DTYPE = np.dtype([("timestamp", "<u8"), ("channel", "<u4"), ("rate", "<u4"), ("rest", "V1028")])
NEV_DTYPE = np.dtype([("head", "<i2", 3), ("timestamp", "<u8"), ("rest", "V168")])


def _folder_files(path: Path) -> list[Path]:
    folder = path if path.is_dir() else path.parent
    suffixes = (".ncs", ".nev") if path.is_dir() else (path.suffix.lower(),)
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in suffixes) if path.is_dir() else [path]
    return [p for p in files if p.suffix.lower() in suffixes]


def _rate(path: Path) -> str:
    with path.open("rb") as f:
        found = re.search(rb"-SamplingFrequency\s+([0-9.]+)", f.read(HEADER))
    return found.group(1).decode() if found else ""


@dataclass(frozen=True)
class Records:
    """A .ncs or .nev file past its header: its whole records, the bytes of a cut one, its sampling rate (.ncs)."""

    path: Path
    whole: int
    cut: int
    rate: str


def _records(files: list[Path]) -> tuple[list[Path], list[Records]]:
    """The files shorter than their header (neo leaves them out without a word), and the records of the others."""
    short, found = [], []
    for file in files:
        size = file.stat().st_size
        if size < HEADER:
            short.append(file)
            continue
        ncs = file.suffix.lower() == ".ncs"
        whole, cut = divmod(size - HEADER, NCS_RECORD if ncs else NEV_RECORD)
        found.append(Records(file, whole, cut, _rate(file) if ncs else ""))
    return short, found


def _shorter(found: list[Records]) -> list[tuple[Records, Records]]:
    """Each whole .ncs with fewer records than the longest of its sampling rate, with that longest one."""
    ncs = [r for r in found if r.path.suffix.lower() == ".ncs" and not r.cut]
    longest: dict[str, Records] = {}
    for r in ncs:
        if r.whole > longest.get(r.rate, Records(r.path, -1, 0, r.rate)).whole:
            longest[r.rate] = r
    return [(r, longest[r.rate]) for r in ncs if r.whole < longest[r.rate].whole]


def unreadable(path: Path) -> list[Path]:
    """The files of a folder neo cannot read with the others: cut inside a record, or a .ncs shorter than the others
    of its rate (refused by `before`; with --allow-incomplete the reader leaves them out, saying so)."""
    if not path.is_dir():
        return []
    _, found = _records(_folder_files(path))
    return [r.path for r in found if r.cut] + [r.path for r, _ in _shorter(found)]


def before(path: Path, options: ReadOptions, streams: Sequence[str]) -> list[SourceNote]:
    """Whole records in every file, and the .ncs of one sampling rate equally long (neo refuses a cut record and
    mis-sizes channels of different lengths)."""
    notes: list[SourceNote] = []
    short, found = _records(_folder_files(path))
    for file in short:
        expected, size = f"a {number(HEADER)}-byte header, then records", file.stat().st_size
        notes.append(shortfall(file, f"the header of {file.name}", expected, plural(size, "byte"), options))
    for r in (r for r in found if r.cut):
        record = NCS_RECORD if r.path.suffix.lower() == ".ncs" else NEV_RECORD
        expected = f"whole {number(record)}-byte records after its {number(HEADER)}-byte header"
        found_text = f"{plural(r.whole, 'record')} and {plural(r.cut, 'byte')} of a cut one"
        notes.append(shortfall(r.path, f"the records of {r.path.name}", expected, found_text, options))
    for r, most in _shorter(found):
        expected = f"{plural(most.whole, 'record')} (as many as {most.path.name}, of the same sampling rate)"
        notes.append(shortfall(r.path, f"the samples of {r.path.name}", expected, plural(r.whole, "record"), options))
    return notes


def after(path: Path, session: Session, options: ReadOptions, streams: Sequence[str]) -> Checked:
    """The events neo returned against Events.nev's records within the recorded samples; channel files numbered
    with a hole (a warning: see channels.py)."""
    files = _folder_files(path)
    notes: list[SourceNote] = []
    span = _span([f for f in files if f.suffix.lower() == ".ncs"])
    nev = [f for f in files if f.suffix.lower() == ".nev"]
    if span is not None and len(nev) == 1:
        n = max(0, nev[0].stat().st_size - HEADER) // NEV_RECORD
        times = np.memmap(nev[0], NEV_DTYPE, "r", HEADER, (n,))["timestamp"] if n else np.empty(0, np.uint64)
        declared = int(np.count_nonzero((times >= span[0]) & (times <= span[1])))
        found = sum(len(e) for e in session.events)
        if found < declared:
            expected = f"{plural(declared, 'event')} (its records within the recorded samples)"
            notes.append(shortfall(nev[0], f"the events of {nev[0].name}", expected, plural(found, "event"), options))
    if path.is_dir():
        notes += hole_notes(path, [f.stem for f in files if f.suffix.lower() == ".ncs"], ".ncs")
        if not nev and span is not None:  # Cheetah and Pegasus always write one: a warning, not an error
            message = (
                f"{path}: the folder has no Events.nev (or other .nev file), so the recording's events are not in "
                "this copy (check that every file of the recording was copied); converted the channels."
            )
            notes.append(SourceNote("missing-file", str(path), message, "Events.nev", "no .nev file"))
    return session, notes


def _span(ncs: list[Path]) -> tuple[int, int] | None:
    """First and last record timestamps (µs) of the .ncs files, the last one's 512 samples included."""
    first: list[int] = []
    last: list[int] = []
    for file in ncs:
        n = max(0, file.stat().st_size - HEADER) // NCS_RECORD
        if not n:
            continue
        records = np.memmap(file, NCS_DTYPE, "r", HEADER, (n,))
        first.append(int(records["timestamp"][0]))
        rate = int(records["rate"][-1]) or 1
        last.append(int(records["timestamp"][-1]) + 512 * 1_000_000 // rate)
    return (min(first), max(last)) if first else None
