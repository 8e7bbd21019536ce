"""Build the pynwb structure of a session: devices, electrodes, series (data stays lazy), provenance."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from nwbconvert.metadata.model import ElectrodeGroupLayer, NwbMetadata
from nwbconvert.model import Channel, Recording, Session, SignalKind
from nwbconvert.units import volt_factor
from nwbconvert.writer.compression import WriteOptions
from nwbconvert.writer.events import add_events
from nwbconvert.writer.parallel import DeferredSeries
from nwbconvert.writer.places import LFP_GROUP, check_electrode_groups, data_path, electrode_group_name, traces_group
from nwbconvert.writer.samples import Progress
from nwbconvert.writer.traces import TimestampsIterator, TracesIterator
from nwbconvert.writer.units import add_units

if TYPE_CHECKING:
    from hdmf.data_utils import GenericDataChunkIterator


def build_nwbfile(
    session: Session,
    metadata: NwbMetadata,
    provenance_json: str,
    progress: Progress | None,
    write: WriteOptions = WriteOptions(),
    deferred: list[DeferredSeries] | None = None,
    wrapping: DataWrapping | None = None,
) -> Any:
    """An in-memory NWBFile whose series read their samples from the source while being written.

    With gzip or no compression the traces datasets are only declared; `deferred` receives them so that
    `writer.parallel.fill` can write their chunks on every core once pynwb has written the file.
    `wrapping` says how bulk datasets are declared for another backend (default: HDF5, see `Hdf5Wrapping`).
    """
    wrap = wrapping or Hdf5Wrapping(progress, write, deferred if deferred is not None else [])
    from pynwb import NWBFile
    from pynwb.file import Subject

    s = metadata.subject
    nwbfile = NWBFile(
        session_description=metadata.session_description,
        identifier=metadata.identifier,
        session_start_time=metadata.session_start_time,
        session_id=metadata.session_id,
        experimenter=metadata.experimenter,
        lab=metadata.lab,
        institution=metadata.institution,
        keywords=metadata.keywords,
        experiment_description=metadata.experiment_description,
        source_script=provenance_json,
        source_script_file_name="nwbconvert",
        subject=Subject(
            subject_id=s.subject_id,
            species=s.species,
            sex=s.sex,
            age=s.age,
            date_of_birth=s.date_of_birth,
            weight=s.weight,
            description=s.description,
            strain=s.strain,
            genotype=s.genotype,
        ),
    )
    devices = {
        d.name: nwbfile.create_device(d.name, d.description or None, d.manufacturer or None) for d in session.devices
    }
    if not devices:
        devices[session.reader] = nwbfile.create_device(session.reader, f"Recorded with {session.reader}")
    check_electrode_groups(session, metadata)
    ecephys = [r for r in session.recordings if r.is_electrical]
    channels = [ch for r in ecephys for ch in r.channels]
    electrodes = _Electrodes(nwbfile, devices, channels, metadata.electrode_groups) if ecephys else None
    series_rows = {rec.name: [electrodes.row(rec, ch) for ch in rec.channels] for rec in ecephys} if electrodes else {}
    if electrodes is not None:
        electrodes.write()
    electrode_rows: dict[tuple[str, str], int] = {}
    for rec in session.recordings:
        place = traces_group(rec)  # None: an intracellular sweep, written below
        if place is not None and rec.is_electrical:
            rows = series_rows[rec.name]
            for ch, row in zip(rec.channels, rows):
                electrode_rows[(rec.name, ch.id)] = electrode_rows.setdefault((rec.stream_id, ch.id), row)
            series = _electrical_series(nwbfile, rec, rows, wrap.traces(rec, place), wrap)
            if place == LFP_GROUP:
                _lfp(nwbfile).add_electrical_series(series)
            else:
                nwbfile.add_acquisition(series)
        elif place is not None:
            nwbfile.add_acquisition(_time_series(rec, wrap.traces(rec, place), wrap))
    intracellular = [r for r in session.recordings if r.kind is SignalKind.INTRACELLULAR]
    if intracellular:
        from nwbconvert.writer.icephys import add_intracellular

        add_intracellular(nwbfile, intracellular, devices, progress, write, wrap.sweep)
    add_events(nwbfile, session.events)
    add_units(nwbfile, session.sortings, electrode_rows)
    return nwbfile


def _lfp(nwbfile: Any) -> Any:
    """The LFP container in processing/ecephys (created on first use)."""
    from pynwb.ecephys import LFP

    module = nwbfile.processing.get("ecephys") or nwbfile.create_processing_module(
        "ecephys", "Processed extracellular electrophysiology: low-pass (LFP) bands recorded by the source."
    )
    if "LFP" not in module.data_interfaces:
        module.add(LFP(name="LFP"))
    return module["LFP"]


def _timing(rec: Recording, wrapping: DataWrapping) -> dict[str, Any]:
    if rec.is_contiguous:
        return {"rate": rec.sampling_rate_hz, "starting_time": rec.t_start_s}
    return {"timestamps": wrapping.timestamps(rec)}


class DataWrapping(Protocol):
    """How the bulk datasets of a file are declared for one storage backend (filters, chunks, deferred fills)."""

    def traces(self, rec: Recording, group: str) -> Any:
        """The `data` of the series of `rec`, written at `/{group}/{rec.name}/data`."""
        ...

    def timestamps(self, rec: Recording) -> Any:
        """The `timestamps` of a recording with gaps."""
        ...

    def sweep(self, iterator: GenericDataChunkIterator) -> Any:
        """The `data` of one intracellular sweep."""
        ...


class Hdf5Wrapping:
    """HDF5: traces declared for a later parallel fill (gzip, none), or streamed through HDF5's filters."""

    def __init__(self, progress: Progress | None, write: WriteOptions, deferred: list[DeferredSeries]) -> None:
        self.progress, self.write, self.deferred = progress, write, deferred

    def traces(self, rec: Recording, group: str) -> Any:
        from hdmf.backends.hdf5 import H5DataIO

        iterator = TracesIterator(rec, self.progress, self.write.chunk_bytes, deferred=self.write.direct)
        if self.write.direct:
            self.deferred.append(DeferredSeries(data_path(group, rec), rec, iterator.layout))
        return H5DataIO(iterator, **self.write.dataset_options())

    def timestamps(self, rec: Recording) -> Any:
        from hdmf.backends.hdf5 import H5DataIO

        return H5DataIO(TimestampsIterator(rec), compression="gzip", compression_opts=4)

    def sweep(self, iterator: GenericDataChunkIterator) -> Any:
        from hdmf.backends.hdf5 import H5DataIO

        return H5DataIO(iterator, **self.write.dataset_options())


