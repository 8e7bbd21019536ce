"""neo event and epoch channels -> `EventChannel`s (times in seconds on the session clock, labels kept)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from nwbconvert.model import EventChannel
from nwbconvert.units import camel, label

if TYPE_CHECKING:
    from neo.rawio.baserawio import BaseRawIO

EventTimestamps = Callable[[int, int, int], tuple[Any, Any, Any]]  # (block, segment, channel) -> neo's triple


def events_from_rawio(rawio: BaseRawIO, timestamps: EventTimestamps | None = None) -> list[EventChannel]:
    """Every event/epoch channel of every block and segment; empty channels are kept (the source declares them).
    `timestamps` replaces neo's `get_event_timestamps` (same results) where a reader has a better way."""
    if timestamps is None:
        timestamps = partial(_neo_timestamps, rawio)
    header = rawio.header
    n_blocks = rawio.block_count()
    used: set[str] = set()
    channels: list[EventChannel] = []
    for index, row in enumerate(header["event_channels"]):
        source_name = label(row["name"])
        is_epoch = _is_epoch(row["type"])
        times, durations, labels, blocks = [], [], [], []
        has_durations = is_epoch
        for block in range(n_blocks):
            for seg in range(rawio.segment_count(block)):
                raw_times, raw_durations, seg_labels = timestamps(block, seg, index)
                times.append(rawio.rescale_event_timestamp(raw_times, dtype="float64", event_channel_index=index))
                labels.append(_labels(seg_labels))
                blocks.append(np.full(len(raw_times), block, dtype="int64"))
                if raw_durations is not None:
                    has_durations = True
                    durations.append(
                        rawio.rescale_epoch_duration(raw_durations, dtype="float64", event_channel_index=index)
                    )
                else:
                    durations.append(np.full(len(raw_times), np.nan))
        channels.append(
            EventChannel(
                name=_unique(_table_name(source_name, index), used),
                source_name=source_name,
                times_s=np.concatenate(times) if times else np.empty(0),
                labels=np.concatenate(labels) if labels else np.empty(0, dtype=str),
                durations_s=_known(np.concatenate(durations)) if has_durations and durations else None,
                blocks=np.concatenate(blocks) if n_blocks > 1 and blocks else None,
                description=f"{'Epoch' if is_epoch else 'Event'} channel '{source_name}' (id '{label(row['id'])}').",
            )
        )
    return channels


def _neo_timestamps(rawio: BaseRawIO, block: int, segment: int, index: int) -> tuple[Any, Any, Any]:
    return rawio.get_event_timestamps(block_index=block, seg_index=segment, event_channel_index=index)


def _labels(raw: Any) -> np.ndarray:
    """Event labels as text, each cut at its first NUL byte (see units.label)."""
    text = np.asarray(raw).astype(str)
    return np.array([label(t) for t in text.tolist()], dtype=str) if text.size else text


def _table_name(source_name: str, index: int) -> str:
    label = camel(source_name) or str(index)
    return label if label.startswith("Events") else f"Events{label}"


def _is_epoch(kind: Any) -> bool:
    return (kind.decode() if isinstance(kind, bytes) else str(kind)) == "epoch"


def _known(durations: np.ndarray) -> np.ndarray:
    """Negative durations are how some sources (EDF+) say 'unspecified': NWB uses NaN for that."""
    out = durations.astype("float64", copy=True)
    out[out < 0] = np.nan
    return out


def _unique(name: str, used: set[str]) -> str:
    candidate, n = name, 2
    while candidate in used:
        candidate, n = f"{name}{n}", n + 1
    used.add(candidate)
    return candidate
