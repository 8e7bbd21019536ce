"""BrainVision: the .eeg and .vmrk the .vhdr names are there, the .eeg holds whole samples of every channel and
reaches the last marker's position, the .vmrk is whole (a [Marker Infos] section, a last line that ends, no
marker number missing) and neo returned every marker it lists."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from nwbconvert.readers.base import ReadOptions, shortfall
from nwbconvert.readers.complete import plural

if TYPE_CHECKING:
    from nwbconvert.model import Session, SourceNote
    from nwbconvert.readers.complete import Checked

SAMPLE_BYTES = {"INT_16": 2, "UINT_16": 2, "INT_32": 4, "IEEE_FLOAT_32": 4}
MARKER = re.compile(r"^Mk(\d+)=([^\r\n]*)$", re.MULTILINE | re.IGNORECASE)


@dataclass(frozen=True)
class Header:
    """What the checks need from a .vhdr: its files, the channel count and sample size, the orientation."""

    vhdr: Path
    data: Path | None
    markers: Path | None
    n_channels: int
    sample_bytes: int
    multiplexed: bool


def _field(text: str, key: str) -> str:
    found = re.search(rf"^\s*{key}\s*=\s*([^\r\n;]*)", text, re.MULTILINE | re.IGNORECASE)
    return found.group(1).strip() if found else ""


def read_header(path: Path) -> Header | None:
    from nwbconvert.readers.brainvision import _header_file
    from nwbconvert.readers.brainvision_header import named_file

    vhdr = _header_file(path)
    if vhdr is None:
        return None
    text = vhdr.read_bytes().decode("utf-8", errors="replace")
    data, markers = _field(text, "DataFile"), _field(text, "MarkerFile")
    try:
        n_channels = int(_field(text, "NumberOfChannels"))
    except ValueError:
        n_channels = 0
    return Header(
        vhdr,
        named_file(vhdr, data, ".eeg") if data else None,  # as the reader finds them (a renamed set too)
        named_file(vhdr, markers, ".vmrk") if markers else None,
        n_channels,
        SAMPLE_BYTES.get(_field(text, "BinaryFormat").upper(), 0),
        _field(text, "DataOrientation").upper() in ("", "MULTIPLEXED"),
    )


def before(path: Path, options: ReadOptions, streams: Sequence[str]) -> list[SourceNote]:
    """The named files there, the .eeg in whole samples and as long as the markers say, the .vmrk whole."""
    header = read_header(path)
    if header is None:
        return []
    notes: list[SourceNote] = []
    for file in (header.data, header.markers):
        if file is not None and not file.exists():
            what = f"the file {header.vhdr.name} names ({file.name})"
            notes.append(shortfall(file, what, "the file", "no such file", options))
    markers = None
    if header.markers is not None and header.markers.exists():
        markers = header.markers.read_bytes().decode("utf-8", errors="replace")
        notes += _marker_file(header.markers, markers, options)
    if _there(header.data) and header.n_channels and header.sample_bytes and header.multiplexed:
        notes += _data_file(header, markers, options)
    return notes


def marker_lines(text: str) -> list[tuple[str, str]]:
    """(number, value) of each MkN= entry of the [Marker Infos] section."""
    section = re.split(r"^\s*\[marker infos\]\s*$", text, maxsplit=1, flags=re.MULTILINE | re.IGNORECASE)
    body = re.split(r"^\s*\[", section[1], maxsplit=1, flags=re.MULTILINE)[0] if len(section) > 1 else ""
    return MARKER.findall(body)


def _there(file: Path | None) -> bool:
    return file is not None and file.exists()


def _marker_file(vmrk: Path, text: str, options: ReadOptions) -> list[SourceNote]:
    what = f"the markers of {vmrk.name}"
    if "[marker infos]" not in text.lower():
        found = f"{plural(len(text.encode()), 'byte')} that end inside its header"
        return [shortfall(vmrk, what, "a [Marker Infos] section", found, options)]
    if text and not text.endswith(("\n", "\r")):
        found = f"a file whose last line is cut: {text.splitlines()[-1][:60]!r}"
        return [shortfall(vmrk, what, "whole lines", found, options)]
    numbers = [int(n) for n, _ in marker_lines(text)]
    if numbers and max(numbers) > len(numbers):
        expected = f"{plural(max(numbers), 'marker')} (Mk1 to Mk{max(numbers)})"
        return [shortfall(vmrk, what, expected, plural(len(numbers), "marker"), options)]
    return []


def _data_file(header: Header, markers: str | None, options: ReadOptions) -> list[SourceNote]:
    assert header.data is not None
    row = header.n_channels * header.sample_bytes
    size = header.data.stat().st_size
    n, cut = divmod(size, row)
    what = f"the samples of {header.data.name}"
    if cut:
        expected = f"whole samples of {header.n_channels} channels × {header.sample_bytes} bytes"
        found = f"{plural(n, 'sample')} and {plural(cut, 'byte')} of a cut one"
        return [shortfall(header.data, what, expected, found, options)]
    last = max((_position(value) for _, value in marker_lines(markers or "")), default=0)
    if last > n:
        marker_file = header.markers.name if header.markers else "the .vmrk"
        expected = f"at least {plural(last, 'sample')} ({marker_file} has a marker at sample {last})"
        return [shortfall(header.data, what, expected, plural(n, "sample"), options)]
    return []


def _position(value: str) -> int:
    """The 1-based sample of a marker entry 'Type,Description,Position,Size,Channel[,Date]' (0 if unreadable)."""
    fields = value.split(",")
    try:
        return int(fields[2]) if len(fields) > 2 else 0
    except ValueError:
        return 0


def after(path: Path, session: Session, options: ReadOptions, streams: Sequence[str]) -> Checked:
    """Every marker the .vmrk lists among the events neo returned."""
    header = read_header(path)
    if header is None or not _there(header.markers):
        return session, []
    assert header.markers is not None
    listed = len(marker_lines(header.markers.read_bytes().decode("utf-8", errors="replace")))
    found = sum(len(e) for e in session.events)
    if found >= listed:
        return session, []
    what = f"the markers of {header.markers.name}"
    expected = f"{plural(listed, 'marker')} (its Mk<N>= lines)"
    return session, [shortfall(header.markers, what, expected, plural(found, "marker"), options)]
