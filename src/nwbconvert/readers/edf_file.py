"""EDF/EDF+ and BDF/BDF+ files read from their own header, for what pyedflib refuses or neo misreads.

pyedflib refuses a file whose header's data-record count is -1 (a recording never stopped) or disagrees with
the file size ("not EDF(+) or BDF(+) compliant"), where MNE reads the records the file holds. neo's EDF reader
stores every sample as int16, which wraps BDF's 24-bit samples. `EdfLayout` is the header as the format defines
it; `OwnHeader` answers what neo asks pyedflib's reader, from it; `read_digital` reads samples from the records
in place (24-bit samples as int32).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ANNOTATIONS = "EDF Annotations"
BDF_ANNOTATIONS = "BDF Annotations"
_TAL = re.compile(rb"([+-]\d+(?:\.\d*)?)(?:\x15(\d+(?:\.\d*)?))?\x14(.*?)\x14\x00", re.DOTALL)


class HeaderError(ValueError):
    """A damaged EDF/BDF header, in plain words (the reader names the file and says what to do)."""


@dataclass(frozen=True)
class Signal:
    label: str
    dimension: str
    physical_min: float
    physical_max: float
    digital_min: int
    digital_max: int
    prefilter: str
    transducer: str
    samples_per_record: int
    offset: int  # bytes from the start of a data record

    @property
    def annotations(self) -> bool:
        return self.label in (ANNOTATIONS, BDF_ANNOTATIONS)


@dataclass(frozen=True)
class EdfLayout:
    """What an EDF/BDF header declares, and how many complete data records the file holds."""

    path: Path
    bdf: bool
    fields: dict[str, str]
    header_bytes: int
    declared_records: int  # -1: not known (the recording was not stopped)
    record_duration: float
    signals: tuple[Signal, ...]
    file_bytes: int

    @property
    def sample_bytes(self) -> int:
        return 3 if self.bdf else 2

    @property
    def record_bytes(self) -> int:
        return sum(s.samples_per_record for s in self.signals) * self.sample_bytes

    @property
    def file_records(self) -> int:
        """Complete data records in the file."""
        return max(self.file_bytes - self.header_bytes, 0) // self.record_bytes

    @property
    def partial_bytes(self) -> int:
        """Bytes of a last, incomplete data record."""
        return max(self.file_bytes - self.header_bytes, 0) % self.record_bytes

    @property
    def short(self) -> bool:
        """True when the file is shorter than the records its header declares."""
        declared = self.header_bytes + self.declared_records * self.record_bytes
        return self.declared_records >= 0 and self.file_bytes < declared

    @property
    def records(self) -> int:
        """The records to read: those the header declares, or (-1, or a shorter file) those the file holds."""
        return self.file_records if self.declared_records < 0 else min(self.declared_records, self.file_records)

    def data_signals(self) -> list[Signal]:
        """The sampled signals (pyedflib's and neo's numbering: annotation signals left out)."""
        return [s for s in self.signals if not s.annotations]


def _text(raw: bytes) -> str:
    return raw.decode("latin-1").strip()


def _number(path: Path, name: str, raw: bytes, kind: type = float) -> Any:
    text = _text(raw)
    try:
        return kind(text) if kind is float else int(float(text))
    except ValueError:
        raise HeaderError(f"the header field '{name}' holds {text!r} where a number is expected") from None


def read_layout(path: Path) -> EdfLayout:
    """The header of the EDF/BDF file at `path`; a damaged one raises `HeaderError`."""
    with path.open("rb") as f:
        main = f.read(256)
        if len(main) < 256:
            raise HeaderError(f"the file is {len(main)} bytes long, shorter than an EDF/BDF header (256 bytes)")
        count = _number(path, "number of signals", main[252:256], int)
        if not 0 < count < 100_000:
            raise HeaderError(f"the header declares {count} signals (it is damaged)")
        table = f.read(256 * count)
    if len(table) < 256 * count:
        raise HeaderError(f"the signal headers end early ({len(table)} of {256 * count} bytes)")
    widths = (16, 80, 8, 8, 8, 8, 8, 80, 8, 32)
    columns, at = [], 0
    for width in widths:
        columns.append([table[at + i * width : at + (i + 1) * width] for i in range(count)])
        at += width * count
    bdf = main[:8] == b"\xffBIOSEMI"
    signals, offset = [], 0
    for i in range(count):
        n = _number(path, f"samples per record of signal {i + 1}", columns[8][i], int)
        signals.append(
            Signal(
                label=_text(columns[0][i]),
                transducer=_text(columns[1][i]),
                dimension=_text(columns[2][i]),
                physical_min=_number(path, f"physical minimum of signal {i + 1}", columns[3][i]),
                physical_max=_number(path, f"physical maximum of signal {i + 1}", columns[4][i]),
                digital_min=_number(path, f"digital minimum of signal {i + 1}", columns[5][i], int),
                digital_max=_number(path, f"digital maximum of signal {i + 1}", columns[6][i], int),
                prefilter=_text(columns[7][i]),
                samples_per_record=n,
                offset=offset,
            )
        )
        offset += n * (3 if bdf else 2)
    if offset == 0:
        raise HeaderError("the header declares data records of 0 samples (it is damaged)")
    fields = {
        "patient": _text(main[8:88]),
        "recording": _text(main[88:168]),
        "startdate": _text(main[168:176]),
        "starttime": _text(main[176:184]),
        "reserved": _text(main[192:236]),
    }
    return EdfLayout(
        path=path,
        bdf=bdf,
        fields=fields,
        header_bytes=_number(path, "number of header bytes", main[184:192], int),
        declared_records=_number(path, "number of data records", main[236:244], int),
        record_duration=_number(path, "duration of a data record", main[244:252]),
        signals=tuple(signals),
        file_bytes=path.stat().st_size,
    )


def records_view(layout: EdfLayout) -> np.ndarray:
    """The data records as a (records, record bytes) uint8 view of the file."""
    if layout.records == 0:
        return np.zeros((0, layout.record_bytes), dtype=np.uint8)
    return np.memmap(
        layout.path, dtype=np.uint8, mode="r", offset=layout.header_bytes, shape=(layout.records, layout.record_bytes)
    )


def read_digital(layout: EdfLayout, records: np.ndarray, signal: Signal, start: int, stop: int) -> np.ndarray:
    """Digital samples [start, stop) of `signal`: int16 for EDF, int32 for BDF's 24-bit samples."""
    n = signal.samples_per_record
    first, last = start // n, -(-stop // n)
    width = n * layout.sample_bytes
    block = np.ascontiguousarray(records[first:last, signal.offset : signal.offset + width]).reshape(-1)
    if layout.bdf:
        triples = block.reshape(-1, 3).astype(np.int32)
        values = triples[:, 0] | (triples[:, 1] << 8) | (triples[:, 2] << 16)
        values = np.where(values >= 1 << 23, values - (1 << 24), values).astype(np.int32)
    else:
        values = block.view("<i2")
    return values[start - first * n : stop - first * n]


