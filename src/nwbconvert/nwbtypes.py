"""Which NWB type, place and timing a sampled recording becomes: the one rule, used by the plan.

No pynwb here: readers name their series after these types and the plan is made before pynwb is imported.
"""

from __future__ import annotations

from enum import Enum

from nwbconvert.model import Recording, SignalKind
from nwbconvert.units import ampere_factor, volt_factor

ACQUISITION = "acquisition"
LFP_GROUP = "processing/ecephys/LFP"


class SeriesType(str, Enum):
    """The NWB neurodata type of one written series."""

    ELECTRICAL = "ElectricalSeries"
    TIME = "TimeSeries"
    VOLTAGE_CLAMP = "VoltageClampSeries"  # a current measured under voltage clamp
    CURRENT_CLAMP = "CurrentClampSeries"  # a voltage measured under current clamp

    def __str__(self) -> str:
        return self.value

    @property
    def is_clamp(self) -> bool:
        return self in (SeriesType.VOLTAGE_CLAMP, SeriesType.CURRENT_CLAMP)


class Timing(str, Enum):
    """How a series' sample times are written."""

    RATE = "rate"  # rate + starting_time: a gap-free clock
    TIMESTAMPS = "timestamps"  # one time per sample: segments with gaps

    def __str__(self) -> str:
        return self.value


def series_type(kind: SignalKind, unit: str) -> SeriesType:
    """Electrode voltages are ElectricalSeries, patch-clamp channels clamp series, everything else TimeSeries."""
    if kind is SignalKind.INTRACELLULAR:
        return SeriesType.VOLTAGE_CLAMP if ampere_factor(unit) is not None else SeriesType.CURRENT_CLAMP
    if kind in (SignalKind.EXTRACELLULAR, SignalKind.LFP) and volt_factor(unit) is not None:
        return SeriesType.ELECTRICAL
    return SeriesType.TIME


def series_group(kind: SignalKind, unit: str) -> str:
    """LFP bands recorded as their own stream go to processing/ecephys/LFP, every other series to acquisition."""
    if kind is SignalKind.LFP and series_type(kind, unit) is SeriesType.ELECTRICAL:
        return LFP_GROUP
    return ACQUISITION


def timing(rec: Recording) -> Timing:
    """Rate + start where the clock runs without gaps, else timestamps (a sweep is one segment: always rate)."""
    if rec.kind is SignalKind.INTRACELLULAR or rec.is_contiguous:
        return Timing.RATE
    return Timing.TIMESTAMPS
