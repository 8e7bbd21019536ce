"""Open Ephys binary: every recording folder with data has its structure.oebin, every continuous stream it
declares has its continuous.dat, sample_numbers.npy and timestamps.npy, and each continuous.dat holds as many
samples as its sample_numbers.npy (else timestamps.npy) lists."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from nwbconvert.model import SourceNote
from nwbconvert.readers.base import ReadOptions, shortfall, walk_files
from nwbconvert.readers.complete import plural, stream_excluded

DATA_FOLDERS = ("continuous", "events", "spikes")


def before(path: Path, options: ReadOptions, streams: Sequence[str]) -> list[SourceNote]:
    """Recording folders without structure.oebin (neo skips the experiment and renumbers the blocks after it),
    then each declared stream's files and length."""
    from nwbconvert.readers.openephys import _oebin_root

    root = _oebin_root(path)
    if root is None:
        return []
    notes: list[SourceNote] = []
    for folder in _recording_folders(root):
        oebin = folder / "structure.oebin"
        if not oebin.exists():
            what = f"the header of {folder.relative_to(root)}, which holds data (its experiment is left out)"
            notes.append(shortfall(oebin, what, "structure.oebin", "no such file", options))
            continue
        notes += _streams(folder, oebin, options, streams)
    return notes


def _recording_folders(root: Path) -> list[Path]:
    """The folders holding a continuous/, events/ or spikes/ folder with files below it."""
    found: set[Path] = set()
    for file in walk_files(root, max_depth=8):
        for folder in file.relative_to(root).parents:
            if folder.name in DATA_FOLDERS:
                found.add(root / folder.parent)
                break
    return sorted(found)


def _streams(folder: Path, oebin: Path, options: ReadOptions, streams: Sequence[str]) -> list[SourceNote]:
    try:
        structure = json.loads(oebin.read_text(errors="replace"))
        declared = [(str(c["folder_name"]).strip("/"), int(c["num_channels"])) for c in structure["continuous"]]
        tables = [("events", str(e["folder_name"]).strip("/")) for e in structure.get("events", [])]
        tables += [("spikes", str(s["folder"]).strip("/")) for s in structure.get("spikes", [])]
        version = tuple(int(x) for x in str(structure.get("GUI version", "0.6")).split(".")[:2])
    except (ValueError, KeyError, TypeError):
        return []  # a damaged header: neo's refusal says so
    notes = [n for kind, name in tables for n in _table(folder / kind / name, options)]
    if declared and not (folder / "continuous").is_dir():
        names = ", ".join(name for name, _ in declared)
        message = (
            f"{oebin}: declares continuous streams ({names}) but the recording folder has no continuous/ folder; "
            "converted its spikes and events only."
        )
        return [*notes, SourceNote("missing-stream", str(folder), message, f"{len(declared)} streams", "none")]
    for name, n_channels in declared:
        if stream_excluded(name.split(".")[-1], streams):
            continue
        notes += _stream(folder / "continuous" / name, n_channels, version >= (0, 6), options)
    return notes


def _stream(stream: Path, n_channels: int, numbered: bool, options: ReadOptions) -> list[SourceNote]:
    """One continuous stream's files, and continuous.dat as long as its sample list."""
    import numpy as np

    wanted = ["continuous.dat", "timestamps.npy"] + (["sample_numbers.npy"] if numbered else [])
    missing = [name for name in wanted if not (stream / name).exists()]
    if missing:
        what = f"the files of continuous stream {stream.name}"
        return [shortfall(stream / missing[0], what, ", ".join(wanted), f"no {', '.join(missing)}", options)]
    lengths: dict[str, int] = {}
    for name in reversed(wanted[1:]):  # sample_numbers.npy (named first where equal), timestamps.npy: a row a sample
        try:
            lengths[name] = int(np.load(stream / name, mmap_mode="r").shape[0])
        except (ValueError, OSError, IndexError):
            found = plural((stream / name).stat().st_size, "byte")
            return [shortfall(stream / name, f"the sample list of {stream.name}", "a whole .npy array", found, options)]
    listed = max(lengths, key=lengths.__getitem__)
    n_samples = lengths[listed]
    short = min(lengths, key=lengths.__getitem__)
    if lengths[short] < n_samples:
        expected = f"{plural(n_samples, 'row')} (as many as {listed})"
        found = plural(lengths[short], "row")
        return [shortfall(stream / short, f"the {short} of {stream.name}", expected, found, options)]
    data = stream / "continuous.dat"
    row = 2 * n_channels
    size = data.stat().st_size
    if size >= n_samples * row:
        return []
    expected = f"{plural(n_samples * row, 'byte')} ({plural(n_samples, 'sample')} in {listed})"
    found = f"{plural(size, 'byte')} ({plural(size // row, 'whole sample')})"
    return [shortfall(data, f"the samples of {stream.name}", expected, found, options)]


def _table(table: Path, options: ReadOptions) -> list[SourceNote]:
    """An events or spikes folder structure.oebin declares: there, and its .npy arrays whole and equally long
    (neo pairs them row by row)."""
    import numpy as np

    if not table.is_dir():
        return [shortfall(table, "a folder structure.oebin declares", f"{table.name}/", "no such folder", options)]
    label = "/".join(table.parts[-2:])  # NI-DAQmx-103.PXIe-6341/TTL
    lengths: dict[str, int] = {}
    for array in sorted(table.glob("*.npy")):
        try:
            lengths[array.name] = int(np.load(array, mmap_mode="r").shape[0])
        except (ValueError, OSError, IndexError):
            found = plural(array.stat().st_size, "byte")
            return [shortfall(array, f"the {label} table's {array.name}", "a whole .npy array", found, options)]
    if not lengths or len(set(lengths.values())) == 1:
        return []
    longest = max(lengths, key=lengths.__getitem__)
    short = min(lengths, key=lengths.__getitem__)
    expected = f"{plural(lengths[longest], 'row')} (as many as {longest})"
    return [shortfall(table / short, f"the {label} table's {short}", expected, plural(lengths[short], "row"), options)]
