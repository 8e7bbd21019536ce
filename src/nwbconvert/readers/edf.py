"""EDF/EDF+ and BDF files (read through pyedflib, the `edf` extra)."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from nwbconvert.errors import SourceError
from nwbconvert.model import Session, SignalKind, SourceNote
from nwbconvert.readers.base import Match, ReadOptions, head, shortfall
from nwbconvert.readers.neo_adapter import DEFAULT_POLICY, StreamPolicy, default_series_name, series_prefix
from nwbconvert.readers.neo_reader import NeoReader

if TYPE_CHECKING:
    from neo.rawio.baserawio import BaseRawIO

    from nwbconvert.readers.edf_file import EdfLayout

_RATE = re.compile(r"\d+(?:\.\d*)?(?:[eE][-+]?\d+)?")


def rate_label(rate: float) -> str:
    """512.0 -> '512', 0.5 -> '0p5', 1e-07 -> '1em07': the rate as NWB names can hold it."""
    text = repr(float(rate))
    text = text[:-2] if text.endswith(".0") else text
    return text.replace(".", "p").replace("-", "m").replace("+", "")


def series_name(stream_name: str, kind: SignalKind) -> str:
    """neo names an EDF stream after its one sampling rate ('stream ((512.0,) Hz)' in neo 0.14, where camel case
    made 'Stream5120Hz'): the series is the type and that rate, e.g. ElectricalSeries512Hz."""
    found = _RATE.search(stream_name)
    if found is None:
        return default_series_name(stream_name, kind)
    return f"{series_prefix(kind)}{rate_label(float(found.group()))}Hz"


class EDFReader(NeoReader):
    name = "edf"
    description = "European Data Format file (EDF/EDF+/BDF)"
    suffixes = (".edf", ".bdf")
    verified = "real"  # tests/test_roundtrip.py converts a real file
    input_kind = "file"
    requires = (("pyedflib", "edf"),)
    rawio_class = "EDFRawIO"

    def probe(self, path: Path) -> Match:
        if path.is_file() and head(path, 8) in (b"0       ", b"\xffBIOSEMI"):
            return Match.CONTENT
        return Match.SUFFIX if path.suffix.lower() in self.suffixes else Match.NO

    def policy(self, path: Path, rawio: BaseRawIO) -> StreamPolicy:
        return StreamPolicy(kind=DEFAULT_POLICY.kind, series_name=series_name)

    def open_rawio(self, path: Path) -> BaseRawIO:
        """neo's EDF reader, samples read from the records in place; the header read by nwbconvert where pyedflib
        refuses the file (a record count of -1 or one the file size disagrees with), as MNE reads it."""
        from nwbconvert.readers.edf_file import read_layout
        from nwbconvert.readers.edf_rawio import RecordsEDFRawIO, pyedflib_refuses

        layout = read_layout(path)
        own = layout.declared_records < 0 or layout.short or pyedflib_refuses(path) is not None
        return RecordsEDFRawIO(str(path), own_header=own)

    def read(self, path: Path, options: ReadOptions) -> Session:
        from nwbconvert.readers.edf_file import HeaderError, read_layout

        with self.reading(path):
            try:
                layout = read_layout(path)
            except HeaderError as exc:  # said in plain words here, not by the generic explanation
                message = f"{path}: could not be read as {self.description} ({exc}). {self.unreadable_advice}"
                raise SourceError(message) from exc
        notes = completeness(layout, options)
        session = super().read(path, options)
        return replace(session, notes=session.notes + tuple(notes)) if notes else session


def completeness(layout: EdfLayout, options: ReadOptions) -> list[SourceNote]:
    """A file holding fewer data records than its header declares is a truncated copy (an error, or with
    --allow-incomplete a note); records beyond the declared count are said, not dropped silently; a record count
    of -1 (a recording not stopped) is taken from the file size, and a last record cut short there is said."""
    path, declared, found = layout.path, layout.declared_records, layout.file_records
    if layout.short:
        expected = f"{declared} data records ({layout.header_bytes + declared * layout.record_bytes} bytes)"
        actual = f"{found} complete data records ({layout.file_bytes} bytes)"
        return [shortfall(path, "the EDF/BDF data records", expected, actual, options)]
    if 0 <= declared < found:
        message = (
            f"{path}: the file holds {found} complete data records, {found - declared} more than its header declares "
            f"({declared}); only the declared ones are converted (MNE reads them all). Check which count is right."
        )
        return [SourceNote("extra-records", str(path), message, f"{declared} data records", f"{found} data records")]
    if declared < 0 and layout.partial_bytes:
        message = (
            f"{path}: the header's data-record count is -1 (the recording was not stopped); the file holds {found} "
            f"complete data records and {layout.partial_bytes} bytes of an incomplete last one, which is left out."
        )
        return [SourceNote("partial-record", str(path), message)]
    return []
