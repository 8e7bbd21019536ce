"""The extracellular electrodes table and its electrode groups, built from whole columns."""

from __future__ import annotations

from typing import Any

import numpy as np

from nwbconvert.metadata.model import ElectrodeGroupLayer
from nwbconvert.model import Channel, Recording
from nwbconvert.writer.places import electrode_group_name


class Electrodes:
    """Rows of the electrodes table, shared by series that record the same contacts (e.g. AP and LF).

    An electrode group's `location` (brain area) and `description` come from the metadata's
    `electrode_groups.<name>` when given; the location is also each of its rows' `location`, unless the source
    names the contact's own brain area (`Channel.location`: IBL channels' acronyms). Rows are collected
    first and the table is made from whole columns (`write`): pynwb's add_electrode costs ~1 ms a row.
    """

    def __init__(
        self,
        nwbfile: Any,
        devices: dict[str, Any],
        channels: list[Channel],
        groups_metadata: dict[str, ElectrodeGroupLayer],
    ) -> None:
        self.nwbfile = nwbfile
        self.devices = devices
        self.groups_metadata = groups_metadata
        self.rows: dict[tuple[str, str], int] = {}
        self.groups: dict[str, Any] = {}
        # optional columns only when some channel has a value (all-empty columns are noise)
        positions = any(ch.position_um is not None for ch in channels)
        contacts = any(ch.contact_id for ch in channels)
        shanks = any(ch.shank for ch in channels)
        self.columns: dict[str, list[Any]] = {"location": [], "group": [], "group_name": [], "channel_name": []}
        self.columns |= {"rel_x": [], "rel_y": []} if positions else {}
        self.columns |= {"contact_id": []} if contacts else {}
        self.columns |= {"shank": []} if shanks else {}

    def row(self, rec: Recording, ch: Channel) -> int:
        group = self._group(rec, ch)
        key = (group.name, ch.contact_id or f"{rec.name}/{ch.id}")
        if key not in self.rows:
            x, y = ch.position_um if ch.position_um is not None else (np.nan, np.nan)
            values = {"location": ch.location or group.location, "group": group, "group_name": group.name}
            values |= {"channel_name": ch.name, "rel_x": float(x), "rel_y": float(y)}
            values |= {"contact_id": ch.contact_id or "", "shank": ch.shank or ""}
            for name, column in self.columns.items():
                column.append(values[name])
            self.rows[key] = len(self.rows)
        return self.rows[key]

    def write(self) -> None:
        """Make the file's electrodes table from the collected rows."""
        from hdmf.common import VectorData
        from pynwb.ecephys import ElectrodesTable

        described = {c["name"]: c["description"] for c in ElectrodesTable.__columns__}
        described |= {
            "channel_name": "Channel name in the source recording",
            "contact_id": "Probe contact id, shared by streams of one site",
            "shank": "Probe shank id",
        }
        columns = [VectorData(name=n, description=described[n], data=v) for n, v in self.columns.items()]
        self.nwbfile.set_electrode_table(ElectrodesTable(id=list(range(len(self.rows))), columns=columns))

    def _group(self, rec: Recording, ch: Channel) -> Any:
        name = electrode_group_name(rec, ch)
        if name not in self.groups:
            device = self.devices.get(rec.device) or next(iter(self.devices.values()))
            given = self.groups_metadata.get(name, ElectrodeGroupLayer())
            self.groups[name] = self.nwbfile.create_electrode_group(
                name=name,
                description=given.description or f"Electrodes recorded by {device.name}",
                location=given.location or "unknown",
                device=device,
            )
        return self.groups[name]
