"""BrainVision headers as the format defines them, for the variants neo's reader refuses or misreads.

neo's `BrainVisionRawIO` reads headers as UTF-8 only and needs a section named exactly `[Common Infos]`, while
older Vision Recorder versions write Latin-1 / Windows-1252 (`Codepage=ANSI`, or no codepage line) and NeurOne
exports spell the section `[Common infos]`. Such a source is given to neo as a UTF-8 copy of its header and
marker file in a temporary folder (the samples stay where they are). Channel units follow the specification:
a channel whose unit field is empty or absent is in µV (neo reads it as '' or 'u').
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neo.rawio import BrainVisionRawIO

from nwbconvert.errors import SourceError

COMMON = "Common Infos"
_SECTION = re.compile(r"^\s*\[([^\]]+)\]\s*$")
_CODEPAGE = re.compile(r"^\s*Codepage\s*=\s*(\S+)", re.IGNORECASE | re.MULTILINE)
_CHANNEL_KEY = re.compile(r"^ch(\d+)$", re.IGNORECASE)


def decode(raw: bytes) -> str:
    """The text of a header or marker file: its declared codepage (ANSI is Windows-1252), UTF-8 when it declares
    none, and Latin-1 when those fail (what older recorders wrote without saying so) -- as MNE reads them."""
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    declared = _CODEPAGE.search(raw.decode("ascii", "ignore"))
    codepage = declared.group(1).strip() if declared else "utf-8"
    codepage = "cp1252" if codepage.upper() == "ANSI" else codepage
    try:
        return raw.decode(codepage)
    except (UnicodeDecodeError, LookupError):
        return raw.decode("latin-1")


def sections(text: str) -> dict[str, dict[str, str]]:
    """`[Section]` -> {key: value} of the parameter part (before `[Comment]`); keys keep their spelling."""
    out: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in text.splitlines():
        found = _SECTION.match(line)
        if found:
            if found.group(1).strip().lower() == "comment":
                break
            current = out.setdefault(found.group(1).strip(), {})
        elif current is not None and "=" in line and not line.lstrip().startswith(";"):
            key, value = line.split("=", 1)
            current[key.strip()] = value.strip()
    return out


def common_section(found: dict[str, dict[str, str]]) -> dict[str, str] | None:
    """The `[Common Infos]` section, whatever the case of its name."""
    return next((v for k, v in found.items() if k.lower() == COMMON.lower()), None)


def channel_units(found: dict[str, dict[str, str]]) -> dict[int, str]:
    """Channel number (1-based) -> unit: the fourth field of `ChN=name,reference,resolution,unit`, µV where it is
    empty or absent (the specification's default), with µ spelled 'u' as neo spells it."""
    infos = next((v for k, v in found.items() if k.lower() == "channel infos"), {})
    units: dict[int, str] = {}
    for key, value in infos.items():
        number = _CHANNEL_KEY.match(key)
        if number is None:
            continue
        fields = value.split(",")
        unit = fields[3].strip() if len(fields) >= 4 else ""
        units[int(number.group(1))] = (unit or "µV").replace("\xc2", "").replace("µ", "u").replace("μ", "u")
    return units


@dataclass(frozen=True)
class Header:
    """A parsed .vhdr: its decoded text, its sections, and whether neo can read the file itself."""

    path: Path
    text: str
    found: dict[str, dict[str, str]]
    neo_readable: bool

    def file(self, key: str, suffix: str) -> Path:
        """The data or marker file the header names (`DataFile`, `MarkerFile`), or the header's own name with
        `suffix` when that one is missing (files renamed without editing the header, as neo does)."""
        common = common_section(self.found) or {}
        return named_file(self.path, next((v for k, v in common.items() if k.lower() == key.lower()), ""), suffix)


def named_file(vhdr: Path, named: str, suffix: str) -> Path:
    """The file a header names, or the header's own name with `suffix` when that one is not there (a set renamed
    without editing its header: neo reads it so)."""
    candidate = vhdr.parent / named if named else vhdr.with_suffix(suffix)
    return candidate if candidate.is_file() else vhdr.with_suffix(suffix)


def utf8(path: Path) -> bool:
    try:
        path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def read_header(path: Path) -> Header:
    """The header at `path`; a header without the common section is refused in plain words."""
    text = decode(path.read_bytes())
    found = sections(text)
    if common_section(found) is None:
        raise SourceError(
            f"{path}: this BrainVision header has no [Common Infos] section, which names the data file, the "
            "number of channels and the sampling interval. Check that the .vhdr file is complete (compare it "
            "with a header the same recorder wrote), or add the section by hand."
        )
    header = Header(path, text, found, neo_readable=COMMON in found and utf8(path))
    marker = header.file("MarkerFile", ".vmrk")
    return header if not marker.is_file() or utf8(marker) else Header(path, text, found, neo_readable=False)


def _canonical(text: str, names: dict[str, str]) -> str:
    """`text` with the common section spelled as neo expects, the codepage UTF-8, and `names` (key -> file name)
    set in the common section."""
    lines, section = [], ""
    for line in text.splitlines():
        found = _SECTION.match(line)
        if found:
            section = found.group(1).strip().lower()
            lines.append(f"[{COMMON}]" if section == COMMON.lower() else line)
            continue
        key = line.split("=", 1)[0].strip() if "=" in line else ""
        if section == COMMON.lower() and key.lower() == "codepage":
            line = "Codepage=UTF-8"
        elif section == COMMON.lower() and key.lower() in names:
            line = f"{key}={names[key.lower()]}"
        lines.append(line)
    return "\n".join(lines) + "\n"


class HeaderRawIO(BrainVisionRawIO):
    """neo's BrainVision reader over the header as the format defines it (see the module docstring)."""

    def __init__(self, filename: str = "") -> None:
        super().__init__(filename=filename)
        self.filename: str = str(filename)
        self._data_path: str | None = None

    def _parse_header(self) -> None:
        header = read_header(Path(self.filename))
        if header.neo_readable:
            super()._parse_header()
        else:
            self._parse_copy(header)
        units = channel_units(header.found)
        chans = self.header["signal_channels"]
        for i in range(len(chans)):
            chans["units"][i] = units.get(i + 1, chans["units"][i])

    def _parse_copy(self, header: Header) -> None:
        """Parse a UTF-8 copy of the header and marker file (the data file linked beside them)."""
        data, marker = header.file("DataFile", ".eeg"), header.file("MarkerFile", ".vmrk")
        original = self.filename
        with tempfile.TemporaryDirectory(prefix="nwbconvert-vhdr-") as tmp:
            folder = Path(tmp)
            names = {"datafile": "data" + data.suffix, "markerfile": "markers.vmrk"}
            (folder / "header.vhdr").write_text(_canonical(header.text, names), encoding="utf-8")
            if data.is_file():
                os.symlink(data.resolve(), folder / names["datafile"])
            if marker.is_file():
                marker_text = _canonical(decode(marker.read_bytes()), {})
                (folder / names["markerfile"]).write_text(marker_text, encoding="utf-8")
            self.filename = str(folder / "header.vhdr")
            try:
                super()._parse_header()
            finally:
                self.filename = original
        self._data_path = str(data.resolve())

    def _get_analogsignal_buffer_description(self, block_index: int, seg_index: int, buffer_id: str) -> Any:
        description = super()._get_analogsignal_buffer_description(block_index, seg_index, buffer_id)
        return description if self._data_path is None else {**description, "file_path": self._data_path}
