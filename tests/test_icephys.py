"""Axon ABF files convert to clamp series, one per sweep and channel, equal to neo sample for sample."""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

from cli_runner import nwbconvert
from conftest import COMPLETE_METADATA, realdata
from helpers import assert_valid, converted_once, provenance
from nwbconvert.readers import registry
from nwbconvert.readers.base import Match, ReadOptions
from nwbconvert.readers.icephys import AxonReader, WinWcpReader

SI = {"pA": 1e-12, "nA": 1e-9, "mV": 1e-3, "V": 1.0}
CLAMP = {"pA": "VoltageClampSeries", "nA": "VoltageClampSeries", "mV": "CurrentClampSeries", "V": "CurrentClampSeries"}


@dataclass(frozen=True)
class Case:
    id: str
    path: Callable[[], Path]
    n_channels: int
    n_sweeps: int
    n_clamp_channels: int  # channels in a current or voltage unit (the others are TimeSeries)
    rec_datetime: dt.datetime


CASES = [
    Case(
        "abf1-episodic",
        lambda: realdata("abf/05210017_vc_abf1.abf"),
        2,
        6,
        2,
        dt.datetime(2005, 2, 10, 15, 52, 55, 328000),
    ),
    Case(
        "abf2-gapfree",
        lambda: realdata("abf/16d22006_kim_gapfree.abf"),
        2,
        1,
        1,  # 'IN 2' is in dB according to neo: a TimeSeries
        dt.datetime(2016, 12, 22, 14, 39, 47, 944999),
    ),
]


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Case], Path]:
    """Convert each case once (format detected, complete metadata) and return the NWB path."""
    return converted_once(tmp_path_factory)


def _neo(path: Path) -> Any:
    from neo.rawio import AxonRawIO

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rawio = AxonRawIO(filename=str(path))
        rawio.parse_header()
    return rawio


