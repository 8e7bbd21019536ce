"""Build the pynwb structure the plan describes: devices, electrodes, series (data stays lazy), provenance."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from nwbconvert.metadata.model import NwbMetadata
from nwbconvert.model import Recording, Session, SignalKind, Sorting
from nwbconvert.nwbtypes import LFP_GROUP, SeriesType, Timing
from nwbconvert.plan import Plan, SeriesPlan
from nwbconvert.plan_imaging import MoviePlan
from nwbconvert.provenance import Provenance
from nwbconvert.units import camel, volt_factor
from nwbconvert.writer.compression import WriteOptions
from nwbconvert.writer.electrodes import Electrodes
from nwbconvert.writer.events import add_events
from nwbconvert.writer.frames import MovieIterator, MovieRows
from nwbconvert.writer.parallel import DeferredSeries
from nwbconvert.writer.samples import Progress
from nwbconvert.writer.traces import TimestampsIterator, TracesIterator
from nwbconvert.writer.units import add_units

if TYPE_CHECKING:
    from hdmf.data_utils import GenericDataChunkIterator


def build_nwbfile(
    plan: Plan,
    provenance: Provenance,
    progress: Progress | None,
    write: WriteOptions = WriteOptions(),
    deferred: list[DeferredSeries] | None = None,
    wrapping: DataWrapping | None = None,
) -> Any:
    """An in-memory NWBFile holding exactly the plan's series, which read their samples while being written.

    With gzip or no compression the traces datasets are only declared; `deferred` receives them so that
    `writer.parallel.fill` can write their chunks on every core once pynwb has written the file.
    `wrapping` says how bulk datasets are declared for another backend (default: HDF5, see `Hdf5Wrapping`).
    """
    wrap = wrapping or Hdf5Wrapping(progress, write, deferred if deferred is not None else [])
    nwbfile = _nwbfile(plan.metadata, provenance)
    devices = _devices(nwbfile, plan.session)
    electrical = plan.of_type(SeriesType.ELECTRICAL)
    sortings, probes = _sorted_alone(plan.session.sortings)
    rows = _electrode_rows(nwbfile, devices, plan, electrical, probes)
    for entry in plan.series:
        if entry.neurodata_type is SeriesType.ELECTRICAL:
            series = _electrical_series(nwbfile, entry, rows[entry.name], wrap)
            if entry.group == LFP_GROUP:
                _lfp(nwbfile).add_electrical_series(series)
            else:
                nwbfile.add_acquisition(series)
        elif entry.neurodata_type is SeriesType.TIME:
            nwbfile.add_acquisition(_time_series(entry, wrap))
    sweeps = [s for s in plan.series if s.neurodata_type.is_clamp]
    if sweeps:
        from nwbconvert.writer.icephys import add_intracellular

        add_intracellular(nwbfile, sweeps, devices, progress, wrap.sweep)
    if plan.imaging.planes:
        from nwbconvert.writer.ophys import add_imaging

        add_imaging(nwbfile, plan.imaging, wrap)
    if plan.behavior:
        from nwbconvert.writer.behavior import add_behavior

        add_behavior(nwbfile, plan.behavior, wrap)
    add_events(nwbfile, plan.session.events)
    add_units(nwbfile, sortings, _unit_rows(electrical, probes, rows))
    return nwbfile


def _nwbfile(metadata: NwbMetadata, provenance: Provenance) -> Any:
    """The NWBFile with the session's and subject's metadata and the provenance."""
    from pynwb import NWBFile
    from pynwb.file import Subject

    s = metadata.subject
    return NWBFile(
        session_description=metadata.session_description,
        identifier=metadata.identifier,
        session_start_time=metadata.session_start_time,
        session_id=metadata.session_id,
        experimenter=metadata.experimenter,
        lab=metadata.lab,
        institution=metadata.institution,
        keywords=metadata.keywords,
        experiment_description=metadata.experiment_description,
        source_script=provenance.to_json(),
        source_script_file_name="nwbconvert",
        was_generated_by=provenance.was_generated_by(),
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


def _devices(nwbfile: Any, session: Session) -> dict[str, Any]:
    """The session's devices (one named after the reader when it names none and has electrodes to place on one; a
    behavior or imaging source brings its own cameras and microscopes)."""
    devices = {
        d.name: nwbfile.create_device(d.name, d.description or None, d.manufacturer or None) for d in session.devices
    }
    if not devices and session.has_electrodes:
        devices[session.reader] = nwbfile.create_device(session.reader, f"Recorded with {session.reader}")
    return devices


def _electrode_rows(
    nwbfile: Any, devices: dict[str, Any], plan: Plan, electrical: list[SeriesPlan], probes: list[Recording]
) -> dict[str, list[int]]:
    """The electrodes table (when there are electrical series, or sortings read with their channels) and the rows
    of each electrical series (and each such sorting's channels) in it."""
    if not electrical and not probes:
        return {}
    recordings = [s.recording for s in electrical] + probes
    channels = [ch for rec in recordings for ch in rec.channels]
    electrodes = Electrodes(nwbfile, devices, channels, plan.metadata.electrode_groups)
    rows = {s.name: [electrodes.row(s.recording, ch) for ch in s.recording.channels] for s in electrical}
    rows |= {rec.name: [electrodes.row(rec, ch) for ch in rec.channels] for rec in probes}
    electrodes.write()
    return rows


def _sorted_alone(sortings: tuple[Sorting, ...]) -> tuple[tuple[Sorting, ...], list[Recording]]:
    """Sortings read without a recording that carry their own channels (`Sorting.channels`): each
    gets a sample-less stand-in recording whose channels become electrode rows, and points its units at it."""
    probes: list[Recording] = []
    out = []
    for sorting in sortings:
        channels = sorting.channels
        if sorting.recording is None and channels:
            name = f"Units{camel(sorting.name)}"  # a stand-in's name: never a series, only a key (and a group name)
            probes.append(Recording(name, name, SignalKind.EXTRACELLULAR, "uV", 1.0, channels, (), device="probe"))
            sorting = replace(sorting, recording=name)
        out.append(sorting)
    return tuple(out), probes


def _unit_rows(
    electrical: list[SeriesPlan], probes: list[Recording], rows: dict[str, list[int]]
) -> dict[tuple[str, str], int]:
    """(series name or stream id, channel id) -> electrode row, for linking units to the electrodes they were
    found on (a stream's id names the row of its first series, e.g. AP before LF)."""
    found: dict[tuple[str, str], int] = {}
    for entry in electrical:
        for ch, row in zip(entry.recording.channels, rows[entry.name]):
            found[(entry.name, ch.id)] = found.setdefault((entry.stream_id, ch.id), row)
    for rec in probes:
        found |= {(rec.name, ch.id): row for ch, row in zip(rec.channels, rows[rec.name])}
    return found


def _lfp(nwbfile: Any) -> Any:
    """The LFP container in processing/ecephys (created on first use)."""
    from pynwb.ecephys import LFP

    module = nwbfile.processing.get("ecephys") or nwbfile.create_processing_module(
        "ecephys", "Processed extracellular electrophysiology: low-pass (LFP) bands recorded by the source."
    )
    if "LFP" not in module.data_interfaces:
        module.add(LFP(name="LFP"))
    return module["LFP"]


def _timing(entry: SeriesPlan, wrapping: DataWrapping) -> dict[str, Any]:
    if entry.timing is Timing.RATE:
        return {"rate": entry.sampling_rate_hz, "starting_time": entry.t_start_s}
    return {"timestamps": wrapping.timestamps(entry.recording)}


class DataWrapping(Protocol):
    """How the bulk datasets of a file are declared for one storage backend (filters, chunks, deferred fills)."""

    progress: Progress | None  # raw source bytes read (what the plan's raw_bytes counts)

    def traces(self, entry: SeriesPlan) -> Any:
        """The `data` of a continuous series, written at `entry.data_path`."""
        ...

    def timestamps(self, rec: Recording) -> Any:
        """The `timestamps` of a recording with gaps."""
        ...

    def sweep(self, iterator: GenericDataChunkIterator) -> Any:
        """The `data` of one intracellular sweep."""
        ...

    def movie(self, entry: MoviePlan) -> Any:
        """The `data` of a TwoPhotonSeries / OnePhotonSeries, written at `entry.data_path`."""
        ...

    def signal(self, values: np.ndarray) -> Any:
        """The data or time stamps of a behavioral signal, with the conversion's compression."""
        ...


class Hdf5Wrapping:
    """HDF5: traces declared for a later parallel fill (gzip, none), or streamed through HDF5's filters."""

    def __init__(self, progress: Progress | None, write: WriteOptions, deferred: list[DeferredSeries]) -> None:
        self.progress, self.write, self.deferred = progress, write, deferred

    def traces(self, entry: SeriesPlan) -> Any:
        rec = entry.recording
        iterator = TracesIterator(rec, self.progress, self.write.chunk_bytes, deferred=self.write.direct)
        if self.write.direct:
            self.deferred.append(DeferredSeries.of_recording(entry.data_path, rec, iterator.layout))
        return self._chosen(iterator)

    def timestamps(self, rec: Recording) -> Any:
        from hdmf.backends.hdf5 import H5DataIO

        return H5DataIO(TimestampsIterator(rec), compression="gzip", compression_opts=4)

    def sweep(self, iterator: GenericDataChunkIterator) -> Any:
        return self._chosen(iterator)

    def movie(self, entry: MoviePlan) -> Any:
        iterator = MovieIterator(entry.movie, self.progress, self.write.chunk_bytes, deferred=self.write.direct)
        if self.write.direct:
            rows = MovieRows(entry.movie)
            self.deferred.append(DeferredSeries(entry.data_path, rows, iterator.layout, entry.frame_shape))
        return self._chosen(iterator)

    def signal(self, values: np.ndarray) -> Any:
        if not values.size or not self.write.dataset_options():  # HDF5 cannot chunk an empty dataset
            return values
        return self._chosen(values)

    def _chosen(self, data: GenericDataChunkIterator | np.ndarray) -> Any:
        """The iterator or array stored with the compression the user chose (hdmf's advice against lzf, which the
        --compression help already gives, is not repeated as a Python warning)."""
        import warnings

        from hdmf.backends.hdf5 import H5DataIO

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*compression may not be available", category=UserWarning)
            return H5DataIO(data, **self.write.dataset_options())


def _electrical_series(nwbfile: Any, entry: SeriesPlan, rows: list[int], wrapping: DataWrapping) -> Any:
    from pynwb.ecephys import ElectricalSeries

    rec = entry.recording
    factor = volt_factor(rec.unit)
    assert factor is not None
    region = nwbfile.create_electrode_table_region(rows, f"Electrodes of {entry.name}")
    return ElectricalSeries(
        name=entry.name,
        description=rec.description,
        data=wrapping.traces(entry),
        electrodes=region,
        conversion=factor,
        channel_conversion=np.array([ch.gain for ch in rec.channels], dtype="float64"),
        offset=_uniform([ch.offset for ch in rec.channels], rec, "offset") * factor,
        **_timing(entry, wrapping),
    )


def _time_series(entry: SeriesPlan, wrapping: DataWrapping) -> Any:
    from pynwb import TimeSeries

    rec = entry.recording
    factor = volt_factor(rec.unit)
    gain = _uniform([ch.gain for ch in rec.channels], rec, "gain")
    offset = _uniform([ch.offset for ch in rec.channels], rec, "offset")
    names = ", ".join(ch.name for ch in rec.channels)
    return TimeSeries(
        name=entry.name,
        description=f"{rec.description} Columns: {names}.",
        data=wrapping.traces(entry),
        unit="volts" if factor is not None else (rec.unit or "n.a."),
        conversion=gain * (factor or 1.0),
        offset=offset * (factor or 1.0),
        **_timing(entry, wrapping),
    )


def _uniform(values: list[float], rec: Recording, what: str) -> float:
    if any(v != values[0] for v in values):
        raise ValueError(f"{rec.name}: channels differ in {what}; the reader must split them")
    return values[0]
