"""A reader library's exception said in plain words: which file, what kind of damage, never the exception's name.

`explain(exc, source)` is the one place that turns what neo, spikeinterface, h5py, pyedflib, numpy and the
standard library raise on a damaged or unusual source into a sentence a user can act on. The library's own text
stays in the traceback that `--debug` prints.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from nwbconvert.readers.base import walk_files

EXCEPTION_NAME = re.compile(r"\b[A-Z][a-zA-Z]*(Error|Exception|Warning)\b")
_FILE_LOCALS = ("filename", "file_name", "fname", "filepath", "file_path", "path", "name", "file")
_SHORT = "is shorter than its header says: the copy looks truncated or incompletely copied"


def damaged_file(exc: BaseException, source: Path, reading: bool) -> Path | None:
    """The file the library failed on, when it can be told: the exception's own `filename`, a file of the source
    its text names, or (for a failure to read a file's bytes, `reading`) the file the innermost frame was reading."""
    named = getattr(exc, "filename", None)
    if isinstance(named, str | os.PathLike) and Path(named).is_file():
        return Path(named)
    text = str(exc)
    if source.is_dir():
        mentioned = [p for p in walk_files(source) if p.name in text]
        if mentioned:
            return max(mentioned, key=lambda p: len(p.name))
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if reading and tb is not None:  # the frame that raised: the file it was opening or mapping
        for key in _FILE_LOCALS:
            value = tb.tb_frame.f_locals.get(key)
            if isinstance(value, str | os.PathLike) and str(value) and Path(value).is_file():
                return Path(value)
    return None


def _token(text: str, limit: int = 60) -> str:
    """A field name or value quoted from the library, without any exception name, at most `limit` characters."""
    cleaned = EXCEPTION_NAME.sub("", text).strip(" '\"")
    return cleaned[:limit] + ("..." if len(cleaned) > limit else "")


def _by_type(exc: BaseException) -> str | None:
    """The damage an exception's type tells, whatever its text."""
    if isinstance(exc, KeyError):
        field = exc.args[0] if exc.args else ""
        if isinstance(field, str) and "Unable to" in field:  # h5py raises KeyError for an object it cannot open
            return "an object inside the HDF5 file cannot be opened: the file looks damaged"
        return (
            f"the header has no field '{_token(str(field))}': it is damaged, or written by a version this reader "
            "does not know"
        )
    if isinstance(exc, json.JSONDecodeError):
        return f"a JSON header could not be parsed at line {exc.lineno}, column {exc.colno}: it is damaged or cut short"
    if isinstance(exc, UnicodeDecodeError):
        return f"a text header holds bytes that are not {exc.encoding} text, at byte {exc.start}; it may be damaged"
    if isinstance(exc, FileNotFoundError):
        return f"a file it needs is missing: {Path(exc.filename).name if exc.filename else 'a sibling file'}"
    if isinstance(exc, EOFError):
        return "a file ends before its contents do: the copy looks truncated"
    if isinstance(exc, ZeroDivisionError):
        return "a header field that must not be zero, a sampling rate, a count or a size, is 0"
    if isinstance(exc, MemoryError | OverflowError):
        return "a header field declares an impossible size: the header looks damaged"
    if isinstance(exc, UnboundLocalError | NameError):
        return "the library's reader did not find a part of the file it needs, a header or a data block"
    if isinstance(exc, AssertionError):
        return "the library's consistency check of the file's contents failed: a header and the data disagree"
    return None


_BY_TEXT: tuple[tuple[str, str], ...] = (  # (pattern in the library's text, what it means), first match wins
    (r"mmap length is greater than file size|buffer is smaller than requested|cannot mmap an empty",
     f"{{file}} {_SHORT}"),
    (r"truncated|\beof\b|end of file|not enough data|premature end|exceeds the file size|not fully written|"
     r"failed to read all data", f"{{file}} {_SHORT}"),
    (r"pickled|allow_pickle", "{file} does not hold plain numbers where its header says it does: it is damaged"),
    (r"cannot parse header|header is not a dictionary|header does not contain|descr is not a valid dtype",
     "{file} is a .npy array whose header is damaged: numpy cannot tell its type and shape"),
    (r"invalid load key|unpickling stack underflow|could not find MARK",
     "{file} is a damaged pickled file (a Python object saved with pickle): its bytes do not decode"),
    (r"unpack requires a buffer|buffer size must be|read length|cannot read \d+ bytes",
     "{file} ends inside its header: the copy looks truncated or damaged"),
    (r"cannot reshape array|total size of new array|size must be a multiple|not a multiple|must be a divisor",
     "the data's size does not fit the channel count or sample size the header declares"),
    (r"could not convert string to (float|int)|invalid literal for int",
     "a header field that must be a number is not one"),
    (r"signature|magic|not an? .*file|file signature not found|bad superblock|not .*compliant",
     "the file does not start the way this format does: its first bytes are damaged, or it is another format"),
    (r"no such file|does not exist|not found|missing", "a file it needs is missing"),
    (r"expecting|json|unterminated string", "a JSON header could not be parsed: it is damaged or cut short"),
    (r"xml|not well-formed|no element found|mismatched tag",
     "an XML header could not be parsed: it is damaged or cut short"),
    (r"day is out of range|month must be|year \d+ is out of range|(hour|minute|second) must be",
     "the recording's date or time in the header is not a valid date"),
    (r"out of bounds|index \d+ is out|out of range",
     "a header field points outside the data the file holds: the copy may be truncated or the header damaged"),
    (r"unique ids|duplicate", "the header declares the same channel or stream twice"),
    (r"timestamps are not continuous|timestamps with zero values|negative differences|corrupted timestamps",
     "the timestamps in {file} are damaged: they jump, are zero or go backwards"),
    (r"different sections structures", "the channel files disagree on where the recording's segments start: "
     "one of them is damaged"),
    (r"labels for this event", "an event channel's files are missing or damaged: its labels cannot be read"),
    (r"filter returned failure|can't (synchronously )?read data|addr overflow|bad object header|unable to",
     "the HDF5 file's internal structure is damaged"),
)  # fmt: skip


def explain(exc: BaseException, source: Path) -> str:
    """What is wrong with `source`, in plain words: the damaged file (when it can be told) and the kind of damage."""
    what, cause = None, exc
    for _ in range(3):  # a library's wrapper with no words of its own: what it wraps tells
        text = " ".join(str(a) for a in cause.args) if cause.args else str(cause)
        what = next((m for p, m in _BY_TEXT if re.search(p, text, re.IGNORECASE)), None)
        if what is None or isinstance(cause, KeyError | UnicodeDecodeError | FileNotFoundError | json.JSONDecodeError):
            what = _by_type(cause) or what
        inner = cause.__cause__ or (None if cause.__suppress_context__ else cause.__context__)  # `raise … from None`
        if what is not None or not isinstance(inner, Exception):
            break
        cause = inner
    if what is None:
        what = "the library reading this format could not make sense of its contents; it may be damaged or unusual"
    file = damaged_file(cause, source, "{file}" in what) or damaged_file(exc, source, "{file}" in what)
    where = None
    if file is not None and file != source:
        where = str(file.relative_to(source) if source.is_dir() and file.is_relative_to(source) else file)
    if "{file}" in what:
        return what.replace("{file}", where or ("a data file" if source.is_dir() else "the file"))
    return f"{what}, in {where}" if where else what
