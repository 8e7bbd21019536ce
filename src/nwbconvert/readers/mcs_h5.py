"""The analog streams of a Multi Channel Systems HDF5 file, read in the vendor's layout with h5py.

Each `/Data/Recording_0/AnalogStream/Stream_N` holds `ChannelData` (channels x samples), `InfoChannel` (per
channel: `RowIndex`, `Unit`, `Tick` in µs, `ConversionFactor`, `Exponent`, `ADZero`) and `ChannelDataTimeStamps`,
rows of `[timestamp of the first sample (µs), first index, last index]`, one per gap-free stretch. Values are
`(raw - ADZero) * ConversionFactor * 10**Exponent` in `Unit`, as McsPyDataTools (the vendor's library) computes
them. (spikeinterface's reader asserts that the first timestamp is below the last index, which fails for a
stream that does not start at time 0, and reads every stretch as one.)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

STREAMS = "/Data/Recording_0/AnalogStream"
MICROSECOND = 1e-6  # MCS timestamps and ticks


@dataclass(eq=False)
class H5Traces:
    """`LazyTraces` over samples [first, last] of some rows of one stream's `ChannelData` (channels x samples)."""

    path: Path
    dataset: str
    rows: tuple[int, ...]
    first: int
    n_samples: int
    raw_dtype: np.dtype
    stream_rows: int  # rows of the whole dataset (a sample of every channel is read together)
    _file: Any = field(default=None, repr=False)

    @property
    def shape(self) -> tuple[int, int]:
        return (self.n_samples, len(self.rows))

    @property
    def dtype(self) -> np.dtype:
        return self.raw_dtype

    @property
    def row_bytes(self) -> int:
        return self.stream_rows * self.raw_dtype.itemsize

    def prefetch(self, start: int, stop: int) -> None:
        pass  # HDF5 chunks: the library knows where they lie

    def read(self, start: int, stop: int, channels: slice | list[int] | None = None) -> np.ndarray:
        import h5py

        rows = np.array(self.rows)[channels] if channels is not None else np.array(self.rows)
        stop = min(stop, self.n_samples)
        if stop <= start or len(rows) == 0:
            return np.empty((0, len(rows)), dtype=self.raw_dtype)
        if self._file is None:
            self._file = h5py.File(self.path, "r")
        order = np.argsort(rows, kind="stable")  # h5py reads rows in increasing order only
        block = self._file[self.dataset][rows[order].tolist(), self.first + start : self.first + stop]
        out = np.empty((stop - start, len(rows)), dtype=self.raw_dtype)
        out[:, order] = block.T
        return out


@dataclass(frozen=True)
class McsChannel:
    channel_id: int
    row: int
    label: str
    unit: str
    gain: float  # unit per raw step
    offset: float  # in unit: -ADZero * gain
    tick_us: int


@dataclass(frozen=True)
class McsStream:
    """One analog stream: its channels and its gap-free stretches (start in s, first index, sample count)."""

    stream_id: int
    subtype: str
    label: str
    channels: tuple[McsChannel, ...]
    stretches: tuple[tuple[float, int, int], ...]
    n_samples: int  # columns of ChannelData
    n_rows: int
    dtype: np.dtype

    @property
    def dataset(self) -> str:
        return f"{STREAMS}/Stream_{self.stream_id}/ChannelData"


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _channels(info: np.ndarray) -> tuple[McsChannel, ...]:
    out = []
    for row in info:
        gain = float(row["ConversionFactor"]) * 10.0 ** float(row["Exponent"])
        out.append(
            McsChannel(
                channel_id=int(row["ChannelID"]),
                row=int(row["RowIndex"]),
                label=_text(row["Label"]),
                unit=_text(row["Unit"]),
                gain=gain,
                offset=-float(row["ADZero"]) * gain,
                tick_us=int(row["Tick"]),
            )
        )
    return tuple(sorted(out, key=lambda c: c.row))


def read_streams(path: Path) -> list[McsStream]:
    """Every analog stream of the file, in stream-number order."""
    import h5py

    streams = []
    with h5py.File(path, "r") as f:
        for name in sorted(f[STREAMS], key=lambda n: int(n.split("_")[1])):
            group = f[f"{STREAMS}/{name}"]
            data = group["ChannelData"]
            stamps = np.asarray(group["ChannelDataTimeStamps"][()], dtype=np.int64).reshape(-1, 3)
            stretches = tuple(
                (float(t) * MICROSECOND, int(first), int(last) - int(first) + 1) for t, first, last in stamps
            )
            streams.append(
                McsStream(
                    stream_id=int(name.split("_")[1]),
                    subtype=_text(group.attrs.get("DataSubType", "")),
                    label=_text(group.attrs.get("Label", "")),
                    channels=_channels(group["InfoChannel"][()]),
                    stretches=stretches,
                    n_samples=int(data.shape[1]),
                    n_rows=int(data.shape[0]),
                    dtype=data.dtype,
                )
            )
    return streams


def start_time(path: Path) -> dt.datetime | None:
    """The recording's date (`DateInTicks` of `/Data`: .NET ticks of 100 ns since 0001-01-01), if given."""
    import h5py

    with h5py.File(path, "r") as f:
        ticks = f["Data"].attrs.get("DateInTicks") if "Data" in f else None
    if ticks is None or int(ticks) <= 0:
        return None
    return dt.datetime(1, 1, 1) + dt.timedelta(microseconds=int(ticks) // 10)
