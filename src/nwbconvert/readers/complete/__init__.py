"""Is the copy complete? Checks of a source against what its own headers declare, one module per format.

`read_checked` is the one place they run (pipeline.read_source calls it instead of `reader.read`): a format's
`before` looks at the files before the reader opens them (a data file shorter than its header says, a header
without its data file), its `after` compares what the reader returned with the headers (events neo dropped).
Each shortfall goes through `readers.base.shortfall`: an error (exit 3), or with --allow-incomplete a note that
the CLI prints as a warning and the provenance records.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from nwbconvert.errors import NwbConvertError, SourceError

if TYPE_CHECKING:
    from nwbconvert.model import Session, SourceNote
    from nwbconvert.readers.base import Reader, ReadOptions

Before = Callable[[Path, "ReadOptions", Sequence[str]], "list[SourceNote]"]
Checked = tuple["Session", "list[SourceNote]"]  # the session (samples of a cut file re-read) and the shortfalls
After = Callable[[Path, "Session", "ReadOptions", Sequence[str]], Checked]

T = TypeVar("T")

MODULES = {  # reader name -> module of this package with `before` and/or `after`
    "spikeglx": "spikeglx",
    "blackrock": "blackrock",
    "neuralynx": "neuralynx",
    "openephys-binary": "openephys_binary",
    "openephys-legacy": "openephys_legacy",
    "brainvision": "brainvision",
}


def read_checked(reader: Reader, path: Path, options: ReadOptions, streams: Sequence[str] = ()) -> Session:
    """`reader.read(path, options)`, with the shortfalls of an incomplete copy refused (exit 3) or, with
    --allow-incomplete, added to the session's notes. `streams` are the --stream values (a missing file of a
    stream left out is no shortfall)."""
    name = MODULES.get(reader.name)
    if name is None:
        return reader.read(path, options)
    module = importlib.import_module(f"{__name__}.{name}")
    before: Before | None = getattr(module, "before", None)
    after: After | None = getattr(module, "after", None)
    none: list[SourceNote] = []
    notes = _guarded(lambda: before(path, options, streams), none) if before else none
    try:
        session = reader.read(path, options)
    except SourceError as exc:
        if not notes:
            raise
        found = "; ".join(f"{n.path}: expected {n.expected}, found {n.found}" for n in notes)
        raise SourceError(
            f"{exc} The copy looks incomplete ({found}), and what is there cannot be read even with "
            "--allow-incomplete: copy the recording again from where it was recorded, or move the incomplete "
            "files aside to convert the others."
        ) from exc
    if after is not None:
        read = session
        session, found_after = _guarded(lambda: after(path, read, options, streams), (read, none))
        notes = [*notes, *found_after]
    return replace(session, notes=session.notes + tuple(notes)) if notes else session


def _guarded(check: Callable[[], T], fallback: T) -> T:
    """A check's result; a check that cannot make sense of a damaged file (an unexpected layout: a field that
    does not parse, a structure cut short) leaves the file to the reader's own refusal instead of failing a
    conversion. Its shortfall errors pass, and so do its own bugs."""
    import struct

    try:
        return check()
    except NwbConvertError:
        raise
    except (OSError, ValueError, KeyError, IndexError, struct.error):
        return fallback


def stream_excluded(stream: str, streams: Sequence[str]) -> bool:
    """True when --stream values were given and none names `stream` (its id, or a series name holding it)."""
    if not streams:
        return False
    key = _key(stream)
    return not any(key in _key(s) for s in streams)


def _key(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum())


def number(n: int) -> str:
    """Thousands separated by spaces: '7 200 000'."""
    return f"{n:,}".replace(",", " ")


def plural(n: int, word: str) -> str:
    """'1 sample', '3 samples', '7 200 000 samples'."""
    return f"{number(n)} {word}{'' if n == 1 else 's'}"
