"""Open Ephys legacy: every channel file structure.openephys lists is there, each .continuous file holds whole
records after its 1 024-byte header, and all of one recording hold as many records (neo clips every channel to
the shortest file without a word)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from nwbconvert.readers.base import ReadOptions, shortfall
from nwbconvert.readers.complete import number, plural
from nwbconvert.readers.complete.channels import hole_notes

if TYPE_CHECKING:
    from nwbconvert.model import Session, SourceNote
    from nwbconvert.readers.complete import Checked

HEADER = 1024
SPLIT = re.compile(r"^(.*?)(_\d+)?$")  # 100_CH1_2: channel 100_CH1 of the second recording


def _folder(path: Path) -> Path | None:
    from nwbconvert.readers.openephys import _legacy_folder

    return _legacy_folder(path)


def _record_bytes(path: Path) -> int:
    """8-byte timestamp, 2-byte sample count, 2-byte recording number, the samples, a 10-byte marker."""
    with path.open("rb") as f:
        found = re.search(rb"header\.blockLength\s*=\s*(\d+)", f.read(HEADER))
    return 8 + 2 + 2 + 2 * (int(found.group(1)) if found else 1024) + 10


def before(path: Path, options: ReadOptions, streams: Sequence[str]) -> list[SourceNote]:
    """The listed files there, whole records, and the files of one recording equally long."""
    folder = _folder(path)
    if folder is None:
        return []
    notes = _listed(folder, options)
    records: dict[str, list[tuple[Path, int]]] = {}
    for file in sorted(folder.glob("*.continuous")):
        size = file.stat().st_size
        record = _record_bytes(file)
        n, cut = divmod(max(0, size - HEADER), record)
        if cut:
            expected = f"whole {number(record)}-byte records after its {number(HEADER)}-byte header"
            found = f"{plural(n, 'record')} and {plural(cut, 'byte')} of a cut one"
            notes.append(shortfall(file, f"the records of {file.name}", expected, found, options))
        match = SPLIT.match(file.stem)
        records.setdefault(match.group(2) or "" if match else "", []).append((file, n))
    for files in records.values():
        longest, most = max(files, key=lambda f: f[1])
        for file, n in files:
            if n < most:
                expected = (
                    f"{plural(most, 'record')} (as many as {longest.name}; neo clips every channel to the shortest)"
                )
                notes.append(shortfall(file, f"the samples of {file.name}", expected, plural(n, "record"), options))
    return notes


def _listed(folder: Path, options: ReadOptions) -> list[SourceNote]:
    """The channel files structure.openephys lists that are not there."""
    structure = folder / "structure.openephys"
    if not structure.exists():
        return []
    listed = re.findall(r'<CHANNEL\b[^>]*\bfilename="([^"]+)"', structure.read_text(errors="replace"))
    missing = [name for name in listed if not (folder / name).exists()]
    if not missing:
        return []
    what = f"the channel files listed in {structure.name}"
    names = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
    found = f"{plural(len(listed) - len(missing), 'file')}; no {names}"
    return [shortfall(folder / missing[0], what, plural(len(listed), "file"), found, options)]


def after(path: Path, session: Session, options: ReadOptions, streams: Sequence[str]) -> Checked:
    """Without structure.openephys to list the channel files, a numbering with a hole is a warning."""
    folder = _folder(path)
    if folder is None or (folder / "structure.openephys").exists():
        return session, []
    stems = [SPLIT.match(f.stem).group(1) for f in folder.glob("*.continuous")]  # type: ignore[union-attr]
    return session, hole_notes(folder, stems, ".continuous")
