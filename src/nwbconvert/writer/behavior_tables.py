"""Interval tables and behavioral signals -> pynwb.

`trials` becomes nwbfile.trials (`epochs` and `invalid_times` their own tables), any other table a
`TimeIntervals` in intervals/; each column keeps its type (bool, int, float, text) and its description. Signals
go to processing/behavior by role: POSITION -> `SpatialSeries` in `Position`, TIMESERIES -> `TimeSeries` in
`BehavioralTimeSeries`, EVENTS -> `TimeSeries` of event times in `BehavioralEvents`; a signal with a rate is
written with starting_time and rate, any other with its time stamps. Events stay in `BehavioralEvents` (the
behavior IR's rule, which DANDI's behavior dandisets and readers expect), although pynwb 4 deprecates it for the
core `EventsTable`: its warning is held back, the choice is made here.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from nwbconvert.behavior import BehaviorSignal, IntervalTable, SignalRole
from nwbconvert.plan_behavior import BehaviorPlan

if TYPE_CHECKING:
    from nwbconvert.writer.nwbfile import DataWrapping

OWN_TABLES = ("trials", "epochs", "invalid_times")  # NWBFile's own TimeIntervals
CONTAINERS = {  # role -> (pynwb container class name, its name in processing/behavior)
    SignalRole.POSITION: ("Position", "Position"),
    SignalRole.TIMESERIES: ("BehavioralTimeSeries", "BehavioralTimeSeries"),
    SignalRole.EVENTS: ("BehavioralEvents", "BehavioralEvents"),
}


def add_tables_and_signals(nwbfile: Any, plan: BehaviorPlan, wrap: DataWrapping) -> None:
    """Every interval table of the plan (trials first as nwbfile.trials), then every behavioral signal."""
    for table in plan.tables:
        intervals = time_intervals(table)
        if table.name in OWN_TABLES:
            setattr(nwbfile, table.name, intervals)
        else:
            nwbfile.add_time_intervals(intervals)
    if plan.signals:
        from nwbconvert.writer.behavior import behavior_module

        module = behavior_module(nwbfile)
        for signal in plan.signals:
            container = _container(module, signal.role)
            add = container.add_spatial_series if signal.role is SignalRole.POSITION else container.add_timeseries
            add(_series(signal, wrap))


def time_intervals(table: IntervalTable) -> Any:
    """A TimeIntervals of the table's rows: start_time, stop_time, then each column with its own type."""
    from hdmf.common import VectorData
    from pynwb.epoch import TimeIntervals

    columns = [
        VectorData(name="start_time", description="Start time of the interval, in seconds.", data=table.start_s),
        VectorData(name="stop_time", description="Stop time of the interval, in seconds.", data=table.stop_s),
    ]
    for column in table.columns:
        description = column.description or f"The {column.name} column."
        columns.append(VectorData(name=column.name, description=description, data=_column_data(column.values)))
    description = table.description or f"Intervals from {table.source}."
    return TimeIntervals(name=table.name, description=description, columns=columns)


def _column_data(values: np.ndarray) -> Any:
    """Text as a list of str (variable-length strings); numbers and booleans as they are."""
    if values.dtype == object or values.dtype.kind in "US":
        return [str(v) for v in values]
    return values


def _container(module: Any, role: SignalRole) -> Any:
    """The role's container in processing/behavior, made on first use."""
    import pynwb.behavior

    kind, name = CONTAINERS[role]
    if name not in module.data_interfaces:
        with warnings.catch_warnings():  # pynwb 4 deprecates BehavioralEvents for EventsTable: written by choice
            warnings.filterwarnings("ignore", message="BehavioralEvents is deprecated", category=UserWarning)
            module.add(getattr(pynwb.behavior, kind)(name=name))
    return module[name]


def _series(signal: BehaviorSignal, wrap: DataWrapping) -> Any:
    """The signal's series, its data and time stamps stored with the conversion's compression."""
    from pynwb import TimeSeries
    from pynwb.behavior import SpatialSeries

    times = signal.times
    data = wrap.signal(np.asarray(signal.data))
    timing: dict[str, Any] = (
        {"timestamps": wrap.signal(np.asarray(times.timestamps_s))}
        if times.timestamps_s is not None
        else {"starting_time": float(times.t_start_s), "rate": float(times.rate_hz or 0.0)}
    )
    description = signal.description or f"{signal.name} from {signal.source}."
    if signal.role is SignalRole.POSITION:
        return SpatialSeries(
            name=signal.name,
            data=data,
            reference_frame=signal.reference_frame or "as recorded in the source file (not stated there)",
            unit=signal.unit,
            description=description,
            **timing,
        )
    return TimeSeries(name=signal.name, data=data, unit=signal.unit, description=description, **timing)
