"""neo's EDF reader with samples read from the data records in place (BDF's 24-bit samples as int32, where neo
wraps them to int16), and the header read by nwbconvert where pyedflib refuses the file (see edf_file)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from neo.rawio import EDFRawIO

from nwbconvert.readers.edf_file import EdfLayout, OwnHeader, read_digital, read_layout, records_view


def pyedflib_refuses(path: Path) -> str | None:
    """pyedflib's reason for refusing the file, or None when it opens it."""
    from pyedflib import EdfReader

    try:
        EdfReader(str(path)).close()
    except OSError as exc:
        return str(exc)
    return None


class RecordsEDFRawIO(EDFRawIO):
    """`EDFRawIO` over an `EdfLayout`: pyedflib reads the header and annotations unless `own_header`."""

    def __init__(self, filename: str, own_header: bool) -> None:
        super().__init__(filename=filename)
        self.own_header = own_header
        self.layout: EdfLayout = read_layout(Path(filename))
        self._records: np.ndarray | None = None

    def _open_reader(self) -> None:
        if self.own_header:
            self.edf_reader = OwnHeader(self.layout)
        else:
            super()._open_reader()

    def _parse_header(self) -> None:
        super()._parse_header()
        if self.layout.bdf:
            self.header["signal_channels"]["dtype"] = "int32"

    def _get_analogsignal_chunk(
        self,
        block_index: int,
        seg_index: int,
        i_start: int | None,
        i_stop: int | None,
        stream_index: int,
        channel_indexes: Any,
    ) -> np.ndarray:
        if self._records is None:
            self._records = records_view(self.layout)
        chosen = self.stream_idx_to_chidx[stream_index]
        chosen = chosen if channel_indexes is None else chosen[channel_indexes]
        start = i_start or 0
        stop = self.get_signal_size(block_index, seg_index, stream_index) if i_stop is None else i_stop
        signals = self.layout.data_signals()
        dtype = np.int32 if self.layout.bdf else np.int16
        out = np.empty((max(stop - start, 0), len(chosen)), dtype=dtype)
        for column, index in enumerate(chosen):
            out[:, column] = read_digital(self.layout, self._records, signals[int(index)], start, stop)
        return out
