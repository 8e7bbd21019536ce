"""Is a TIFF copy whole: the pages whose data is all in the file (`whole_pages`: a copy cut short holds fewer than
it declares, a `shortfall`), and the damage tifffile read past in a copy otherwise whole (`refuse_damaged`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nwbconvert.errors import SourceError
from nwbconvert.readers.ophys.base import tiff_damage


def refuse_damaged(path: Path, said: Sequence[logging.LogRecord]) -> None:
    """Refuse in plain words (exit 3) a TIFF whose page directories tifffile read past damaged (`said`: its log
    records, `tifffile_complaints`). Only for a copy otherwise whole: one cut short is a `shortfall`."""
    damage = tiff_damage(said)
    if damage is not None:
        raise SourceError(f"{path}: {damage}. The copy looks damaged: copy the file again from where it was recorded.")


def _whole(page: Any, size: int) -> bool:
    """The page has data offsets, their byte counts cover its data (decoded size; uncompressed) and they end
    inside a file of `size` bytes (a page directory cut short loses its offsets, a file cut short its data)."""
    offsets, counts = tuple(page.dataoffsets), tuple(page.databytecounts)
    needed = int(np.prod(page.shape)) * page.dtype.itemsize if page.compression == 1 else 1
    if not offsets or len(offsets) != len(counts) or sum(counts) < needed:
        return False
    return max(o + c for o, c in zip(offsets, counts)) <= size


def whole_pages(tif: Any, declared: int, offset: int | None) -> tuple[int, int]:
    """(pages whose data is all in the file, pages the file declares): a copy cut short holds fewer. Its last IFD
    then links to one past the end (tifffile stops there), or the last pages' offsets or data are lost (`_whole`)."""
    size = tif.filehandle.size
    page = tif.pages.first
    if offset is not None:  # ImageJ: `declared` contiguous pages from `offset`
        frame = int(np.prod(page.shape)) * page.dtype.itemsize
        return min(declared, max(0, size - offset) // frame), declared
    pointer = tif.pages.next_page_offset
    if pointer:
        tif.filehandle.seek(pointer)
        raw = tif.filehandle.read(tif.tiff.offsetsize)
        if len(raw) < tif.tiff.offsetsize or int.from_bytes(raw, "little" if tif.byteorder == "<" else "big"):
            declared += 1  # at least one more page was linked
    n = len(tif.pages)
    while n and not _whole(tif.pages[n - 1], size):
        n -= 1
    return n, max(declared, n)
