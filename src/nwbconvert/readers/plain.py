"""A reader library's exception said in plain words: which file, what kind of damage, never the exception's name.

`explain(exc, source)` is the one place that turns what neo, spikeinterface, h5py, pyedflib, numpy and the
standard library raise on a damaged or unusual source into a sentence a user can act on. The library's own text
stays in the traceback that `--debug` prints.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

EXCEPTION_NAME = re.compile(r"\b[A-Z][a-zA-Z]*(Error|Exception|Warning)\b")
_FILE_LOCALS = ("filename", "file_name", "fname", "filepath", "file_path", "path", "name", "file")
_SHORT = "is shorter than its header says: the copy looks truncated or incompletely copied"


def damaged_file(exc: BaseException, source: Path) -> Path | None:
    """The file the library was reading when it failed, when the exception or its traceback names one."""
    named = getattr(exc, "filename", None)
    if isinstance(named, str | os.PathLike) and Path(named).is_file():
        return Path(named)
    tb = exc.__traceback__
    frames = []
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    for frame in reversed(frames):  # the innermost frame names the file closest to the failure
        for key in _FILE_LOCALS:
            value = frame.f_locals.get(key)
            if isinstance(value, str | os.PathLike) and str(value) and Path(value).is_file():
                return Path(value)
    return source if source.is_file() else None


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
    (r"truncated|eof = \d+|end of file|unexpected eof|not enough data|premature end|exceeds the file size",
     f"{{file}} {_SHORT}"),
    (r"unpack requires a buffer|buffer size must be|read length|cannot read \d+ bytes",
     "{file} ends inside its header: the copy looks truncated or damaged"),
    (r"cannot reshape array|total size of new array|size must be a multiple|not a multiple",
     "the data's size does not fit the channel count or sample size the header declares"),
    (r"could not convert string to (float|int)|invalid literal for int",
     "a header field that must be a number is not one"),
    (r"signature|magic|not an? .*file|file signature not found|bad superblock|not .*compliant",
     "the file does not start the way this format does: its first bytes are damaged, or it is another format"),
    (r"no such file|does not exist|not found|missing", "a file it needs is missing"),
    (r"expecting value|expecting property name|json|unterminated string",
     "a JSON header could not be parsed: it is damaged or cut short"),
    (r"xml|not well-formed|no element found|mismatched tag",
     "an XML header could not be parsed: it is damaged or cut short"),
    (r"day is out of range|month must be|year \d+ is out of range|(hour|minute|second) must be",
     "the recording's date or time in the header is not a valid date"),
    (r"out of bounds|index \d+ is out|out of range",
     "a header field points outside the data the file holds: the copy may be truncated or the header damaged"),
    (r"unique ids|duplicate", "the header declares the same channel or stream twice"),
    (r"filter returned failure|can't (synchronously )?read data|addr overflow|bad object header|unable to",
     "the HDF5 file's internal structure is damaged"),
)  # fmt: skip


def explain(exc: BaseException, source: Path) -> str:
    """What is wrong with `source`, in plain words: the damaged file (when it can be told) and the kind of damage."""
    text = " ".join(str(a) for a in exc.args) if exc.args else str(exc)
    what = next((m for p, m in _BY_TEXT if re.search(p, text, re.IGNORECASE)), None)
    if what is None or isinstance(exc, KeyError | UnicodeDecodeError | FileNotFoundError):
        what = _by_type(exc) or what
    if what is None:
        what = "the library reading this format could not make sense of its contents; it may be damaged or unusual"
    file = damaged_file(exc, source)
    where = None
    if file is not None and file != source:
        where = str(file.relative_to(source) if source.is_dir() and file.is_relative_to(source) else file)
    if "{file}" in what:
        return what.replace("{file}", where or ("a data file" if source.is_dir() else "the file"))
    return f"{what}, in {where}" if where else what