def _electrical_series(nwbfile: Any, rec: Recording, rows: list[int], data: Any, wrapping: DataWrapping) -> Any:
    from pynwb.ecephys import ElectricalSeries

    factor = volt_factor(rec.unit)
    assert factor is not None
    region = nwbfile.create_electrode_table_region(rows, f"Electrodes of {rec.name}")
    return ElectricalSeries(
        name=rec.name,
        description=rec.description,
        data=data,
        electrodes=region,
        conversion=factor,
        channel_conversion=np.array([ch.gain for ch in rec.channels], dtype="float64"),
        offset=_uniform([ch.offset for ch in rec.channels], rec, "offset") * factor,
        **_timing(rec, wrapping),
    )


def _time_series(rec: Recording, data: Any, wrapping: DataWrapping) -> Any:
    from pynwb import TimeSeries

    factor = volt_factor(rec.unit)
    gain = _uniform([ch.gain for ch in rec.channels], rec, "gain")
    offset = _uniform([ch.offset for ch in rec.channels], rec, "offset")
    names = ", ".join(ch.name for ch in rec.channels)
    return TimeSeries(
        name=rec.name,
        description=f"{rec.description} Columns: {names}.",
        data=data,
        unit="volts" if factor is not None else (rec.unit or "n.a."),
        conversion=gain * (factor or 1.0),
        offset=offset * (factor or 1.0),
        **_timing(rec, wrapping),
    )


def _uniform(values: list[float], rec: Recording, what: str) -> float:
    if any(v != values[0] for v in values):
        raise ValueError(f"{rec.name}: channels differ in {what}; the reader must split them")
    return values[0]


class _Electrodes:
    """Rows of the electrodes table, shared by series that record the same contacts (e.g. AP and LF).

    An electrode group's `location` (brain area) and `description` come from the metadata's
    `electrode_groups.<name>` when given; the location is also each of its rows' `location`. Rows are collected
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
            values = {"location": group.location, "group": group, "group_name": group.name}
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
