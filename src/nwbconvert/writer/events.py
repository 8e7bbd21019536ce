"""Event and epoch channels -> core NWB `EventsTable`s (NWB 2.9+), one table per source channel.

Why EventsTable: it is core NWB (no extension to cache or install), anchors each row at a timestamp with
an optional duration (NaN for instantaneous events), and takes extra columns, so TTL lines/words, messages,
markers and annotations keep their labels exactly. It replaces the ndx-events extension it came from.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nwbconvert.model import EventChannel


def add_events(nwbfile: Any, channels: tuple[EventChannel, ...]) -> None:
    """One table per channel that holds events. Channels a source declares but never used (46 of a Plexon file's
    49) are not written: an empty table carries no data and NWB Inspector flags it; provenance lists them."""
    for channel in channels:
        if len(channel):
            nwbfile.add_events_table(_table(channel))


def _table(channel: EventChannel) -> Any:
    from hdmf.common import VectorData
    from pynwb.event import DurationVectorData, EventsTable, TimestampVectorData

    order = np.argsort(channel.times_s, kind="stable")  # rows in time order; labels and blocks follow
    columns = [
        TimestampVectorData(
            name="timestamp", description="Event time in seconds from the session start.", data=channel.times_s[order]
        )
    ]
    if channel.durations_s is not None:
        columns.append(
            DurationVectorData(
                name="duration", description="Duration in seconds (NaN: unknown).", data=channel.durations_s[order]
            )
        )
    if len(channel):  # an empty text column only trips NWB Inspector's checks; the table says enough
        labels = np.asarray(channel.labels[order]).astype(str)
        columns.append(VectorData(name="label", description="Label in the source (TTL line, word, text).", data=labels))
    if channel.blocks is not None:
        columns.append(
            VectorData(
                name="block",
                description="Source block (recording/experiment) whose clock the timestamp refers to, from 1.",
                data=(channel.blocks[order] + 1).astype("int64"),
            )
        )
    return EventsTable(
        name=channel.name,
        description=channel.description or f"Events of channel '{channel.source_name}' in the source.",
        source_description="Acquisition system",
        columns=columns,
    )