def _attr(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass(frozen=True)
class Written:
    """One series of /acquisition as stored."""

    name: str
    neurodata_type: str
    description: str
    data: np.ndarray
    conversion: float
    offset: float
    unit: str
    rate: float
    starting_time: float
    sweep_number: int | None
    electrode: str | None


def _written(path: Path) -> dict[str, Written]:
    out = {}
    with h5py.File(path, "r") as f:
        for name, g in f["acquisition"].items():
            d = g["data"]
            out[name] = Written(
                name=name,
                neurodata_type=_attr(g.attrs["neurodata_type"]),
                description=_attr(g.attrs["description"]),
                data=d[()],
                conversion=float(d.attrs["conversion"]),
                offset=float(d.attrs.get("offset", 0.0)),
                unit=_attr(d.attrs["unit"]),
                rate=float(g["starting_time"].attrs["rate"]),
                starting_time=float(g["starting_time"][()]),
                sweep_number=int(g.attrs["sweep_number"]) if "sweep_number" in g.attrs else None,
                electrode=f[g["electrode"].ref].name.rsplit("/", 1)[-1] if "electrode" in g else None,
            )
    return out


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_detection_and_header(case: Case) -> None:
    assert registry.detect(case.path()).name == "axon"
    session = AxonReader().read(case.path(), ReadOptions())
    assert session.header.session_start_time == case.rec_datetime
    assert sum(len(r.channels) for r in session.recordings) == case.n_channels


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_one_series_per_sweep_and_channel_equal_to_neo(case: Case, converted: Callable[[Case], Path]) -> None:
    out = converted(case)
    series = _written(out)
    rawio = _neo(case.path())
    chans = rawio.header["signal_channels"]
    assert rawio.segment_count(0) == case.n_sweeps
    assert len(series) == case.n_channels * case.n_sweeps
    clamp = [s for s in series.values() if s.neurodata_type != "TimeSeries"]
    assert len(clamp) == case.n_clamp_channels * case.n_sweeps
    for index, ch in enumerate(chans):
        unit, name = str(ch["units"]), str(ch["name"])
        mine = sorted(
            (s for s in series.values() if f"'{name}'" in s.description or f"Columns: {name}." in s.description),
            key=lambda s: s.starting_time,
        )
        assert len(mine) == case.n_sweeps, name
        for sweep, s in enumerate(mine):
            assert s.neurodata_type == CLAMP.get(unit, "TimeSeries"), (name, unit)
            raw = rawio.get_analogsignal_chunk(0, sweep, None, None, 0, [index])[:, 0]
            expected = rawio.rescale_signal_raw_to_float(raw[:, None], "float64", 0, [index])[:, 0]
            data = s.data if s.neurodata_type != "TimeSeries" else s.data[:, 0]  # (samples, 1) TimeSeries
            assert data.ndim == 1 and data.dtype == raw.dtype
            np.testing.assert_array_equal(data, raw)
            assert s.starting_time == rawio.get_signal_t_start(0, sweep, 0)
            assert s.rate == rawio.get_signal_sampling_rate(0)
            if unit in SI:
                assert s.unit == ("amperes" if unit.endswith("A") else "volts")
                assert s.sweep_number == sweep
                assert s.electrode == "Electrode" + name.replace(" ", "")
                np.testing.assert_allclose(data * s.conversion + s.offset, expected * SI[unit], rtol=1e-12, atol=0)
            else:
                assert s.unit == unit and s.sweep_number is None
                np.testing.assert_allclose(data * s.conversion + s.offset, expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_icephys_tables_and_validity(case: Case, converted: Callable[[Case], Path]) -> None:
    from pynwb import NWBHDF5IO

    out = converted(case)
    with NWBHDF5IO(str(out), "r") as io:
        nwb = io.read()
        assert len(nwb.icephys_electrodes) == case.n_clamp_channels
        recordings = nwb.intracellular_recordings
        assert len(recordings) == case.n_clamp_channels * case.n_sweeps
        assert len(nwb.icephys_simultaneous_recordings) == case.n_sweeps
        assert len(nwb.icephys_sequential_recordings) == 1
        responses = recordings.category_tables["responses"]["response"].data[:]
        electrodes = recordings.category_tables["electrodes"]["electrode"].data[:]
        for (start, count, series), electrode in zip(responses, electrodes, strict=True):
            assert start == 0 and count == series.data.shape[0] and series.electrode is electrode
        # each simultaneous recording holds the rows of one sweep: every channel, one start time
        simultaneous = nwb.icephys_simultaneous_recordings["recordings"]
        ends, rows = simultaneous.data[:], simultaneous.target.data[:]
        sweep_starts = []
        for lo, hi in zip([0, *ends[:-1]], ends):
            members = [responses[i][2] for i in rows[lo:hi]]
            assert len({m.electrode.name for m in members}) == case.n_clamp_channels == len(members)
            assert len({m.starting_time for m in members}) == 1
            sweep_starts.append(members[0].starting_time)
        assert sweep_starts == [_neo(case.path()).get_signal_t_start(0, i, 0) for i in range(case.n_sweeps)]
        sequential = nwb.icephys_sequential_recordings["simultaneous_recordings"]
        assert list(sequential.data[:]) == [case.n_sweeps]
        assert list(sequential.target.data[:]) == list(range(case.n_sweeps))
    assert provenance(out)["reader"] == "axon"
    assert_valid(out)


def test_cli_convert_and_validate(tmp_path: Path) -> None:
    """The session start comes from the ABF header (given a timezone); the output validates."""
    out = tmp_path / "abf1.nwb"
    subject = [f"--set={kv}" for kv in COMPLETE_METADATA if not kv.startswith("session_start_time")]
    dry = nwbconvert("convert", CASES[0].path(), *subject, "--timezone", "UTC", "--dry-run")
    assert dry.returncode == 0 and "VoltageClampSeries" in dry.stdout, dry.stdout + dry.stderr
    result = nwbconvert("convert", CASES[0].path(), "-o", out, *subject, "--timezone", "UTC", "-q")
    assert result.returncode == 0, result.stderr
    checked = nwbconvert("validate", out)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    with h5py.File(out, "r") as f:
        assert len(f["acquisition"]) == 12
        start = dt.datetime.fromisoformat(_attr(f["session_start_time"][()]))
    assert start == CASES[0].rec_datetime.replace(tzinfo=dt.timezone.utc)


def test_probe_needs_magic_bytes(tmp_path: Path) -> None:
    fake = tmp_path / "notes.abf"
    fake.write_bytes(b"not an ABF file")
    assert AxonReader().probe(fake) is Match.SUFFIX
    assert AxonReader().probe(CASES[1].path()) is Match.CONTENT
    wcp = tmp_path / "run.wcp"
    wcp.write_bytes(b"VER=9\r\nNC=1\r\n")
    assert WinWcpReader().probe(wcp) is Match.CONTENT
    assert WinWcpReader().probe(tmp_path / "x.txt") is Match.NO