def _start(fields: dict[str, str]) -> dt.datetime | None:
    try:
        day, month, year = (int(v) for v in fields["startdate"].split("."))
        hour, minute, second = (int(v) for v in fields["starttime"].split("."))
        return dt.datetime(year + (1900 if year >= 85 else 2000), month, day, hour, minute, second)
    except ValueError:
        return None


def read_annotations(layout: EdfLayout, records: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """EDF+/BDF+ annotations (onsets, durations with -1 where none is given, texts), as pyedflib returns them;
    the time-keeping entry that opens each record is left out."""
    onsets, durations, texts = [], [], []
    for signal in (s for s in layout.signals if s.annotations):
        width = signal.samples_per_record * layout.sample_bytes
        for record in records[:, signal.offset : signal.offset + width]:
            for onset, duration, body in _TAL.findall(bytes(record)):
                for text in body.split(b"\x14"):
                    if text:
                        onsets.append(float(onset))
                        durations.append(float(duration) if duration else -1.0)
                        texts.append(text.decode("utf-8", "replace"))
    return np.array(onsets, dtype=float), np.array(durations, dtype=float), np.array(texts, dtype="U")


class OwnHeader:
    """What neo's EDF reader asks pyedflib's `EdfReader`, answered from `EdfLayout`."""

    def __init__(self, layout: EdfLayout) -> None:
        self.layout = layout
        self.datarecord_duration = layout.record_duration
        self.datarecords_in_file = layout.records

    def getHeader(self) -> dict[str, Any]:
        fields = self.layout.fields
        return {
            "patientname": fields["patient"],
            "recording_additional": fields["recording"],
            "startdate": _start(fields),
        }

    def getSignalHeaders(self) -> list[dict[str, Any]]:
        return [
            {
                "label": s.label,
                "dimension": s.dimension,
                "sample_frequency": s.samples_per_record / self.layout.record_duration,
                "physical_max": s.physical_max,
                "physical_min": s.physical_min,
                "digital_max": s.digital_max,
                "digital_min": s.digital_min,
                "prefilter": s.prefilter,
                "transducer": s.transducer,
            }
            for s in self.layout.data_signals()
        ]

    def getNSamples(self) -> np.ndarray:
        return np.array([s.samples_per_record * self.layout.records for s in self.layout.data_signals()])

    def readAnnotations(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return read_annotations(self.layout, records_view(self.layout))

    def close(self) -> None:
        pass
