"""SpikeGLX: every .bin has its .meta and every .meta its .bin, and each .bin holds the bytes its .meta declares
(`fileSizeBytes`, else `fileTimeSecs` × the sampling rate)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from nwbconvert.readers.base import ReadOptions, shortfall, walk_files
from nwbconvert.readers.complete import plural, stream_excluded

if TYPE_CHECKING:
    from nwbconvert.model import SourceNote


def before(path: Path, options: ReadOptions, streams: Sequence[str]) -> list[SourceNote]:
    """The .bin/.meta pairs of the run (of the one stream of a file given), checked before neo sizes each stream
    from its file's length."""
    from nwbconvert.readers.spikeglx import STREAM_RE

    if path.is_dir():
        files = [p for p in walk_files(path, max_depth=3) if STREAM_RE.search(p.name)]
    else:
        files = [p for p in (path.with_suffix(".bin"), path.with_suffix(".meta")) if p.exists()]
    notes: list[SourceNote] = []
    for base in sorted({p.parent / p.stem for p in files}):  # X.imec0.ap.bin -> X.imec0.ap
        match = STREAM_RE.search(base.name + ".bin")
        stream = match.group(1) if match else base.name
        if stream_excluded(stream, streams):
            continue
        notes += _pair(base, stream, options)
    return notes


def _pair(base: Path, stream: str, options: ReadOptions) -> list[SourceNote]:
    """One stream's .bin and .meta: both there, and the .bin as long as the .meta says."""
    from nwbconvert.readers.spikeglx import read_meta

    data, meta = base.parent / f"{base.name}.bin", base.parent / f"{base.name}.meta"
    if not meta.exists() or not data.exists():
        have, lost = (data, meta) if data.exists() else (meta, data)
        what = f"the {stream} stream's {'header' if lost is meta else 'data'} file {lost.name} (beside {have.name})"
        return [shortfall(lost, what, "the file", "no such file", options)]
    fields = read_meta(meta)
    n_saved = _number(fields.get("nSavedChans"))
    if not n_saved:
        return []
    row = 2 * int(n_saved)  # int16 samples of every saved channel
    declared = _number(fields.get("fileSizeBytes"))
    key = "fileSizeBytes"
    if declared is None:
        rate = _number(fields.get("imSampRate") or fields.get("niSampRate") or fields.get("obSampRate"))
        secs = _number(fields.get("fileTimeSecs"))
        declared = round(secs * rate) * row if rate and secs else None
        key = "fileTimeSecs"
    size = data.stat().st_size
    if declared is None or size >= declared:
        return []
    return [
        shortfall(
            data,
            f"the {stream} stream's samples",
            f"{plural(int(declared), 'byte')} ({plural(int(declared) // row, 'sample')}; {key} in {meta.name})",
            f"{plural(size, 'byte')} ({plural(size // row, 'whole sample')})",
            options,
        )
    ]


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None
